import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CUC_LENGTH,
  CUC_PFIELD,
  type CucTime,
  cucToTaiMs,
  cucToUnixMs,
  encodeCuc,
  isoTime,
  LEAP_SECONDS,
  readCuc,
  TAI_EPOCH_TO_UNIX_EPOCH_S,
  taiMinusUtc,
  taiMsToCuc,
  taiMsToUnixMs,
  unixMsToCuc,
  unixMsToTaiMs,
  writeCuc,
} from '../../../src/core/time.js';

const E = 378_691_200;
const LEAP_2017 = Date.UTC(2017, 0, 1);
/** Half a CUC tick in milliseconds: the most that rounding to 1/65536 s can move an instant. */
const HALF_TICK_MS = 1000 / 65536 / 2;

function hex(data: Uint8Array): string {
  return Buffer.from(data)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
}

/** The TAI seconds (CUC coarse) that are inserted leap seconds (23:59:60 UTC) in the table. */
function leapSecondCoarse(table = LEAP_SECONDS): number[] {
  const out: number[] = [];
  for (let i = 1; i < table.length; i++) {
    const [since, offset] = table[i] as readonly [number, number];
    const previous = (table[i - 1] as readonly [number, number])[1];
    if (offset > previous) out.push(since + E + offset - 1);
  }
  return out;
}

describe('constants', () => {
  it('match PROTOCOL.md: P-field 0x1E, 4 + 2 octets, 4383 days from 1958 to 1970', () => {
    expect(CUC_PFIELD).toBe(0x1e);
    expect(CUC_LENGTH).toBe(6);
    expect(TAI_EPOCH_TO_UNIX_EPOCH_S).toBe(E);
    expect(TAI_EPOCH_TO_UNIX_EPOCH_S).toBe(4383 * 86400);
    expect(Date.UTC(1958, 0, 1)).toBe(-E * 1000);
  });

  it('holds the IERS table: 28 entries, 10 s in 1972 to 37 s since 2017, strictly increasing dates', () => {
    expect(LEAP_SECONDS).toHaveLength(28);
    expect(LEAP_SECONDS[0]).toEqual([Date.UTC(1972, 0, 1) / 1000, 10]);
    expect(LEAP_SECONDS.at(-1)).toEqual([LEAP_2017 / 1000, 37]);
    for (let i = 1; i < LEAP_SECONDS.length; i++) {
      const [since, offset] = LEAP_SECONDS[i] as readonly [number, number];
      const [prevSince, prevOffset] = LEAP_SECONDS[i - 1] as readonly [number, number];
      expect(since).toBeGreaterThan(prevSince);
      expect(offset).toBe(prevOffset + 1);
      // Leap seconds take effect at 00:00:00 UTC on the first of January or July.
      const d = new Date(since * 1000);
      expect([0, 6]).toContain(d.getUTCMonth());
      expect(d.getUTCDate()).toBe(1);
      expect(since % 86400).toBe(0);
    }
  });
});

describe('taiMinusUtc', () => {
  it('is 10 s before 1972 and through 1972-06-30', () => {
    expect(taiMinusUtc(Date.UTC(1958, 0, 1))).toBe(10);
    expect(taiMinusUtc(0)).toBe(10);
    expect(taiMinusUtc(Date.UTC(1971, 11, 31, 23, 59, 59, 999))).toBe(10);
    expect(taiMinusUtc(Date.UTC(1972, 0, 1))).toBe(10);
    expect(taiMinusUtc(Date.UTC(1972, 6, 1) - 1)).toBe(10);
    expect(taiMinusUtc(Date.UTC(1972, 6, 1))).toBe(11);
  });

  it('goes from 36 to 37 at 2017-01-01T00:00:00Z', () => {
    expect(taiMinusUtc(Date.UTC(2015, 6, 1) - 1)).toBe(35);
    expect(taiMinusUtc(Date.UTC(2015, 6, 1))).toBe(36);
    expect(taiMinusUtc(LEAP_2017 - 1000)).toBe(36);
    expect(taiMinusUtc(LEAP_2017 - 1)).toBe(36);
    expect(taiMinusUtc(LEAP_2017)).toBe(37);
    expect(taiMinusUtc(Date.UTC(2030, 0, 1))).toBe(37);
  });

  it('gives the tabled offset at and after each entry, and the previous one just before', () => {
    for (let i = 1; i < LEAP_SECONDS.length; i++) {
      const [since, offset] = LEAP_SECONDS[i] as readonly [number, number];
      const previous = (LEAP_SECONDS[i - 1] as readonly [number, number])[1];
      expect(taiMinusUtc(since * 1000)).toBe(offset);
      expect(taiMinusUtc(since * 1000 + 12345)).toBe(offset);
      expect(taiMinusUtc(since * 1000 - 1)).toBe(previous);
    }
  });

  it('uses the table passed in', () => {
    expect(taiMinusUtc(LEAP_2017, [])).toBe(10);
    const withNext = [...LEAP_SECONDS, [Date.UTC(2030, 0, 1) / 1000, 38] as const];
    expect(taiMinusUtc(Date.UTC(2030, 0, 1) - 1, withNext)).toBe(37);
    expect(taiMinusUtc(Date.UTC(2030, 0, 1), withNext)).toBe(38);
  });
});

