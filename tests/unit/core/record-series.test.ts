import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  memoryStateStore,
  openStateStore,
  type RecordCursor,
  type StateStore,
  type StoredRecord,
} from '../../../src/core/persistence.js';
import { tempDir } from '../../support/cli.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function sqliteDir(): string {
  const dir = tempDir('skynode-series-');
  dirs.push(dir);
  return dir;
}

const ALL = [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY] as const;
const bytes = (...values: number[]) => Uint8Array.from(values);
const order = (a: RecordCursor, b: RecordCursor) => a.timeMs - b.timeMs || a.seq - b.seq;

type Op =
  | { kind: 'append'; timeMs: number; tag: number; size: number }
  | { kind: 'flush'; maxBytes?: number }
  | { kind: 'deleteOldest'; count: number }
  | { kind: 'page'; fromMs: number; toMs: number; limit: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      timeMs: fc.integer({ min: 0, max: 50 }),
      tag: fc.integer({ min: 0, max: 0x7ff }),
      size: fc.integer({ min: 0, max: 40 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      { kind: fc.constant('flush' as const), maxBytes: fc.integer({ min: 0, max: 400 }) },
      { requiredKeys: ['kind'] },
    ),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteOldest' as const), count: fc.nat(6) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('page' as const),
      fromMs: fc.integer({ min: -5, max: 55 }),
      toMs: fc.integer({ min: -5, max: 55 }),
      limit: fc.integer({ min: 1, max: 7 }),
    }),
  },
);

/** Runs the operations on a series of `store` and on a plain model; they must agree at every step. */
function checkAgainstModel(store: StateStore, name: string, ops: readonly Op[]) {
  const series = store.series(name);
  let model: StoredRecord[] = [];
  let pending = 0;
  const size = () => model.reduce((sum, r) => sum + r.data.length, 0);
  const dropOldest = (count: number) => {
    const sorted = [...model].sort(order);
    const gone = sorted.slice(0, count);
    model = sorted.slice(count);
    return { deleted: gone.length, deletedBytes: gone.reduce((sum, r) => sum + r.data.length, 0) };
  };
  let fill = 0;
  for (const op of ops) {
    switch (op.kind) {
      case 'append': {
        const data = Uint8Array.from({ length: op.size }, () => fill++ & 0xff);
        const seq = series.append(op.timeMs, op.tag, data);
        expect(model.every((r) => r.seq < seq)).toBe(true);
        model.push({ seq, timeMs: op.timeMs, tag: op.tag, data });
        pending += 1;
        break;
      }
      case 'flush': {
        let expected = { deleted: 0, deletedBytes: 0 };
        if (op.maxBytes !== undefined) {
          const sorted = [...model].sort(order);
          let total = size();
          let count = 0;
          for (const r of sorted) {
            if (total <= op.maxBytes) break;
            total -= r.data.length;
            count += 1;
          }
          expected = dropOldest(count);
        }
        expect(series.flush(op.maxBytes)).toEqual({ stored: pending, ...expected });
        pending = 0;
        break;
      }
      case 'deleteOldest':
        expect(series.deleteOldest(op.count)).toEqual(dropOldest(op.count));
        pending = 0;
        break;
      case 'page': {
        const expected = [...model]
          .filter((r) => r.timeMs >= op.fromMs && r.timeMs <= op.toMs)
          .sort(order)
          .map((r) => r.seq);
        const seen: number[] = [];
        let cursor: RecordCursor | undefined;
        for (let guard = 0; guard < 1000; guard++) {
          const page = series.range(op.fromMs, op.toMs, op.limit, cursor);
          expect(page.length).toBeLessThanOrEqual(op.limit);
          seen.push(...page.map((r) => r.seq));
          const last = page.at(-1);
          if (page.length < op.limit || !last) break;
          cursor = { timeMs: last.timeMs, seq: last.seq };
        }
        expect(seen).toEqual(expected);
        break;
      }
    }
    expect(series.pending()).toBe(pending);
    expect(series.count()).toBe(model.length);
    expect(series.sizeBytes()).toBe(size());
  }
  const all = series.range(...ALL);
  expect(all.map((r) => [r.seq, r.timeMs, r.tag, [...r.data]])).toEqual(
    [...model].sort(order).map((r) => [r.seq, r.timeMs, r.tag, [...r.data]]),
  );
}

describe('record series', () => {
  it('behaves as an ordered log with a queue, in memory and in SQLite (property)', () => {
    const sqlite = openStateStore(sqliteDir());
    let run = 0;
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        run += 1;
        checkAgainstModel(memoryStateStore(), 'model', ops);
        checkAgainstModel(sqlite, `run-${run}`, ops);
      }),
      { numRuns: 150 },
    );
    sqlite.close();
  });

  it('keeps time order, then insertion order, and series apart', () => {
    const store = memoryStateStore();
    const a = store.series('a');
    const b = store.series('b');
    expect(store.series('a')).toBe(a);
    a.append(20, 1, bytes(1));
    a.append(10, 2, bytes(2));
    b.append(15, 9, bytes(9));
    a.append(20, 3, bytes(3));
    a.append(10, 4, bytes(4));
    a.flush();
    expect(a.range(...ALL).map((r) => r.tag)).toEqual([2, 4, 1, 3]);
    expect(a.range(10, 19).map((r) => r.tag)).toEqual([2, 4]);
    expect(a.range(20, 10)).toEqual([]);
    expect(b.range(...ALL).map((r) => r.tag)).toEqual([9]);
    expect(b.count()).toBe(1);
    expect(a.deleteOldest(3)).toEqual({ deleted: 3, deletedBytes: 3 });
    expect(a.range(...ALL).map((r) => r.tag)).toEqual([3]);
  });

  it('makes records durable at flush, not before; close flushes; sequence numbers go on after a reopen', () => {
    const dir = sqliteDir();
    const writer = openStateStore(dir);
    const series = writer.series('log');
    const first = series.append(1000, 1, bytes(1, 2, 3));
    series.append(1001, 2, bytes(4, 5));
    expect(series.flush()).toEqual({ stored: 2, deleted: 0, deletedBytes: 0 });
    series.append(1002, 3, bytes(6));
    // Another connection sees what is committed: the flushed records, not the queued one.
    const reader = openStateStore(dir);
    expect(
      reader
        .series('log')
        .range(...ALL)
        .map((r) => [r.tag, [...r.data]]),
    ).toEqual([
      [1, [1, 2, 3]],
      [2, [4, 5]],
    ]);
    expect(reader.series('log').sizeBytes()).toBe(5);
    reader.close();
    writer.close();
    const again = openStateStore(dir);
    const log = again.series('log');
    expect(log.count()).toBe(3);
    expect(log.sizeBytes()).toBe(6);
    expect(log.append(999, 4, bytes(7))).toBeGreaterThan(first + 2);
    expect(log.range(...ALL, 2).map((r) => r.tag)).toEqual([4, 1]);
    again.close();
  });

  it('copies what is appended, and rejects times that are no numbers', () => {
    const series = memoryStateStore().series('x');
    const data = bytes(1, 2);
    series.append(5, 0, data);
    data[0] = 99;
    expect([...(series.range(...ALL)[0]?.data ?? [])]).toEqual([1, 2]);
    expect(() => series.append(Number.NaN, 0, data)).toThrow(RangeError);
  });
});
