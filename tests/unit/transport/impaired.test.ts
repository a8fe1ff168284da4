import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.js';
import {
  flipBits,
  type ImpairedPair,
  type ImpairedPairOptions,
  impairedPair,
} from '../../../src/transport/impaired.js';
import type { PipeState } from '../../../src/transport/pipe.js';
import { Prng } from '../../../src/transport/prng.js';

interface Arrival {
  readonly at: number;
  readonly bytes: Uint8Array;
}

let pairs: ImpairedPair[] = [];

afterEach(async () => {
  await Promise.all(pairs.map((p) => p.close()));
  pairs = [];
});

function setup(options: Omit<ImpairedPairOptions, 'scheduler'>) {
  const clock = new VirtualClock({ startMs: 0 });
  const pair = impairedPair({ ...options, scheduler: clock.scheduler });
  pairs.push(pair);
  const atA: Arrival[] = [];
  const atB: Arrival[] = [];
  pair.a.data$.subscribe((bytes) => atA.push({ at: clock.now(), bytes }));
  pair.b.data$.subscribe((bytes) => atB.push({ at: clock.now(), bytes }));
  return { clock, pair, a: pair.a, b: pair.b, atA, atB };
}

/** Chunk i: 4-byte big-endian index, then filler. */
function chunk(i: number, length = 16): Uint8Array {
  const bytes = new Uint8Array(length);
  new DataView(bytes.buffer).setUint32(0, i);
  for (let k = 4; k < length; k++) bytes[k] = (i * 31 + k) & 0xff;
  return bytes;
}

function indexOf(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

describe('impaired link without impairments', () => {
  it('delivers every chunk, unchanged and in order, both ways, through the scheduler', () => {
    const { clock, a, b, atA, atB } = setup({ seed: 7 });
    const sent = Array.from({ length: 100 }, (_, i) => chunk(i, 4 + (i % 40)));
    for (const c of sent) expect(a.write(c)).toBe(true);
    b.write(Uint8Array.of(1, 2, 3));
    // Nothing arrives inside write(): delivery is scheduled.
    expect(atB).toHaveLength(0);
    clock.advanceBy(0);
    expect(atB.map((x) => x.bytes)).toEqual(sent);
    expect(atA.map((x) => x.bytes)).toEqual([Uint8Array.of(1, 2, 3)]);
    expect(a.stats).toMatchObject({ chunksOut: 100, bytesOut: sent.reduce((n, c) => n + c.length, 0) });
    expect(b.stats).toMatchObject({ chunksIn: 100, bytesIn: a.stats.bytesOut });
    expect(a.stats.impairments).toMatchObject({ sent: 100, delivered: 100, dropped: 0, corrupted: 0 });
  });

  it('copies written bytes: changing the buffer after write does not change what arrives', () => {
    const { clock, a, atB } = setup({});
    const buffer = Uint8Array.of(1, 2, 3);
    a.write(buffer);
    buffer[0] = 99;
    clock.advanceBy(0);
    expect(atB[0]?.bytes).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('delivers any sequence of chunks identically (property)', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { maxLength: 50 }),
        (seed, chunks) => {
          const clock = new VirtualClock({ startMs: 0 });
          const pair = impairedPair({ seed, scheduler: clock.scheduler });
          const got: Uint8Array[] = [];
          pair.b.data$.subscribe((c) => got.push(c));
          for (const c of chunks) pair.a.write(c);
          clock.advanceBy(0);
          void pair.close();
          expect(got).toEqual(chunks);
        },
      ),
    );
  });
});

describe('impaired link determinism', () => {
  function run(seed: number): string[] {
    const { clock, a, b, atA, atB } = setup({
      seed,
      dropProbability: 0.1,
      bitErrorRate: 1e-3,
      duplicateProbability: 0.1,
      reorderProbability: 0.1,
      latencyMs: 50,
      jitterMs: 20,
      bandwidthBytesPerSecond: 10_000,
    });
    for (let i = 0; i < 300; i++) {
      a.write(chunk(i, 32));
      if (i % 3 === 0) b.write(chunk(i, 8));
      clock.advanceBy(i % 7);
    }
    clock.advanceBy(10_000);
    return [...atB.map((x) => `B ${x.at} ${hex(x.bytes)}`), ...atA.map((x) => `A ${x.at} ${hex(x.bytes)}`)];
  }

  it('gives the same deliveries at the same times for the same seed', () => {
    const first = run(42);
    expect(first.length).toBeGreaterThan(250);
    expect(run(42)).toEqual(first);
  });

  it('gives different deliveries for another seed', () => {
    expect(run(43)).not.toEqual(run(42));
  });
});