describe('UTC to CUC: known values', () => {
  it('puts 1958-01-01T00:00:00 TAI at coarse 0', () => {
    expect(taiMsToCuc(0)).toEqual({ coarse: 0, fine: 0 });
    expect(cucToTaiMs({ coarse: 0, fine: 0 })).toBe(0);
    // With the table's 10 s before 1972, 1958-01-01T00:00:00 UTC is TAI second 10.
    expect(unixMsToCuc(Date.UTC(1958, 0, 1))).toEqual({ coarse: 10, fine: 0 });
    expect(unixMsToCuc(Date.UTC(1958, 0, 1) - 10_000)).toEqual({ coarse: 0, fine: 0 });
    expect(cucToUnixMs({ coarse: 0, fine: 0 })).toBe(Date.UTC(1958, 0, 1) - 10_000);
  });

  it('maps the Unix epoch to TAI second 378691200 + 10', () => {
    expect(unixMsToTaiMs(0)).toBe((E + 10) * 1000);
    expect(unixMsToCuc(0)).toEqual({ coarse: 378_691_210, fine: 0 });
    expect(taiMsToUnixMs((E + 10) * 1000)).toBe(0);
    expect(cucToUnixMs({ coarse: 378_691_210, fine: 0 })).toBe(0);
  });

  it('maps 2017-01-01T00:00:00Z to coarse 1861920037', () => {
    expect(LEAP_2017 / 1000 + E + 37).toBe(1_861_920_037);
    expect(unixMsToCuc(LEAP_2017)).toEqual({ coarse: 1_861_920_037, fine: 0 });
    expect(cucToUnixMs({ coarse: 1_861_920_037, fine: 0 })).toBe(LEAP_2017);
  });

  it('skips one TAI second (the leap second 23:59:60) across 2016-12-31', () => {
    expect(unixMsToCuc(LEAP_2017 - 1000)).toEqual({ coarse: 1_861_920_035, fine: 0 }); // 23:59:59
    expect(unixMsToCuc(LEAP_2017 - 1).coarse).toBe(1_861_920_035); // 23:59:59.999
    expect(unixMsToCuc(LEAP_2017)).toEqual({ coarse: 1_861_920_037, fine: 0 }); // 00:00:00
    expect(leapSecondCoarse()).toContain(1_861_920_036);
    // Inside the leap second, the UTC instant is not representable in Unix time: it lands in [23:59:59, 00:00:00].
    const inside = cucToUnixMs({ coarse: 1_861_920_036, fine: 32768 });
    expect(inside).toBeGreaterThanOrEqual(LEAP_2017 - 1000);
    expect(inside).toBeLessThanOrEqual(LEAP_2017);
  });

  it('jumps coarse by 2 across every inserted leap second and by 1 across 1972-01-01', () => {
    for (const [since] of LEAP_SECONDS) {
      const before = unixMsToCuc(since * 1000 - 1000).coarse;
      const after = unixMsToCuc(since * 1000).coarse;
      expect(after - before).toBe(since === Date.UTC(1972, 0, 1) / 1000 ? 1 : 2);
    }
    expect(leapSecondCoarse()).toHaveLength(27);
  });

  it('puts half a second at fine 32768', () => {
    expect(unixMsToCuc(LEAP_2017 + 500)).toEqual({ coarse: 1_861_920_037, fine: 32768 });
    expect(taiMsToCuc(1500)).toEqual({ coarse: 1, fine: 32768 });
    expect(taiMsToCuc(250)).toEqual({ coarse: 0, fine: 16384 });
    expect(taiMsToCuc(750)).toEqual({ coarse: 0, fine: 49152 });
    expect(cucToTaiMs({ coarse: 1, fine: 32768 })).toBe(1500);
    expect(cucToUnixMs({ coarse: 1_861_920_037, fine: 32768 })).toBe(LEAP_2017 + 500);
  });

  it('rounds the fine field to the nearest 1/65536 s, carrying into coarse', () => {
    expect(taiMsToCuc(1)).toEqual({ coarse: 0, fine: 66 }); // 65.536
    expect(taiMsToCuc(999)).toEqual({ coarse: 0, fine: 65470 }); // 65470.464
    expect(taiMsToCuc(999.999)).toEqual({ coarse: 1, fine: 0 }); // 65535.93 rounds to 65536
    expect(taiMsToCuc(1000 + 1000 / 65536)).toEqual({ coarse: 1, fine: 1 });
    expect(cucToTaiMs({ coarse: 2, fine: 65535 })).toBeCloseTo(2999.984741, 6);
  });

  it('keeps fractional milliseconds from the fine field', () => {
    expect(cucToTaiMs({ coarse: 0, fine: 1 })).toBe(1000 / 65536);
    expect(cucToUnixMs({ coarse: 1_861_920_037, fine: 1 })).toBeCloseTo(LEAP_2017 + 1000 / 65536, 6);
  });

  it('uses the table passed in for a future leap second', () => {
    const next = Date.UTC(2030, 0, 1);
    const table = [...LEAP_SECONDS, [next / 1000, 38] as const];
    expect(unixMsToCuc(next, table).coarse).toBe(next / 1000 + E + 38);
    expect(unixMsToCuc(next - 1000, table).coarse).toBe(next / 1000 + E + 36);
    expect(unixMsToCuc(next).coarse).toBe(next / 1000 + E + 37);
    expect(cucToUnixMs({ coarse: next / 1000 + E + 38, fine: 0 }, table)).toBe(next);
  });
});

