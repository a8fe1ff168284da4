import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ASM_BYTES,
  CaduSynchronizer,
  type CaduSynchronizerOptions,
  encodeCadu,
  tmFrameFecfOk,
  writeCadu,
} from '../../../src/link/cadu.js';
import { TM_RANDOMIZER_SEQUENCE } from '../../../src/link/randomizer.js';
import { decodeTmFrame, encodeTmFrame, FHP_NO_PACKET, TmFrameLength } from '../../../src/link/tm-frame.js';
import { concat, toHex } from './support.js';

const FRAME_LENGTH = 64;

/** A valid TM frame `length` octets long whose data field depends on `seed`. */
function tmFrame(seed: number, length = FRAME_LENGTH): Uint8Array {
  return encodeTmFrame({
    scid: 0x2a,
    vcid: seed % 7,
    mcFrameCount: seed & 0xff,
    vcFrameCount: seed & 0xff,
    firstHeaderPointer: FHP_NO_PACKET,
    data: Uint8Array.from({ length: length - 12 }, (_, i) => (i * 31 + seed * 7) & 0xff),
    clcw: { vcid: 0, reportValue: seed & 0xff },
  });
}

const frames = (n: number, length = FRAME_LENGTH): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => tmFrame(i + 1, length));

/** Bits of `data`, most significant first. */
function toBits(data: Uint8Array): number[] {
  const bits: number[] = [];
  for (const b of data) for (let k = 7; k >= 0; k--) bits.push((b >> k) & 1);
  return bits;
}

/** Octets of `bits`, the last one completed with zeros. */
function fromBits(bits: readonly number[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) out[i >> 3]! |= bits[i]! << (7 - (i & 7));
  return out;
}

/** Pseudo-random bits from a seed (xorshift), for garbage that is reproducible. */
function garbageBits(count: number, seed: number): number[] {
  let x = seed | 1;
  const bits: number[] = [];
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bits.push(x & 1);
  }
  return bits;
}

function sync(
  chunks: readonly Uint8Array[],
  options: Partial<CaduSynchronizerOptions> = {},
): [Uint8Array[], CaduSynchronizer] {
  const synchronizer = new CaduSynchronizer({ frameLength: FRAME_LENGTH, ...options });
  const out: Uint8Array[] = [];
  for (const c of chunks) synchronizer.push(c, out);
  return [out, synchronizer];
}

/** The CADUs of `list` as one bit stream. */
const caduBits = (list: readonly Uint8Array[]): number[] => toBits(concat(list.map((f) => encodeCadu(f))));

describe('CADU encoding', () => {
  it('is the ASM then the frame XORed with the TM sequence', () => {
    const frame = tmFrame(1);
    const copy = frame.slice();
    const cadu = encodeCadu(frame);
    expect(toHex(cadu.subarray(0, 4))).toBe('1a cf fc 1d');
    expect(cadu.length).toBe(4 + FRAME_LENGTH);
    for (let i = 0; i < FRAME_LENGTH; i++) expect(cadu[4 + i]).toBe(frame[i]! ^ TM_RANDOMIZER_SEQUENCE[i]!);
    expect(frame).toEqual(copy);
    expect(encodeCadu(frame, { randomize: false })).toEqual(concat([ASM_BYTES, frame]));
  });

  it('writes into a buffer at an offset, refusing one too small', () => {
    const frame = tmFrame(2);
    const out = new Uint8Array(10 + 4 + FRAME_LENGTH);
    expect(writeCadu(out, 10, frame)).toBe(4 + FRAME_LENGTH);
    expect(out.subarray(10)).toEqual(encodeCadu(frame));
    expect(() => writeCadu(out, 11, frame)).toThrow(RangeError);
  });

  it('checks a TM frame FECF', () => {
    const frame = tmFrame(3);
    expect(tmFrameFecfOk(frame)).toBe(true);
    frame[10]! ^= 1;
    expect(tmFrameFecfOk(frame)).toBe(false);
    expect(tmFrameFecfOk(new Uint8Array(1))).toBe(false);
  });
});

