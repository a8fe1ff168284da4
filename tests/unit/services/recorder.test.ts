import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { DownlinkPacket, EventRecord } from '../../../src/core/bus.js';
import { VirtualClock } from '../../../src/core/clock.js';
import { defineComponent } from '../../../src/core/component.js';
import { FlightStack } from '../../../src/core/executive.js';
import { silentLogger } from '../../../src/core/log.js';
import { memoryStateStore, openStateStore, type StateStore } from '../../../src/core/persistence.js';
import { encodeCuc, unixMsToCuc } from '../../../src/core/time.js';
import { u16 } from '../../../src/core/types.js';
import { commanding } from '../../../src/services/commanding/commanding.js';
import { eventReports } from '../../../src/services/telemetry/events.js';
import { MAX_QUEUED, PACKET_SERIES, recorder } from '../../../src/services/telemetry/recorder.js';
import { Priority, tmSourceFor } from '../../../src/services/tm-source.js';
import { tempDir } from '../../support/cli.js';
import { uplink } from '../../support/uplink.js';

const SOURCE_APID = 0x20;
const SERIES = `component:recorder/${PACKET_SERIES}`;

/** One TM packet per 10 Hz tick on its own APID, numbered in its first 4 octets, `size` octets of data. */
const source = defineComponent({
  name: 'source',
  params: { size: { id: 0x0a01, type: u16({ min: 4, max: 4000 }), default: 16 } },
  setup(ctx) {
    const tm = tmSourceFor(ctx.bus, SOURCE_APID, ctx.clock);
    let n = 0;
    ctx.every('10Hz', () => {
      const data = new Uint8Array(ctx.params.get('size'));
      new DataView(data.buffer).setUint32(0, n++);
      tm.emit({ service: 3, subtype: 25, data, priority: Priority.housekeeping });
    });
    return {};
  },
});