describe('impairments, one at a time', () => {
  it('drops close to the configured fraction of chunks, and counts them', () => {
    const { clock, a, atB } = setup({ seed: 1, dropProbability: 0.2 });
    const n = 10_000;
    for (let i = 0; i < n; i++) a.write(chunk(i, 8));
    clock.advanceBy(0);
    const { dropped, delivered } = a.stats.impairments;
    expect(dropped + delivered).toBe(n);
    expect(atB).toHaveLength(delivered);
    expect(dropped / n).toBeGreaterThan(0.18);
    expect(dropped / n).toBeLessThan(0.22);
    // What gets through is in order.
    const indices = atB.map((x) => indexOf(x.bytes));
    expect(indices).toEqual([...indices].sort((x, y) => x - y));
  });

  it('paces chunks to the bandwidth: 1000 B/s carries 5000 bytes in 5 s', () => {
    const { clock, a, atB } = setup({ bandwidthBytesPerSecond: 1000 });
    for (let i = 0; i < 50; i++) a.write(chunk(i, 100));
    clock.advanceBy(4999);
    expect(atB).toHaveLength(49);
    clock.advanceBy(1);
    expect(atB).toHaveLength(50);
    expect(atB.map((x) => x.at)).toEqual(Array.from({ length: 50 }, (_, i) => (i + 1) * 100));
    expect(a.stats.impairments.maxQueuedBytes).toBe(5000);
  });

  it('sends a chunk at once on an idle channel, behind the queue on a busy one', () => {
    const { clock, a, atB } = setup({ bandwidthBytesPerSecond: 1000 });
    a.write(chunk(0, 100));
    clock.advanceBy(1000); // idle again
    a.write(chunk(1, 100));
    a.write(chunk(2, 100));
    clock.advanceBy(1000);
    expect(atB.map((x) => x.at)).toEqual([100, 1100, 1200]);
  });

  it('loses chunks that overflow the send queue', () => {
    const { clock, a, atB } = setup({ bandwidthBytesPerSecond: 1000, queueLimitBytes: 300 });
    for (let i = 0; i < 5; i++) a.write(chunk(i, 100));
    clock.advanceBy(1000);
    expect(atB.map((x) => indexOf(x.bytes))).toEqual([0, 1, 2]);
    expect(a.stats.impairments.queueDropped).toBe(2);
  });

  it('delays by the latency, adds jitter within bounds, and keeps order', () => {
    const { clock, a, atB } = setup({ seed: 3, latencyMs: 250, jitterMs: 100 });
    for (let i = 0; i < 200; i++) {
      a.write(chunk(i));
      clock.advanceBy(5);
    }
    clock.advanceBy(1000);
    expect(atB.map((x) => indexOf(x.bytes))).toEqual([...Array(200).keys()]);
    atB.forEach((x, i) => {
      const sentAt = i * 5;
      expect(x.at - sentAt).toBeGreaterThanOrEqual(250);
      // The arrival can be pushed later by an earlier chunk's jitter, never past the largest jitter.
      expect(x.at - sentAt).toBeLessThan(350);
    });
    expect(new Set(atB.map((x, i) => x.at - i * 5)).size).toBeGreaterThan(100);
  });

  it('with latency only, nothing arrives early', () => {
    const { clock, a, atB } = setup({ latencyMs: 250 });
    a.write(chunk(0));
    clock.advanceBy(249);
    expect(atB).toHaveLength(0);
    clock.advanceBy(1);
    expect(atB.map((x) => x.at)).toEqual([250]);
  });

  it('reorders: a held chunk goes right after the next one', () => {
    const { clock, a, atB } = setup({ reorderProbability: 1 });
    for (let i = 0; i < 6; i++) a.write(chunk(i));
    clock.advanceBy(0);
    expect(atB.map((x) => indexOf(x.bytes))).toEqual([1, 0, 3, 2, 5, 4]);
    expect(a.stats.impairments.reordered).toBe(3);
  });

  it('releases a held chunk alone when no later chunk comes', () => {
    const { clock, a, atB } = setup({ reorderProbability: 1, reorderMaxHoldMs: 300 });
    a.write(chunk(0));
    clock.advanceBy(299);
    expect(atB).toHaveLength(0);
    clock.advanceBy(1);
    expect(atB.map((x) => x.at)).toEqual([300]);
    expect(a.stats.impairments).toMatchObject({ reordered: 0, delivered: 1 });
    expect(clock.scheduler.pending()).toBe(0);
  });

  it('reorders about the configured fraction, and loses nothing', () => {
    const { clock, a, atB } = setup({ seed: 9, reorderProbability: 0.1 });
    for (let i = 0; i < 2000; i++) a.write(chunk(i));
    clock.advanceBy(2000);
    const indices = atB.map((x) => indexOf(x.bytes));
    expect([...indices].sort((x, y) => x - y)).toEqual([...Array(2000).keys()]);
    const inversions = indices.filter((v, i) => i > 0 && v < indices[i - 1]!).length;
    expect(inversions).toBe(a.stats.impairments.reordered);
    expect(inversions).toBeGreaterThan(120);
    expect(inversions).toBeLessThan(240);
  });

  it('duplicates: every chunk twice with probability 1, about the fraction otherwise', () => {
    const always = setup({ duplicateProbability: 1 });
    always.a.write(chunk(0));
    always.a.write(chunk(1));
    always.clock.advanceBy(0);
    expect(always.atB.map((x) => indexOf(x.bytes))).toEqual([0, 0, 1, 1]);
    expect(always.a.stats.impairments).toMatchObject({ duplicated: 2, delivered: 4 });
    expect(always.b.stats.chunksIn).toBe(4);

    const some = setup({ seed: 5, duplicateProbability: 0.3 });
    for (let i = 0; i < 5000; i++) some.a.write(chunk(i));
    some.clock.advanceBy(0);
    const { duplicated } = some.a.stats.impairments;
    expect(some.atB).toHaveLength(5000 + duplicated);
    expect(duplicated / 5000).toBeGreaterThan(0.27);
    expect(duplicated / 5000).toBeLessThan(0.33);
  });

  it('flips bits at the configured rate and counts exactly the bits flipped', () => {
    const { clock, a, atB } = setup({ seed: 11, bitErrorRate: 1e-3 });
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) {
      const c = chunk(i, 100);
      sent.push(c);
      a.write(c);
    }
    clock.advanceBy(0);
    expect(atB).toHaveLength(2000);
    let flipped = 0;
    let corrupted = 0;
    atB.forEach((x, i) => {
      const original = sent[i]!;
      expect(x.bytes.length).toBe(original.length);
      let here = 0;
      for (let k = 0; k < original.length; k++) {
        let diff = original[k]! ^ x.bytes[k]!;
        while (diff !== 0) {
          here += diff & 1;
          diff >>= 1;
        }
      }
      flipped += here;
      if (here > 0) corrupted += 1;
    });
    const stats = a.stats.impairments;
    expect(stats.bitsFlipped).toBe(flipped);
    expect(stats.corrupted).toBe(corrupted);
    // 1.6 M bits at 1e-3: 1600 expected, standard deviation 40.
    expect(flipped).toBeGreaterThan(1450);
    expect(flipped).toBeLessThan(1750);
  });

  it('applies each direction its own impairments', () => {
    const { clock, a, b, atA, atB } = setup({ aToB: { dropProbability: 1 }, bToA: { latencyMs: 10 } });
    a.write(chunk(0));
    b.write(chunk(1));
    clock.advanceBy(10);
    expect(atB).toHaveLength(0);
    expect(atA.map((x) => [x.at, indexOf(x.bytes)])).toEqual([[10, 1]]);
    expect(a.stats.impairments.dropped).toBe(1);
    expect(b.stats.impairments.dropped).toBe(0);
  });

  it('changes impairments at run time', () => {
    const { clock, pair, a, atB } = setup({});
    a.write(chunk(0));
    pair.setImpairments('aToB', { latencyMs: 100 });
    a.write(chunk(1));
    clock.advanceBy(100);
    expect(atB.map((x) => x.at)).toEqual([0, 100]);
    expect(pair.impairments('aToB')).toEqual({ latencyMs: 100 });
  });

  it('refuses impossible impairments', () => {
    const clock = new VirtualClock();
    expect(() => impairedPair({ scheduler: clock.scheduler, dropProbability: 1.5 })).toThrow(
      /dropProbability/,
    );
    expect(() => impairedPair({ scheduler: clock.scheduler, bandwidthBytesPerSecond: 0 })).toThrow(
      /bandwidth/,
    );
    expect(() => impairedPair({ scheduler: clock.scheduler, bToA: { latencyMs: -1 } })).toThrow(
      /bToA.latencyMs/,
    );
  });
});