describe('CUC range', () => {
  it('taiMsToCuc accepts the whole 32-bit coarse range', () => {
    expect(taiMsToCuc(0xffff_ffff * 1000)).toEqual({ coarse: 0xffff_ffff, fine: 0 });
    expect(taiMsToCuc(0xffff_ffff * 1000 + 999)).toEqual({ coarse: 0xffff_ffff, fine: 65470 });
    // Slightly negative TAI rounds to the epoch itself.
    expect(taiMsToCuc(-0.001)).toEqual({ coarse: 0, fine: 0 });
  });

  it('taiMsToCuc throws RangeError outside the 32-bit coarse range', () => {
    expect(() => taiMsToCuc(-1)).toThrow(RangeError);
    expect(() => taiMsToCuc(-1000)).toThrow(RangeError);
    expect(() => taiMsToCuc(2 ** 32 * 1000)).toThrow(RangeError);
    expect(() => taiMsToCuc(2 ** 32 * 1000 - 0.001)).toThrow(RangeError); // rounds up into 2^32
    expect(() => taiMsToCuc(1e15)).toThrow(/outside CUC's 32-bit seconds/);
  });

  it('taiMsToCuc throws beyond the range (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ min: -1e16, max: -1, noNaN: true }),
          fc.double({ min: 2 ** 32 * 1000, max: 1e16, noNaN: true }),
        ),
        (taiMs) => {
          expect(() => taiMsToCuc(taiMs)).toThrow(RangeError);
        },
      ),
    );
  });

  it('unixMsToCuc throws before 1958 and after 2094', () => {
    expect(() => unixMsToCuc(Date.UTC(1957, 0, 1))).toThrow(RangeError);
    expect(() => unixMsToCuc(Date.UTC(2107, 0, 1))).toThrow(RangeError);
    expect(() => unixMsToCuc(Date.UTC(2090, 0, 1))).not.toThrow();
  });
});