interface Sent {
  readonly bytes: Uint8Array;
  readonly time: number;
  readonly vcid: number;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function sqliteStore(): { store: StateStore; dir: string } {
  const dir = tempDir('skynode-recorder-');
  dirs.push(dir);
  return { store: openStateStore(dir), dir };
}

function node(store: StateStore = memoryStateStore(), params: Record<string, number> = {}, startMs?: number) {
  const clock = new VirtualClock(startMs === undefined ? {} : { startMs });
  const stack = FlightStack.create({
    components: [eventReports, commanding, recorder, source],
    clock,
    store,
    logger: silentLogger(clock),
  });
  for (const [name, value] of Object.entries(params)) {
    const set = stack.params.set(name, value);
    if (!set.ok) throw new Error(set.reason);
  }
  const downlink: Sent[] = [];
  const events: EventRecord[] = [];
  stack.bus.downlink$.subscribe((p: DownlinkPacket) =>
    downlink.push({ bytes: p.bytes, time: p.time, vcid: p.vcid }),
  );
  stack.bus.events$.subscribe((e) => events.push(e));
  const telemetry = new Map<string, unknown>();
  stack.bus.telemetry$.subscribe((s) => telemetry.set(s.name, s.value));
  stack.start();
  const { send, settle } = uplink(stack);
  const rejections = () =>
    events.filter((e) => e.name === 'commanding.REJECTED').map((e) => `${e.args.code}: ${e.args.reason}`);
  const failures = () =>
    events
      .filter((e) => e.name === 'commanding.FAILED' || e.name === 'commanding.REJECTED')
      .map((e) => e.args.code);
  const realtime = () => downlink.filter((p) => p.vcid === 0);
  const playback = () => downlink.filter((p) => p.vcid === 1);
  const series = () => store.series(SERIES);
  return {
    clock,
    stack,
    store,
    downlink,
    events,
    telemetry,
    send,
    settle,
    rejections,
    failures,
    realtime,
    playback,
    series,
  };
}

const storeId = (id: number) => Uint8Array.of(id >> 8, id & 0xff);
function playbackRequest(fromMs: number, toMs: number, id = 1): Uint8Array {
  const data = new Uint8Array(14);
  data.set(storeId(id), 0);
  data.set(encodeCuc(unixMsToCuc(fromMs)), 2);
  data.set(encodeCuc(unixMsToCuc(toMs)), 8);
  return data;
}
const numberOf = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(19);
const apidOf = (bytes: Uint8Array) => (((bytes[0] as number) & 0x07) << 8) | (bytes[1] as number);

describe.each([
  ['memory', () => memoryStateStore()],
  ['sqlite', () => sqliteStore().store],
])('recorder (%s store)', (_kind, makeStore) => {
  it('records every real-time packet with its time and APID, and nothing of the playback channel', async () => {
    const n = node(makeStore());
    n.stack.bus.publishDownlink({ bytes: Uint8Array.of(1, 2, 3), vcid: 1, priority: 5, time: n.clock.now() });
    n.clock.advanceBy(1500);
    n.send(17, 1, new Uint8Array(0)); // answered by TM(17,2) on the node's own APID
    await n.settle();
    n.clock.advanceBy(1500);
    const stored = n.series().range(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
    const sent = n.realtime();
    expect(sent.length).toBeGreaterThan(30);
    expect(stored.map((r) => r.data)).toEqual(sent.map((p) => p.bytes));
    expect(stored.map((r) => r.timeMs)).toEqual(sent.map((p) => p.time));
    expect(stored.map((r) => r.tag)).toEqual(sent.map((p) => apidOf(p.bytes)));
    expect(new Set(stored.map((r) => r.tag))).toEqual(new Set([0x10, SOURCE_APID]));
    // Committed at each 1 Hz tick: what the telemetry calls recorded is on disk.
    expect(n.telemetry.get('recorder.recorded')).toBe(n.series().count() - n.series().pending());
    expect(n.telemetry.get('recorder.enabled')).toBe(true);
    n.stack.stop();
    expect(n.series().pending()).toBe(0);
  });

  it('keeps within its budget by deleting the oldest packets, and reports it', () => {
    const n = node(makeStore(), {
      'recorder.budgetBytes': 65_536,
      'source.size': 1000,
      'recorder.deletionReportS': 5,
    });
    n.clock.advanceBy(20_000);
    const series = n.series();
    const bytesOf = (list: readonly { data: Uint8Array }[]) =>
      list.reduce((sum, r) => sum + r.data.length, 0);
    const queuedBytes = () =>
      bytesOf(
        n
          .realtime()
          .slice(n.realtime().length - series.pending())
          .map((p) => ({ data: p.bytes })),
      );
    // Committed and trimmed at each 1 Hz tick: beyond the budget by the queued packets only.
    expect(series.sizeBytes() - queuedBytes()).toBeLessThanOrEqual(65_536);
    expect(n.telemetry.get('recorder.deleted')).toBeGreaterThan(0);
    const sent = n.realtime(); // all of it recorded: the stop below unsubscribes first
    n.stack.stop(); // commits, trims, and reports what was deleted since the last report
    const stored = series.range(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
    expect(series.pending()).toBe(0);
    expect(series.sizeBytes()).toBeLessThanOrEqual(65_536);
    expect(series.sizeBytes()).toBeGreaterThan(65_536 - 1100);
    expect(series.sizeBytes()).toBe(bytesOf(stored));
    // Oldest first: what is kept is the most recent real-time TM, without a hole.
    expect(stored.map((r) => r.data)).toEqual(sent.slice(-stored.length).map((p) => p.bytes));
    const reports = n.events.filter((e) => e.name === 'recorder.RECORDS_DELETED');
    // At most one report per deletionReportS (5 s), the deletions between summed.
    expect(reports.length).toBeGreaterThanOrEqual(3);
    expect(reports.length).toBeLessThanOrEqual(Math.ceil(20 / 5) + 1);
    for (const [a, b] of reports.slice(0, -1).map((r, i) => [r, reports[i + 1] as EventRecord] as const)) {
      if (b !== reports.at(-1)) expect(b.time - a.time).toBeGreaterThanOrEqual(5000);
      expect(b.args.oldestKeptMs as number).toBeGreaterThan(a.args.oldestKeptMs as number);
    }
    expect(reports.reduce((sum, e) => sum + (e.args.count as number), 0)).toBe(sent.length - stored.length);
    expect(reports.at(-1)?.args.oldestKeptMs).toBe(stored[0]?.timeMs);
  });

  it('stops and starts recording by TC(15,2)/(15,1), and keeps that across a restart', async () => {
    const store = makeStore();
    const n = node(store);
    n.clock.advanceBy(1000);
    n.send(15, 2, storeId(1));
    await n.settle();
    const before = n.series().count();
    n.clock.advanceBy(2000);
    expect(n.series().count()).toBe(before);
    expect(n.telemetry.get('recorder.enabled')).toBe(false);
    n.stack.stop();
    const again = node(store, {}, n.clock.now());
    again.clock.advanceBy(2000);
    expect(again.series().count()).toBe(before);
    again.send(15, 1, storeId(1));
    await again.settle();
    again.clock.advanceBy(1000);
    expect(again.series().count()).toBeGreaterThan(before + 5);
    expect(again.telemetry.get('recorder.enabled')).toBe(true);
    again.stack.stop();
  });

  it('plays a time range back on VC 1, byte for byte, paced, with real-time TM in between', async () => {
    const n = node(makeStore(), { 'recorder.playbackPerTick': 3 });
    const t0 = n.clock.now();
    n.clock.advanceBy(5000);
    const from = t0 + 1050;
    const to = t0 + 3950;
    const expected = n.realtime().filter((p) => p.time >= from && p.time <= to);
    expect(expected.length).toBeGreaterThanOrEqual(29);
    n.send(15, 9, playbackRequest(from, to));
    await n.settle();
    n.clock.advanceBy(Math.ceil(expected.length / 3) * 100 + 500);
    const played = n.playback();
    expect(played.map((p) => p.bytes)).toEqual(expected.map((p) => p.bytes));
    // Paced: never more than 3 in one tick.
    const perTick = new Map<number, number>();
    for (const p of played) perTick.set(p.time, (perTick.get(p.time) ?? 0) + 1);
    expect(Math.max(...perTick.values())).toBeLessThanOrEqual(3);
    expect(perTick.size).toBeGreaterThanOrEqual(Math.ceil(expected.length / 3));
    // Real-time TM kept flowing during the playback.
    const firstAt = n.downlink.indexOf(played[0] as Sent);
    const lastAt = n.downlink.indexOf(played.at(-1) as Sent);
    const between = n.downlink.slice(firstAt, lastAt).filter((p) => p.vcid === 0);
    expect(between.length).toBeGreaterThanOrEqual(Math.ceil(expected.length / 3) - 1); // one per 10 Hz tick
    const done = n.events.filter((e) => e.name === 'recorder.PLAYBACK_DONE');
    expect(done.map((e) => e.args.sent)).toEqual([expected.length]);
    n.clock.advanceBy(1000);
    expect(n.telemetry.get('recorder.playbackSent')).toBe(expected.length);
    expect(n.telemetry.get('recorder.playbackQueue')).toBe(0);
    expect(n.failures()).toEqual([]);
    n.stack.stop();
  });
});

describe('recorder when the store cannot be written', () => {
  it('reports it once, keeps packets queued (bounded), and commits them when the store recovers', () => {
    const inner = memoryStateStore();
    let failing = false;
    const store: StateStore = {
      ...inner,
      series(name) {
        const real = inner.series(name);
        return new Proxy(real, {
          get(target, key) {
            if (key === 'flush' && failing) {
              return () => {
                throw new Error('disk I/O error');
              };
            }
            const value = Reflect.get(target, key);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      },
    };
    const n = node(store);
    n.clock.advanceBy(2000);
    const before = n.telemetry.get('recorder.recorded') as number;
    failing = true;
    n.clock.advanceBy(MAX_QUEUED * 100 + 10_000); // one packet per 10 Hz tick: more than MAX_QUEUED of them
    expect(n.events.filter((e) => e.name === 'recorder.STORE_FAILED')).toHaveLength(1);
    expect(n.telemetry.get('recorder.recorded')).toBe(before);
    expect(n.series().pending()).toBe(MAX_QUEUED);
    expect(n.telemetry.get('recorder.notRecorded')).toBeGreaterThanOrEqual(100);
    failing = false;
    n.clock.advanceBy(1000);
    expect(n.telemetry.get('recorder.recorded')).toBeGreaterThanOrEqual(before + MAX_QUEUED);
    expect(n.series().count()).toBe(
      n.realtime().length - (n.telemetry.get('recorder.notRecorded') as number),
    );
    n.stack.stop();
  });
});

describe('recorder playback requests', () => {
  it('queues a request that comes during a playback, refuses one beyond the queue with code 10', async () => {
    const n = node(memoryStateStore(), { 'recorder.playbackPerTick': 1, 'recorder.playbackQueueLimit': 1 });
    const t0 = n.clock.now();
    n.clock.advanceBy(4000);
    const first = [t0 + 50, t0 + 1050] as const;
    const second = [t0 + 2050, t0 + 2550] as const;
    n.send(15, 9, playbackRequest(...first));
    await n.settle();
    n.clock.advanceBy(300); // the first is in progress
    n.send(15, 9, playbackRequest(...second));
    n.send(15, 9, playbackRequest(t0, t0 + 10));
    await n.settle();
    expect(n.rejections()).toEqual(['10: playback queue full (1 requests wait behind the one in progress)']);
    n.clock.advanceBy(5000);
    const inRange = ([a, b]: readonly [number, number]) =>
      n
        .realtime()
        .filter((p) => p.time >= a && p.time <= b)
        .map((p) => p.bytes);
    expect(n.playback().map((p) => p.bytes)).toEqual([...inRange(first), ...inRange(second)]);
    const done = n.events.filter((e) => e.name === 'recorder.PLAYBACK_DONE');
    expect(done.map((e) => e.args.sent)).toEqual([inRange(first).length, inRange(second).length]);
    // The source numbers its packets: a playback lets the ground fill a gap in order.
    const numbers = n
      .playback()
      .filter((p) => apidOf(p.bytes) === SOURCE_APID)
      .map((p) => numberOf(p.bytes));
    expect(numbers.slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    n.stack.stop();
  });

  it('refuses unknown store IDs (code 5), bad lengths (code 2), reversed ranges (code 6) and other subtypes (code 4)', async () => {
    const n = node();
    const t0 = n.clock.now();
    n.send(15, 1, storeId(2));
    n.send(15, 2, storeId(0));
    n.send(15, 9, playbackRequest(t0, t0 + 1000, 7));
    n.send(15, 1, Uint8Array.of(0, 1, 0));
    n.send(15, 2, new Uint8Array(0));
    n.send(15, 9, playbackRequest(t0, t0 + 1000).subarray(0, 13));
    n.send(15, 9, Uint8Array.of(...playbackRequest(t0, t0 + 1000), 0));
    n.send(15, 9, playbackRequest(t0 + 1000, t0));
    n.send(15, 5, storeId(1));
    await n.settle();
    expect(n.rejections()).toEqual([
      '5: unknown packet store ID 2 (this node has store 1)',
      '5: unknown packet store ID 0 (this node has store 1)',
      '5: unknown packet store ID 7 (this node has store 1)',
      '2: TC(15,1) takes a store ID (2 octets), 3 given',
      '2: TC(15,2) takes a store ID (2 octets), 0 given',
      '2: TC(15,9) takes a store ID and two CUC times (14 octets), 13 given',
      '2: TC(15,9) takes a store ID and two CUC times (14 octets), 15 given',
      '6: playback range starts (2030-01-01T00:00:01.000Z) after it ends (2030-01-01T00:00:00.000Z)',
      '4: storage subtype 5 is not provided',
    ]);
    n.clock.advanceBy(1000);
    expect(n.playback()).toEqual([]);
    n.stack.stop();
  });

  it('plays back what a previous run recorded (SQLite store reopened)', async () => {
    const { store, dir } = sqliteStore();
    const n = node(store);
    const t0 = n.clock.now();
    n.clock.advanceBy(3000);
    const expected = n.realtime().map((p) => p.bytes);
    n.stack.stop();
    store.close();
    const again = node(openStateStore(dir), { 'recorder.playbackPerTick': 100 }, n.clock.now() + 1000);
    again.send(15, 9, playbackRequest(t0, t0 + 3000));
    await again.settle();
    again.clock.advanceBy(1000);
    expect(again.playback().map((p) => p.bytes)).toEqual(expected);
    again.stack.stop();
    again.store.close();
  });
});
