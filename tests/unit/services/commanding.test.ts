import { describe, expect, it } from 'vitest';
import type { DownlinkPacket } from '../../../src/core/bus.js';
import { VirtualClock } from '../../../src/core/clock.js';
import { defineComponent } from '../../../src/core/component.js';
import { FlightStack } from '../../../src/core/executive.js';
import { silentLogger } from '../../../src/core/log.js';
import { packRecord } from '../../../src/core/pack.js';
import { memoryStateStore, type StateStore } from '../../../src/core/persistence.js';
import { unixMsToCuc } from '../../../src/core/time.js';
import { AckFlags, decodeTmPacket, encodeTcPacket, type TmPacket } from '../../../src/link/pus.js';
import {
  decodeScheduleSummary,
  decodeVerification,
  encodeIdList,
  encodePerformFunction,
  encodeRequestIdList,
  encodeScheduleInsert,
} from '../../../src/link/pus-services.js';
import { commanding } from '../../../src/services/commanding/commanding.js';
import { thermalLike } from '../../support/components.js';
import { uplink } from '../../support/uplink.js';

const APID = 0x010;
const START = Date.UTC(2030, 0, 1);

let release: () => void = () => {};
const slow = defineComponent({
  name: 'slow',
  commands: { WAIT: { opcode: 0x0901 } },
  setup: () => ({
    commands: {
      WAIT: () =>
        new Promise<undefined>((done) => {
          release = () => done(undefined);
        }),
    },
  }),
});

function node(store: StateStore = memoryStateStore()) {
  const clock = new VirtualClock({ startMs: START });
  const stack = FlightStack.create({
    components: [commanding, thermalLike, slow],
    clock,
    store,
    logger: silentLogger(clock),
  });
  const down: TmPacket[] = [];
  stack.bus.downlink$.subscribe((p: DownlinkPacket) => {
    const decoded = decodeTmPacket(p.bytes);
    if (!decoded.ok) throw new Error(decoded.detail);
    down.push(decoded.value);
  });
  stack.start();
  const tc = uplink(stack, { ack: AckFlags.all, sourceId: 7 });
  const send = tc.send;
  const perform = (name: string, args: Record<string, unknown> = {}, ack?: number) =>
    tc.perform(name, args, ack === undefined ? {} : { ack });
  const reports = () =>
    down.map((p) => {
      if (p.service !== 1) return `TM(${p.service},${p.subtype})`;
      const v = decodeVerification(p.subtype, p.sourceData);
      if (!v.ok) throw new Error(v.error);
      return v.value.code === undefined
        ? `(1,${p.subtype})`
        : `(1,${p.subtype}) code ${v.value.code}: ${v.value.reason}`;
    });
  const settle = tc.settle;
  const tlm = (name: string) => {
    let value: unknown;
    const sub = stack.bus.telemetry$.subscribe((s) => {
      if (s.name === name) value = s.value;
    });
    clock.advanceBy(1000);
    sub.unsubscribe();
    return value;
  };
  return { clock, stack, send, perform, down, reports, settle, tlm };
}

