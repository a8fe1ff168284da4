import { describe, expect, it } from 'vitest';
import type { DownlinkPacket } from '../../../src/core/bus.js';
import { VirtualClock } from '../../../src/core/clock.js';
import { defineComponent } from '../../../src/core/component.js';
import { housekeepingStructures } from '../../../src/core/dictionary.js';
import { FlightStack } from '../../../src/core/executive.js';
import { silentLogger } from '../../../src/core/log.js';
import { memoryStateStore, type StateStore } from '../../../src/core/persistence.js';
import { f32, u16 } from '../../../src/core/types.js';
import { decodeTm } from '../../../src/ground/codec.js';
import { decodeTmPacket } from '../../../src/link/pus.js';
import { encodeIdList } from '../../../src/link/pus-services.js';
import { commanding } from '../../../src/services/commanding/commanding.js';
import { eventReports } from '../../../src/services/telemetry/events.js';
import { housekeeping } from '../../../src/services/telemetry/housekeeping.js';
import { uplink } from '../../support/uplink.js';

const sensor = defineComponent({
  name: 'sensor',
  commands: { FLAP: { opcode: 0x0a01, args: { times: u16() } } },
  telemetry: {
    tempC: { id: 0x0a01, type: f32({ units: 'degC' }) },
    volts: { id: 0x0a02, type: f32({ units: 'V' }) },
    counter: { id: 0x0a03, type: u16() },
  },
  housekeeping: {
    FAST: { id: 0x0a10, parameters: ['tempC', 'counter'], intervalMs: 200 },
    SLOW: { id: 0x0a11, parameters: ['volts'], intervalMs: 5000, enabled: false },
  },
  events: { FLAPPED: { id: 0x0a01, severity: 'low', args: { n: u16() }, message: 'flap {n}' } },
  setup(ctx) {
    let n = 0;
    ctx.every('10Hz', () => {
      n += 1;
      ctx.tlm.tempC(20 + n / 10);
      ctx.tlm.volts(28);
      ctx.tlm.counter(n);
    });
    return {
      commands: {
        FLAP: ({ times }) => {
          for (let i = 1; i <= times; i++) ctx.events.FLAPPED({ n: i });
          return undefined;
        },
      },
    };
  },
});

function node(store: StateStore = memoryStateStore()) {
  const clock = new VirtualClock();
  const stack = FlightStack.create({
    components: [eventReports, housekeeping, commanding, sensor],
    clock,
    store,
    logger: silentLogger(clock),
  });
  const structures = housekeepingStructures(stack.dictionary);
  const records: Array<ReturnType<typeof decodeTm>> = [];
  stack.bus.downlink$.subscribe((p: DownlinkPacket) => {
    const tm = decodeTmPacket(p.bytes);
    if (tm.ok) records.push(decodeTm(stack.dictionary, tm.value, structures));
  });
  stack.start();
  const { send, settle } = uplink(stack);
  const hk = (id: number) =>
    records.filter((r) => r.record.kind === 'housekeeping' && r.record.structureId === id);
  return { clock, stack, records, send, settle, hk };
}