describe('impaired link state', () => {
  it('goes down and up: writes refused and chunks in flight lost while down, then flows again', () => {
    const { clock, pair, a, b, atB } = setup({ latencyMs: 100 });
    const states: PipeState[] = [];
    a.state$.subscribe((s) => states.push(s));
    a.write(chunk(0));
    pair.setLinkUp(false);
    expect(a.state).toMatchObject({ kind: 'reconnecting', reason: 'link down' });
    expect(b.state.kind).toBe('reconnecting');
    expect(a.write(chunk(1, 10))).toBe(false);
    clock.advanceBy(200);
    expect(atB).toHaveLength(0);
    expect(a.stats).toMatchObject({ writesRefused: 1, bytesRefused: 10 });
    expect(a.stats.impairments.lostLinkDown).toBe(1);
    pair.setLinkUp(true);
    expect(a.write(chunk(2))).toBe(true);
    clock.advanceBy(100);
    expect(atB.map((x) => indexOf(x.bytes))).toEqual([2]);
    expect(states.map((s) => s.kind)).toEqual(['open', 'reconnecting', 'open']);
    expect(a.stats.reconnects).toBe(1);
  });

  it('closing one end: the other reports it and refuses writes; nothing is left scheduled', async () => {
    const { clock, pair, a, b } = setup({ latencyMs: 100 });
    let completed = false;
    a.data$.subscribe({ complete: () => (completed = true) });
    a.write(chunk(0));
    b.write(chunk(1));
    await a.close();
    expect(completed).toBe(true);
    expect(a.state.kind).toBe('closed');
    expect(b.state).toMatchObject({ kind: 'reconnecting', reason: 'far end closed' });
    expect(b.write(chunk(2))).toBe(false);
    expect(a.write(chunk(3))).toBe(false);
    await pair.close();
    expect(b.state.kind).toBe('closed');
    expect(clock.scheduler.pending()).toBe(0);
  });
});

describe('flipBits and Prng', () => {
  it('flips nothing at rate 0 and everything at rate 1', () => {
    const prng = new Prng(1);
    const bytes = Uint8Array.of(0x00, 0xff, 0x5a);
    expect(flipBits(bytes, 0, prng)).toBe(0);
    expect(bytes).toEqual(Uint8Array.of(0x00, 0xff, 0x5a));
    expect(flipBits(bytes, 1, prng)).toBe(24);
    expect(bytes).toEqual(Uint8Array.of(0xff, 0x00, 0xa5));
  });

  it('is reproducible and roughly uniform', () => {
    const a = new Prng(123);
    const b = new Prng(123);
    const xs = Array.from({ length: 10_000 }, () => a.next());
    expect(Array.from({ length: 10_000 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    expect(Prng.derive(1, 'aToB').nextUint32()).not.toBe(Prng.derive(1, 'bToA').nextUint32());
    expect(new Prng(0).nextUint32()).toBe(new Prng(0).nextUint32());
  });
});