describe('commanding service', () => {
  it('answers TC(17,1) with acceptance, start, TM(17,2) and completion, addressed to the sender', async () => {
    const n = node();
    n.send(17, 1);
    await n.settle();
    expect(n.reports()).toEqual(['(1,1)', '(1,3)', 'TM(17,2)', '(1,7)']);
    expect(n.down.every((p) => p.destinationId === 7 && p.apid === APID)).toBe(true);
    expect(n.down.map((p) => p.sequenceCount)).toEqual([0, 1, 2, 3]);
    // Request ID: the first four octets of the TC.
    const v = decodeVerification(1, n.down[0]?.sourceData as Uint8Array);
    expect(v.ok && v.value.requestId).toBe(0x1810c000);
  });

  it('runs a dictionary command from TC(8,1) with its packed arguments, reporting only what the ack flags ask', async () => {
    const n = node();
    const events: string[] = [];
    n.stack.bus.events$.subscribe((e) => events.push(e.message));
    n.perform('thermal.SET_LIMIT', { celsius: 81.5 }, AckFlags.completion);
    await n.settle();
    expect(events).toContain('limit now 81.5');
    expect(n.reports()).toEqual(['(1,7)']);
    expect(n.tlm('commanding.executed')).toBe(1);
  });

  it('rejects with the PROTOCOL.md failure codes and counts each reason', async () => {
    const n = node();
    const setLimit = n.stack.dictionary.commandByName.get('thermal.SET_LIMIT')?.opcode as number;
    n.perform('thermal.SET_LIMIT', { celsius: 99 }); // 6
    n.send(8, 1, encodePerformFunction(0x7777, new Uint8Array(0))); // 5
    n.send(8, 1, encodePerformFunction(setLimit, new Uint8Array(2))); // 2: f32 needs 4 octets
    n.send(8, 1, encodePerformFunction(setLimit, new Uint8Array(6))); // 2: 2 octets too many
    n.send(42, 1); // 4
    n.send(17, 1, new Uint8Array(0), { apid: 0x011 }); // 1
    const corrupt = encodeTcPacket({ apid: APID, sequenceCount: 99, ackFlags: 15, service: 17, subtype: 1 });
    corrupt[corrupt.length - 1] = (corrupt.at(-1) as number) ^ 0xff;
    n.stack.bus.publishUplink({ bytes: corrupt, vcid: 0, time: 0 }); // 3
    n.perform('thermal.POWER_CYCLE'); // 8
    await n.settle();
    const codes = n.reports().map((r) => r.replace(/:.*/, ''));
    expect(codes).toEqual([
      '(1,2) code 6',
      '(1,2) code 5',
      '(1,2) code 2',
      '(1,2) code 2',
      '(1,2) code 4',
      '(1,2) code 1',
      '(1,2) code 3',
      '(1,2) code 8',
    ]);
    expect(n.reports()[0]).toMatch(/celsius: 99 not in \[40, 95\] degC/);
    expect(n.reports()[7]).toMatch(/send commanding.ARM functionId=771 first/);
    expect(n.tlm('commanding.rejected')).toBe(8);
    expect(n.tlm('commanding.rejectedLength')).toBe(2);
    expect(n.tlm('commanding.rejectedChecksum')).toBe(1);
    expect(n.tlm('commanding.lastCommands')).toMatch(
      /^thermal.POWER_CYCLE rejected\(8\); TC\(\?,\?\) rejected\(3\)/,
    );
  });

  it('refuses packed values that are no value of their type with code 6, too few octets with code 2', async () => {
    const n = node();
    const setMode = n.stack.dictionary.commandByName.get('thermal.SET_MODE')?.opcode as number;
    n.send(8, 1, encodePerformFunction(setMode, Uint8Array.of(9, 1))); // enum index 9 of 3 labels
    n.send(8, 1, encodePerformFunction(setMode, Uint8Array.of(1))); // level missing
    await n.settle();
    expect(n.reports()).toEqual([
      '(1,2) code 6: thermal.SET_MODE: mode: enum index 9 at 0 has no label',
      '(1,2) code 2: thermal.SET_MODE: level: truncated u8 at octet 1',
    ]);
  });

  it('runs a hazardous command once per arming, within the window', async () => {
    const n = node();
    const opcode = n.stack.dictionary.commandByName.get('thermal.POWER_CYCLE')?.opcode as number;
    n.perform('commanding.ARM', { functionId: opcode }, AckFlags.none);
    await n.settle();
    n.perform('thermal.POWER_CYCLE', {}, AckFlags.completion);
    n.perform('thermal.POWER_CYCLE', {}, AckFlags.completion);
    await n.settle();
    n.perform('commanding.ARM', { functionId: opcode }, AckFlags.none);
    await n.settle();
    n.clock.advanceBy(31_000);
    n.perform('thermal.POWER_CYCLE', {}, AckFlags.completion);
    await n.settle();
    // Acceptance is checked on arrival: the second POWER_CYCLE is refused before the first has completed.
    expect(n.reports().map((r) => r.replace(/:.*/, ''))).toEqual(['(1,2) code 8', '(1,7)', '(1,2) code 8']);
    n.perform('commanding.ARM', { functionId: 0x0301 }, AckFlags.none);
    await n.settle();
    expect(n.reports().at(-1)).toMatch(/code 6: thermal.SET_LIMIT is not hazardous/);
  });

  it('reports a failing command with completion failure code 9 and its reason', async () => {
    const n = node();
    n.perform('thermal.FAIL', { how: 'throw' });
    await n.settle();
    expect(n.reports()).toEqual(['(1,1)', '(1,3)', '(1,8) code 9: actuator did not answer']);
  });

  it('executes one command at a time, in order, and rejects with code 10 when the queue is full', async () => {
    const n = node();
    n.stack.params.set('commanding.queueLimit', 2);
    n.perform('slow.WAIT', {}, AckFlags.completion); // runs, holds the queue
    n.send(17, 1, new Uint8Array(0), { ack: AckFlags.completion });
    n.send(17, 1, new Uint8Array(0), { ack: AckFlags.completion });
    n.send(17, 1, new Uint8Array(0), { ack: AckFlags.completion }); // third waiting: refused
    await n.settle();
    expect(n.reports().map((r) => r.replace(/:.*/, ''))).toEqual(['(1,2) code 10']);
    release();
    await n.settle();
    expect(n.reports()).toEqual([
      '(1,2) code 10: command queue full (2 waiting)',
      '(1,7)',
      'TM(17,2)',
      '(1,7)',
      'TM(17,2)',
      '(1,7)',
    ]);
  });

  it('reports and sets parameters (service 20), refusing bad IDs and values', async () => {
    const n = node();
    const target = n.stack.dictionary.paramByName.get('thermal.targetC')?.id as number;
    const offset = n.stack.dictionary.paramByName.get('thermal.offsetC')?.id as number;
    const set = (id: number, value: Uint8Array) => {
      const data = new Uint8Array(4 + value.length);
      new DataView(data.buffer).setUint16(0, 1);
      new DataView(data.buffer).setUint16(2, id);
      data.set(value, 4);
      return data;
    };
    n.send(20, 3, set(offset, Uint8Array.of(0xff, 0xf6)), { ack: AckFlags.completion }); // i16 -10
    await n.settle();
    n.send(20, 3, set(offset, Uint8Array.of(0x00, 0x64)), { ack: AckFlags.completion }); // 100: out of range
    n.send(20, 1, encodeIdList([target, offset]), { ack: AckFlags.none });
    n.send(20, 1, encodeIdList([0x7777]), { ack: AckFlags.none });
    await n.settle();
    expect(n.stack.params.get('thermal.offsetC')).toBe(-10);
    const r = n.reports();
    expect(r[0]).toBe('(1,7)');
    expect(r[1]).toMatch(/^\(1,2\) code 6: thermal.offsetC: 100 not in \[-20, 20\]/);
    expect(r[2]).toBe('TM(20,2)');
    expect(r[3]).toMatch(/^\(1,2\) code 5: unknown parameter ID 0x7777/);
    const report = n.down[2]?.sourceData as Uint8Array;
    const view = new DataView(report.buffer, report.byteOffset);
    expect([
      view.getUint16(0),
      view.getUint16(2),
      view.getFloat32(4),
      view.getUint16(8),
      view.getInt16(10),
    ]).toEqual([2, target, 85, offset, -10]);
  });

  it('keeps time-tagged commands durably, lists them, releases them on time, and deletes on request', async () => {
    const store = memoryStateStore();
    const first = node(store);
    const inner = (count: number, name: string, args: Record<string, unknown>) => {
      const entry = first.stack.dictionary.commandByName.get(name);
      if (!entry) throw new Error(name);
      return encodeTcPacket({
        apid: APID,
        sequenceCount: 1000 + count,
        ackFlags: AckFlags.completion,
        service: 8,
        subtype: 1,
        appData: encodePerformFunction(entry.opcode, packRecord(entry.args, args)),
      });
    };
    const a = inner(1, 'thermal.SET_LIMIT', { celsius: 70 });
    const b = inner(2, 'thermal.SET_LIMIT', { celsius: 71 });
    first.send(
      11,
      4,
      encodeScheduleInsert([
        { releaseTime: unixMsToCuc(START + 60_000), packet: a },
        { releaseTime: unixMsToCuc(START + 30_000), packet: b },
      ]),
      { ack: AckFlags.completion },
    );
    await first.settle();
    first.send(11, 4, encodeScheduleInsert([{ releaseTime: unixMsToCuc(START - 1), packet: a }]), { ack: 0 });
    first.send(11, 17, new Uint8Array(0), { ack: 0 });
    await first.settle();
    expect(first.reports()[0]).toBe('(1,7)');
    expect(first.reports()[1]).toMatch(/code 6: entry 1: release time is not in the future/);
    const summary = decodeScheduleSummary(first.down[2]?.sourceData as Uint8Array);
    expect(summary.ok && summary.value.map((e) => e.requestId)).toEqual([0x1810c3ea, 0x1810c3e9]);
    first.stack.stop();

    // A restart: the schedule comes back from the state store and is released on spacecraft time.
    const second = node(store);
    const limits: string[] = [];
    second.stack.bus.events$.subscribe((e) => limits.push(e.message));
    second.send(11, 5, encodeRequestIdList([0x1810c3e9]), { ack: AckFlags.completion }); // delete a
    await second.settle();
    second.send(11, 5, encodeRequestIdList([0x12345678]), { ack: 0 });
    await second.settle();
    second.clock.advanceBy(90_000);
    await second.settle();
    expect(limits.filter((m) => m.startsWith('limit now') || m.startsWith('time-tagged'))).toEqual([
      'time-tagged telecommand 403751914 released',
      'limit now 71',
    ]);
    expect(second.reports().map((r) => r.replace(/:.*/, ''))).toEqual(['(1,7)', '(1,2) code 5', '(1,7)']);
  });
});
