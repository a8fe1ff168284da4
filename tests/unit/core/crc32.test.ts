import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../../src/core/crc32.js';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('crc32', () => {
  it('gives the catalogued check value 0xCBF43926 for "123456789"', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
  });

  it('matches other well-known values', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('a'))).toBe(0xe8b7be43);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    expect(crc32(new Uint8Array(32))).toBe(0x190a55ad);
    expect(crc32(new Uint8Array(32).fill(0xff))).toBe(0xff6cab0b);
  });

  it('returns an unsigned 32-bit integer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
        const c = crc32(data);
        expect(Number.isInteger(c)).toBe(true);
        expect(c).toBeGreaterThanOrEqual(0);
        expect(c).toBeLessThanOrEqual(0xffffffff);
      }),
    );
  });

  it('equals node:zlib crc32 for random byte arrays', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (data) => {
        expect(crc32(data)).toBe(zlibCrc32(data));
      }),
      { numRuns: 1000 },
    );
  });

  it('equals node:zlib crc32 with a starting value', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 128 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (data, previous) => {
          expect(crc32(data, previous)).toBe(zlibCrc32(data, previous));
        },
      ),
    );
  });

  it('reads only the octets of a subarray', () => {
    const whole = ascii('xx123456789yy');
    expect(crc32(whole.subarray(2, 11))).toBe(0xcbf43926);
  });

  it('gives the same result incrementally with `previous` as in one shot', () => {
    const data = ascii('123456789');
    expect(crc32(data.subarray(4), crc32(data.subarray(0, 4)))).toBe(0xcbf43926);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.array(fc.nat(), { maxLength: 5 }), (data, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        let crc = 0;
        let start = 0;
        for (const end of [...points, data.length]) {
          crc = crc32(data.subarray(start, end), crc);
          start = end;
        }
        expect(crc).toBe(crc32(data));
      }),
    );
  });

  it('leaves `previous` unchanged on empty input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (previous) => {
        expect(crc32(new Uint8Array(0), previous)).toBe(previous);
      }),
    );
  });

  it('detects any single-bit flip', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.nat(),
        fc.nat({ max: 7 }),
        (data, at, bit) => {
          const flipped = data.slice();
          const i = at % data.length;
          flipped[i] = (flipped[i] as number) ^ (1 << bit);
          expect(crc32(flipped)).not.toBe(crc32(data));
        },
      ),
    );
  });
});
