import { describe, expect, it } from 'vitest';
import type { DownlinkPacket, EventRecord } from '../../../src/core/bus.js';
import { VirtualClock } from '../../../src/core/clock.js';
import { defineComponent, type SystemMode } from '../../../src/core/component.js';
import { buildDictionary, DictionaryError } from '../../../src/core/dictionary.js';
import { FlightStack } from '../../../src/core/executive.js';
import { silentLogger } from '../../../src/core/log.js';
import { memoryStateStore, type StateStore } from '../../../src/core/persistence.js';
import { AckFlags, decodeTmPacket } from '../../../src/link/pus.js';
import { decodeVerification } from '../../../src/link/pus-services.js';
import { commanding } from '../../../src/services/commanding/commanding.js';
import { modes } from '../../../src/services/modes/modes.js';
import { uplink } from '../../support/uplink.js';

function node(store: StateStore) {
  const clock = new VirtualClock();
  const stack = FlightStack.start({
    components: [modes, commanding],
    clock,
    store,
    logger: silentLogger(clock),
  });
  const events: EventRecord[] = [];
  stack.bus.events$.subscribe((e) => events.push(e));
  const failures: string[] = [];
  stack.bus.downlink$.subscribe((p: DownlinkPacket) => {
    const tm = decodeTmPacket(p.bytes);
    if (!tm.ok || tm.value.service !== 1 || tm.value.subtype % 2 === 1) return;
    const v = decodeVerification(tm.value.subtype, tm.value.sourceData);
    if (v.ok) failures.push(`(1,${tm.value.subtype}) code ${v.value.code}: ${v.value.reason}`);
  });
  const tc = uplink(stack, { ack: AckFlags.all });
  const perform = (name: string, args: Record<string, unknown>) => tc.perform(name, args);
  const settle = tc.settle;
  return { clock, stack, events, failures, perform, settle };
}

describe('system modes', () => {
  it('starts NOMINAL, changes by command with an event, and keeps the mode across a restart', async () => {
    const store = memoryStateStore();
    const first = node(store);
    expect(first.stack.mode).toBe('NOMINAL');
    first.perform('modes.SET_MODE', { mode: 'SAFE' });
    await first.settle();
    expect(first.stack.mode).toBe('SAFE');
    expect(first.events.find((e) => e.name === 'modes.MODE_CHANGED')?.message).toBe(
      'mode NOMINAL -> SAFE: commanded by ground',
    );
    const seen: SystemMode[] = [];
    first.stack.bus
      .valuesOf({ id: 0x0601, name: 'modes.mode', type: modes.telemetry.mode.type })
      .subscribe((m) => seen.push(m));
    first.clock.advanceBy(1000);
    expect(seen).toEqual(['SAFE', 'SAFE']); // tick 0, then a second later
    first.stack.stop();
    expect(node(store).stack.mode).toBe('SAFE');
  });

  it('refuses commands outside their modes with failure code 7, on every path', async () => {
    const n = node(memoryStateStore());
    n.stack.setMode('SAFE', 'test');
    n.perform('commanding.ARM', { functionId: 0x0601 });
    await n.settle();
    expect(n.failures).toEqual(['(1,2) code 7: commanding.ARM is not allowed in mode SAFE (only NOMINAL)']);
    const direct = await n.stack.dispatch({ name: 'commanding.ARM', args: { functionId: 0x0601 } });
    expect(direct).toMatchObject({ ok: false, code: 7 });
    n.stack.setMode('NOMINAL', 'test');
    n.perform('commanding.ARM', { functionId: 0x0601 });
    await n.settle();
    // Allowed now: it fails on its own merits (SET_MODE is not hazardous), not on the mode.
    expect(n.failures.at(-1)).toMatch(/^\(1,8\) code 6: modes.SET_MODE is not hazardous/);
  });

  it('rejects a declaration naming an unknown mode', () => {
    const bad = defineComponent({
      name: 'bad',
      // @ts-expect-error: not a system mode
      commands: { GO: { opcode: 1, modes: ['CRUISE'] } },
      setup: () => ({ commands: { GO: () => undefined } }),
    });
    expect(() => buildDictionary([bad])).toThrow(DictionaryError);
    expect(() => buildDictionary([bad])).toThrow(/command bad.GO: unknown mode 'CRUISE'/);
  });
});