describe('housekeeping service', () => {
  it('reports declared structures at their intervals, packed as declared, with the dictionary CRC', () => {
    const n = node();
    n.clock.advanceBy(2000);
    const fast = n.hk(0x0a10);
    // Exactly every 200 ms of mission time from the first sample on (t = 100 ms): 100, 300, ..., 1900.
    expect(fast.map((r) => Math.round(r.time - Date.UTC(2030, 0, 1)))).toEqual(
      Array.from({ length: 10 }, (_, i) => 100 + 200 * i),
    );
    n.clock.advanceBy(3600_000);
    expect(n.hk(0x0a10)).toHaveLength(10 + 18_000); // an hour later: not one report more or less
    const last = fast.at(-1)?.record;
    expect(last?.kind === 'housekeeping' && Object.keys(last.values)).toEqual([
      'sensor.tempC',
      'sensor.counter',
    ]);
    expect(n.hk(0x0a11)).toEqual([]); // declared disabled
    const crc = n.records.find(
      (r) => r.record.kind === 'housekeeping' && 'housekeeping.dictionaryCrc' in r.record.values,
    );
    expect(crc?.record.kind === 'housekeeping' && crc.record.values['housekeeping.dictionaryCrc']).toBe(
      n.stack.dictionary.crc32,
    );
  });

  it('enables, disables, reports once and changes intervals by command, and keeps the changes', async () => {
    const store = memoryStateStore();
    const n = node(store);
    n.send(3, 5, encodeIdList([0x0a11])); // enable SLOW
    n.send(3, 6, encodeIdList([0x0a10])); // disable FAST
    const interval = new Uint8Array(8);
    new DataView(interval.buffer).setUint16(0, 1);
    new DataView(interval.buffer).setUint16(2, 0x0a11);
    new DataView(interval.buffer).setUint32(4, 1000);
    n.send(3, 31, interval);
    await n.settle();
    n.clock.advanceBy(100);
    const fastBefore = n.hk(0x0a10).length;
    n.clock.advanceBy(5000);
    expect(n.hk(0x0a10).length).toBe(fastBefore);
    expect(n.hk(0x0a11).length).toBeGreaterThanOrEqual(5);
    n.send(3, 27, encodeIdList([0x0a10])); // one-shot of the disabled FAST
    await n.settle();
    expect(n.hk(0x0a10).length).toBe(fastBefore + 1);
    n.stack.stop();
    const again = node(store);
    again.clock.advanceBy(3000);
    expect(again.hk(0x0a10)).toEqual([]);
    expect(again.hk(0x0a11).length).toBeGreaterThanOrEqual(2);
  });

  it('refuses unknown structures (code 5), bad lengths (code 2) and intervals out of range (code 6)', async () => {
    const n = node();
    const reasons: string[] = [];
    n.stack.bus.events$.subscribe((e) => {
      if (e.name === 'commanding.REJECTED') reasons.push(`${e.args.code}: ${e.args.reason}`);
    });
    n.send(3, 5, encodeIdList([0x7777]));
    n.send(3, 6, Uint8Array.of(0, 2, 0));
    const bad = new Uint8Array(8);
    new DataView(bad.buffer).setUint16(0, 1);
    new DataView(bad.buffer).setUint16(2, 0x0a10);
    new DataView(bad.buffer).setUint32(4, 5);
    n.send(3, 31, bad);
    n.send(3, 99, new Uint8Array(0));
    await n.settle();
    expect(reasons).toEqual([
      '5: unknown housekeeping structure ID 30583',
      '2: 2 housekeeping structure IDs need 6 octets, 3 given',
      '6: interval 5 ms of structure 2576 not in [100, 86400000]',
      '4: housekeeping subtype 99 is not provided',
    ]);
  });
});

describe('event reports', () => {
  const flap = (n: ReturnType<typeof node>, times: number) => {
    const entry = n.stack.dictionary.commandByName.get('sensor.FLAP');
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint16(0, entry?.opcode as number);
    new DataView(data.buffer).setUint16(2, times);
    n.send(8, 1, data);
  };
  const reported = (n: ReturnType<typeof node>, name: string) =>
    n.records.filter((r) => r.record.kind === 'event' && r.record.name === name);

  it('reports events with their severity as the subtype, and limits a flapping one, reporting what it held back', async () => {
    const n = node();
    flap(n, 25);
    await n.settle();
    const flaps = reported(n, 'sensor.FLAPPED');
    expect(flaps).toHaveLength(10);
    expect(flaps[0]?.packet.subtype).toBe(2);
    n.clock.advanceBy(11_000);
    const suppressed = reported(n, 'events.SUPPRESSED');
    expect(suppressed.map((r) => (r.record.kind === 'event' ? r.record.message : ''))).toEqual([
      'event 2561 reported too often: 15 reports suppressed in 10 s',
    ]);
    flap(n, 3); // a new window: reported again
    await n.settle();
    expect(reported(n, 'sensor.FLAPPED')).toHaveLength(13);
  });

  it('disables and enables reports of an event by command, and keeps that across a restart', async () => {
    const store = memoryStateStore();
    const n = node(store);
    n.send(5, 6, encodeIdList([0x0a01]));
    await n.settle();
    flap(n, 2);
    await n.settle();
    expect(reported(n, 'sensor.FLAPPED')).toHaveLength(0);
    n.stack.stop();
    const again = node(store);
    flap(again, 1);
    await again.settle();
    expect(reported(again, 'sensor.FLAPPED')).toHaveLength(0);
    again.send(5, 5, encodeIdList([0x0a01]));
    await again.settle();
    flap(again, 1);
    await again.settle();
    expect(reported(again, 'sensor.FLAPPED')).toHaveLength(1);
  });
});
