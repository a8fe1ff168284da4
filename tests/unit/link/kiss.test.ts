import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KissDecoder, kissEncode, kissEncodedLength } from '../../../src/link/kiss.js';
import { concat, fromHex, toHex } from './support.js';

/** Splits `data` at the given cut points (any values: reduced modulo the length). */
function chunk(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => (data.length === 0 ? 0 : c % (data.length + 1))))].sort(
    (a, b) => a - b,
  );
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    chunks.push(data.subarray(start, p));
    start = p;
  }
  chunks.push(data.subarray(start));
  return chunks;
}

function decodeAll(decoder: KissDecoder, chunks: readonly Uint8Array[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (const c of chunks) decoder.push(c, frames);
  return frames;
}

/** Whether `sub` appears in `all` in order (not necessarily contiguously). */
function isSubsequence(sub: readonly Uint8Array[], all: readonly Uint8Array[]): boolean {
  let i = 0;
  for (const item of all) if (i < sub.length && toHex(item) === toHex(sub[i]!)) i++;
  return i === sub.length;
}

const frame = fc.uint8Array({ minLength: 1, maxLength: 300 });
/** Frames rich in the octets KISS must escape. */
const nastyFrame = fc
  .array(fc.constantFrom(0xc0, 0xdb, 0xdc, 0xdd, 0x00, 0x41), { minLength: 1, maxLength: 40 })
  .map((a) => Uint8Array.from(a));

describe('KISS encoding', () => {
  it('wraps a frame in FENDs after command byte 0x00 and escapes FEND and FESC', () => {
    expect(toHex(kissEncode(fromHex('01 c0 02 db 03')))).toBe('c0 00 01 db dc 02 db dd 03 c0');
    expect(toHex(kissEncode(fromHex('dc dd')))).toBe('c0 00 dc dd c0');
  });

  it('knows its encoded length and never puts FEND inside the frame', () => {
    fc.assert(
      fc.property(fc.oneof(frame, nastyFrame), (f) => {
        const encoded = kissEncode(f);
        expect(encoded.length).toBe(kissEncodedLength(f));
        expect(encoded.subarray(1, encoded.length - 1).includes(0xc0)).toBe(false);
      }),
    );
  });
});

describe('KISS decoder', () => {
  it('decodes back-to-back frames in one chunk and ignores empty frames between FENDs', () => {
    const decoder = new KissDecoder();
    const frames = decoder.push(fromHex('c0 c0 c0 00 01 db dc c0 c0 c0 00 db dd c0'));
    expect(frames.map(toHex)).toEqual(['01 c0', 'db']);
    expect(decoder.frames).toBe(2);
    expect(Object.values(decoder.rejected).every((n) => n === 0)).toBe(true);
  });

  it('shares a FEND between the end of one frame and the start of the next', () => {
    expect(new KissDecoder().push(fromHex('c0 00 01 c0 00 02 c0')).map(toHex)).toEqual(['01', '02']);
  });

  it('counts rejections by reason and resynchronises on the next FEND', () => {
    const decoder = new KissDecoder({ maxFrameLength: 4 });
    const frames = decoder.push(
      fromHex(
        [
          '11 22', // before the first FEND: unsynchronised
          'c0 00 aa db 01 bb', // bad escape: dropped up to the next FEND
          'c0 01 aa', // command byte 1 (TXDELAY): not data
          'c0 10 aa', // port 1: not ours
          'c0 00 01 02 03 04 05', // oversize
          'c0 00', // empty data frame
          'c0 00 01 02 03 db dc c0', // exactly the maximum, with an escape
        ].join(' '),
      ),
    );
    expect(frames.map(toHex)).toEqual(['01 02 03 c0']);
    expect(decoder.rejected).toEqual({
      unsynchronised: 1,
      'bad-escape': 1,
      'bad-command': 2,
      oversize: 1,
      empty: 1,
    });
  });

  it('counts a FEND right after FESC as a bad escape', () => {
    const decoder = new KissDecoder();
    expect(decoder.push(fromHex('c0 00 01 db c0 00 02 c0')).map(toHex)).toEqual(['02']);
    expect(decoder.rejected['bad-escape']).toBe(1);
  });

  it('counts an oversize escaped octet', () => {
    const decoder = new KissDecoder({ maxFrameLength: 1 });
    expect(decoder.push(fromHex('c0 00 01 db dc c0 00 db dc c0')).map(toHex)).toEqual(['c0']);
    expect(decoder.rejected.oversize).toBe(1);
  });

  it('drops a partial frame on reset and waits for a FEND', () => {
    const decoder = new KissDecoder();
    decoder.push(fromHex('c0 00 01 02'));
    decoder.reset();
    expect(decoder.push(fromHex('03 c0 00 04 c0')).map(toHex)).toEqual(['04']);
    expect(decoder.rejected.unsynchronised).toBe(1);
  });

  it('rejects a maximum that is not a positive integer', () => {
    expect(() => new KissDecoder({ maxFrameLength: 0 })).toThrow(RangeError);
  });

  it('recovers every frame from any chunking of a valid stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(frame, nastyFrame), { maxLength: 20 }),
        fc.array(fc.nat()),
        (frames, cuts) => {
          const stream = concat(frames.map(kissEncode));
          const decoded = decodeAll(new KissDecoder({ maxFrameLength: 300 }), chunk(stream, cuts));
          expect(decoded.map(toHex)).toEqual(frames.map(toHex));
        },
      ),
    );
  });

  it('recovers every frame, in order, with garbage between frames, in any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.oneof(frame, nastyFrame)), { maxLength: 15 }),
        fc.array(fc.nat()),
        (items, cuts) => {
          const stream = concat(items.flatMap(([garbage, f]) => [garbage, kissEncode(f)]));
          const decoded = decodeAll(new KissDecoder({ maxFrameLength: 300 }), chunk(stream, cuts));
          const frames = items.map(([, f]) => f);
          // Garbage that happens to look like a data frame (0x00 after a FEND) is delivered too: upper layers
          // reject it by CRC. Every real frame is there, in order.
          expect(isSubsequence(frames, decoded)).toBe(true);
        },
      ),
    );
  });

  it('delivers exactly the frames when the garbage cannot pass for a data frame', () => {
    const garbage = fc
      .uint8Array({ maxLength: 40 })
      .map((g) => g.filter((b) => b !== 0xc0))
      .map((g) => (g.length > 0 && g[0] === 0x00 ? g.subarray(1) : g))
      .filter((g) => g.length === 0 || g[0] !== 0x00);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(garbage, frame), { maxLength: 15 }),
        fc.array(fc.nat()),
        (items, cuts) => {
          const stream = concat(items.flatMap(([g, f]) => [g, kissEncode(f)]));
          const decoded = decodeAll(new KissDecoder({ maxFrameLength: 300 }), chunk(stream, cuts));
          expect(decoded.map(toHex)).toEqual(items.map(([, f]) => toHex(f)));
        },
      ),
    );
  });

  it('never throws on random bytes and delivers only non-empty frames within the maximum', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), fc.integer({ min: 1, max: 64 }), (bytes, max) => {
        const decoder = new KissDecoder({ maxFrameLength: max });
        for (const f of decoder.push(bytes)) {
          expect(f.length).toBeGreaterThan(0);
          expect(f.length).toBeLessThanOrEqual(max);
        }
      }),
    );
  });
});