describe('CADU synchronizer', () => {
  it('finds CADUs at every bit offset after garbage, in any split', () => {
    const list = frames(5);
    for (let offset = 0; offset < 8; offset++) {
      const stream = fromBits([...garbageBits(8 * 37 + offset, offset + 1), ...caduBits(list)]);
      const [out, synchronizer] = sync([stream]);
      expect(out).toEqual(list);
      expect(synchronizer.state).toBe('lock');
      expect(synchronizer.stats).toMatchObject({ frames: 5, acquisitions: 1, resyncs: 0, bitSlips: 0 });
      expect(synchronizer.stats.skippedBits).toBe(8 * 37 + offset);
      // Split anywhere, octet by octet included.
      const [octets] = sync(Array.from(stream, (b) => Uint8Array.of(b)));
      expect(octets).toEqual(list);
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.array(fc.nat(), { maxLength: 8 }), (lead, cuts) => {
        const stream = fromBits([...garbageBits(lead, lead + 7), ...caduBits(list)]);
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let start = 0;
        for (const p of points) {
          chunks.push(stream.subarray(start, p));
          start = p;
        }
        chunks.push(stream.subarray(start));
        expect(sync(chunks)[0]).toEqual(list);
      }),
      { numRuns: 50 },
    );
  });

  it('handles the radio profile frame length in large chunks', () => {
    const list = frames(12, TmFrameLength.radio);
    const stream = concat([Uint8Array.of(1, 2, 3), ...list.map((f) => encodeCadu(f))]);
    const [out] = sync([stream.subarray(0, 10_000), stream.subarray(10_000)], {
      frameLength: TmFrameLength.radio,
    });
    expect(out).toEqual(list);
    for (const frame of out) expect(decodeTmFrame(frame, { frameLength: TmFrameLength.radio }).ok).toBe(true);
  });

  it('delivers frames without derandomizing when asked', () => {
    const list = frames(2);
    const [out] = sync([concat(list.map((f) => encodeCadu(f, { randomize: false })))], { randomize: false });
    expect(out).toEqual(list);
  });

  it('tolerates bit errors in the ASM: 1 while searching, 2 in lock', () => {
    const list = frames(4);
    const bits = caduBits(list);
    const cadu = (4 + FRAME_LENGTH) * 8;
    bits[5]! ^= 1; // first ASM: one error
    bits[cadu + 0]! ^= 1; // second and fourth: two errors
    bits[cadu + 31]! ^= 1;
    bits[3 * cadu + 7]! ^= 1;
    bits[3 * cadu + 8]! ^= 1;
    const [out, synchronizer] = sync([fromBits(bits)]);
    expect(out).toEqual(list);
    expect(synchronizer.stats).toMatchObject({ asmBitErrors: 5, asmsWithErrors: 3, resyncs: 0 });
  });

  it('does not acquire on an ASM with two errors, and loses lock on one with three', () => {
    const list = frames(6);
    const bits = caduBits(list);
    const cadu = (4 + FRAME_LENGTH) * 8;
    bits[1]! ^= 1;
    bits[2]! ^= 1; // first ASM: two errors, not found by the search
    for (const k of [4, 9, 20]) bits[3 * cadu + k]! ^= 1; // fourth: three errors
    const [out, synchronizer] = sync([fromBits(bits)]);
    // Frames 2 and 3, then lock is lost at the fourth and regained at the fifth.
    expect(out).toEqual([list[1], list[2], list[4], list[5]]);
    expect(synchronizer.stats).toMatchObject({ frames: 4, acquisitions: 2, resyncs: 1 });
  });

  it('follows a bit slip between CADUs: an inserted or a deleted bit', () => {
    const list = frames(6);
    const cadu = (4 + FRAME_LENGTH) * 8;
    for (const edit of ['insert', 'delete', 'insert two'] as const) {
      const bits = caduBits(list);
      if (edit === 'insert') bits.splice(2 * cadu, 0, 1);
      else if (edit === 'delete') bits.splice(2 * cadu, 1);
      else bits.splice(3 * cadu, 0, 0, 1);
      const [out, synchronizer] = sync([fromBits(bits)]);
      expect(out, edit).toEqual(list);
      expect(synchronizer.stats, edit).toMatchObject({ bitSlips: 1, resyncs: 0, acquisitions: 1 });
    }
  });

  it('recovers from a bit slip inside a frame within the next frame', () => {
    const list = frames(6);
    const cadu = (4 + FRAME_LENGTH) * 8;
    for (const edit of ['insert', 'delete'] as const) {
      const bits = caduBits(list);
      const at = 2 * cadu + 32 + 200; // in the third frame
      if (edit === 'insert') bits.splice(at, 0, 0);
      else bits.splice(at, 1);
      const [out, synchronizer] = sync([fromBits(bits)]);
      expect(out).toHaveLength(6);
      expect(tmFrameFecfOk(out[2]!)).toBe(false);
      expect([...out.slice(0, 2), ...out.slice(3)]).toEqual([...list.slice(0, 2), ...list.slice(3)]);
      expect(synchronizer.stats.bitSlips).toBe(1);
    }
  });

  it('recovers from a dropout (octets lost) and from octets inserted', () => {
    const list = frames(6);
    const caduOctets = 4 + FRAME_LENGTH;
    const stream = concat(list.map((f) => encodeCadu(f)));
    // Ten octets lost in the middle of the third frame: that frame is lost, the fourth is found at once.
    const lost = concat([stream.subarray(0, 2 * caduOctets + 30), stream.subarray(2 * caduOctets + 40)]);
    const [out, synchronizer] = sync([lost]);
    const good = out.filter(tmFrameFecfOk);
    expect(good).toEqual([list[0], list[1], list[3], list[4], list[5]]);
    expect(synchronizer.stats.resyncs).toBe(1);
    // Garbage inserted between CADUs: the search skips it.
    const inserted = concat([
      stream.subarray(0, 2 * caduOctets),
      Uint8Array.of(7, 7, 7, 7, 7),
      stream.subarray(2 * caduOctets),
    ]);
    const [again, second] = sync([inserted]);
    expect(again.filter(tmFrameFecfOk)).toEqual(list);
    expect(second.stats).toMatchObject({ resyncs: 1, acquisitions: 2 });
  });

  it('never throws on random octets, and resets', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 8 }),
        fc.integer({ min: 0, max: 3 }),
        (chunks, maxAsmErrors) => {
          const synchronizer = new CaduSynchronizer({ frameLength: 19, maxAsmErrors, slipWindow: 3 });
          for (const c of chunks) for (const frame of synchronizer.push(c)) expect(frame.length).toBe(19);
        },
      ),
    );
    const synchronizer = new CaduSynchronizer({ frameLength: FRAME_LENGTH });
    synchronizer.push(concat(frames(2).map((f) => encodeCadu(f))));
    expect(synchronizer.state).toBe('lock');
    synchronizer.reset();
    expect(synchronizer.state).toBe('search');
    expect(synchronizer.push(encodeCadu(tmFrame(9)))).toEqual([tmFrame(9)]);
    expect(() => new CaduSynchronizer({ frameLength: 0 })).toThrow(RangeError);
    expect(() => new CaduSynchronizer({ frameLength: 10, maxAsmErrors: -1 })).toThrow(RangeError);
  });
});