describe('round trips (properties)', () => {
  const from1972 = Date.UTC(1972, 0, 1);
  const to2090 = Date.UTC(2090, 0, 1);
  const unixMs = fc.integer({ min: from1972, max: to2090 });
  /** Instants within a few seconds of a leap boundary, where mistakes hide. */
  const nearLeap = fc
    .tuple(
      fc.constantFrom(...LEAP_SECONDS.map(([since]) => since * 1000)),
      fc.integer({ min: -3000, max: 3000 }),
    )
    .map(([at, delta]) => at + delta);

  it('unixMsToCuc then cucToUnixMs gives the same integer millisecond', () => {
    fc.assert(
      fc.property(fc.oneof(unixMs, nearLeap), (ms) => {
        const back = cucToUnixMs(unixMsToCuc(ms));
        // Half a tick, plus a few ulps of a double near 4e12 ms (2^-11 ms each).
        expect(Math.abs(back - ms)).toBeLessThanOrEqual(HALF_TICK_MS + 0.002);
        expect(Math.round(back)).toBe(ms);
      }),
      { numRuns: 5000 },
    );
  });

  it('every millisecond of the seconds around the 2017 leap second round-trips', () => {
    for (let ms = LEAP_2017 - 2000; ms < LEAP_2017 + 2000; ms++) {
      expect(Math.round(cucToUnixMs(unixMsToCuc(ms)))).toBe(ms);
    }
  });

  it('unixMsToTaiMs and taiMsToUnixMs are exact inverses on integer milliseconds', () => {
    fc.assert(
      fc.property(
        fc.oneof(unixMs, nearLeap, fc.integer({ min: Date.UTC(1958, 0, 1), max: from1972 })),
        (ms) => {
          expect(taiMsToUnixMs(unixMsToTaiMs(ms))).toBe(ms);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('CUC to UTC and back gives the same CUC outside leap seconds', () => {
    const leaps = new Set(leapSecondCoarse());
    const lo = unixMsToCuc(from1972).coarse;
    const hi = unixMsToCuc(to2090).coarse;
    const cuc = fc.record({
      coarse: fc.oneof(
        fc.integer({ min: lo, max: hi }),
        fc.constantFrom(...[...leaps].flatMap((c) => [c - 1, c + 1])),
      ),
      fine: fc.integer({ min: 0, max: 0xffff }),
    });
    fc.assert(
      fc.property(
        cuc.filter((c) => !leaps.has(c.coarse)),
        (c) => {
          expect(unixMsToCuc(cucToUnixMs(c))).toEqual(c);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('unixMsToCuc never goes backwards', () => {
    fc.assert(
      fc.property(fc.oneof(unixMs, nearLeap), fc.integer({ min: 0, max: 5000 }), (ms, step) => {
        const a = unixMsToCuc(ms);
        const b = unixMsToCuc(ms + step);
        expect(b.coarse * 65536 + b.fine).toBeGreaterThanOrEqual(a.coarse * 65536 + a.fine);
      }),
    );
  });
});

describe('CUC octets', () => {
  it('encodeCuc writes 6 octets: coarse then fine, big-endian', () => {
    expect(hex(encodeCuc({ coarse: 0x01020304, fine: 0x0506 }))).toBe('01 02 03 04 05 06');
    expect(hex(encodeCuc({ coarse: 0, fine: 0 }))).toBe('00 00 00 00 00 00');
    expect(hex(encodeCuc({ coarse: 0xffff_ffff, fine: 0xffff }))).toBe('ff ff ff ff ff ff');
    expect(hex(encodeCuc({ coarse: 1_861_920_037, fine: 32768 }))).toBe('6e fa a5 25 80 00');
    expect(encodeCuc({ coarse: 1, fine: 2 })).toHaveLength(CUC_LENGTH);
  });

  it('writeCuc writes at the offset and touches nothing else', () => {
    const out = new Uint8Array(10).fill(0xaa);
    writeCuc(out, 2, { coarse: 0x80000001, fine: 0xfffe });
    expect(hex(out)).toBe('aa aa 80 00 00 01 ff fe aa aa');
  });

  it('readCuc reads coarse then fine at the offset', () => {
    const data = Uint8Array.from([0xee, 0x6e, 0xfa, 0xa5, 0x25, 0x80, 0x00, 0xee]);
    expect(readCuc(data, 1)).toEqual({ coarse: 1_861_920_037, fine: 32768 });
    expect(readCuc(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toEqual({
      coarse: 0xffff_ffff,
      fine: 0xffff,
    });
    expect(readCuc(Uint8Array.from([0x80, 0, 0, 0, 0, 1]))).toEqual({ coarse: 0x8000_0000, fine: 1 });
  });

  it('readCuc returns undefined when fewer than 6 octets remain', () => {
    for (let n = 0; n < 6; n++) expect(readCuc(new Uint8Array(n)), `${n} octets`).toBeUndefined();
    expect(readCuc(new Uint8Array(8), 3)).toBeUndefined();
    expect(readCuc(new Uint8Array(8), 2)).toEqual({ coarse: 0, fine: 0 });
    expect(readCuc(new Uint8Array(8), -1)).toBeUndefined();
    expect(readCuc(new Uint8Array(8), 100)).toBeUndefined();
  });

  it('readCuc inverts writeCuc for every coarse and fine (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.nat({ max: 8 }),
        (coarse, fine, offset) => {
          const cuc: CucTime = { coarse, fine };
          const out = new Uint8Array(offset + CUC_LENGTH);
          writeCuc(out, offset, cuc);
          expect(readCuc(out, offset)).toEqual(cuc);
          expect(out.subarray(offset)).toEqual(encodeCuc(cuc));
          const view = new DataView(out.buffer);
          expect(view.getUint32(offset)).toBe(coarse);
          expect(view.getUint16(offset + 4)).toBe(fine);
        },
      ),
    );
  });

  it('readCuc never throws and reads any 6 octets (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), fc.integer({ min: -2, max: 20 }), (data, offset) => {
        const r = readCuc(data, offset);
        if (offset < 0 || offset + 6 > data.length) expect(r).toBeUndefined();
        else {
          const view = new DataView(data.buffer, data.byteOffset);
          expect(r).toEqual({ coarse: view.getUint32(offset), fine: view.getUint16(offset + 4) });
        }
      }),
    );
  });
});

describe('isoTime', () => {
  it('gives ISO-8601 UTC with milliseconds', () => {
    expect(isoTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoTime(LEAP_2017 + 500)).toBe('2017-01-01T00:00:00.500Z');
  });
});
