/**
 * Spacecraft time. Mission time inside skynode is UTC milliseconds since the Unix epoch (what an rxjs scheduler's
 * `now()` returns); spacecraft time on the wire is CUC (CCSDS 301.0-B) with the implicit P-field 0x1E of
 * PROTOCOL.md: 4 octets of TAI seconds since 1958-01-01 and 2 octets of 1/65536 s.
 */

/** Seconds from 1958-01-01 to 1970-01-01 (4383 days). */
export const TAI_EPOCH_TO_UNIX_EPOCH_S = 378_691_200;

/**
 * TAI - UTC in seconds, from the first of the month given (IERS Bulletin C). The last entry holds until IERS
 * announces the next leap second; a mission appends it here (or passes its own table) before it happens.
 */
export const LEAP_SECONDS: ReadonlyArray<readonly [unixSeconds: number, taiMinusUtc: number]> = [
  [Date.UTC(1972, 0, 1) / 1000, 10],
  [Date.UTC(1972, 6, 1) / 1000, 11],
  [Date.UTC(1973, 0, 1) / 1000, 12],
  [Date.UTC(1974, 0, 1) / 1000, 13],
  [Date.UTC(1975, 0, 1) / 1000, 14],
  [Date.UTC(1976, 0, 1) / 1000, 15],
  [Date.UTC(1977, 0, 1) / 1000, 16],
  [Date.UTC(1978, 0, 1) / 1000, 17],
  [Date.UTC(1979, 0, 1) / 1000, 18],
  [Date.UTC(1980, 0, 1) / 1000, 19],
  [Date.UTC(1981, 6, 1) / 1000, 20],
  [Date.UTC(1982, 6, 1) / 1000, 21],
  [Date.UTC(1983, 6, 1) / 1000, 22],
  [Date.UTC(1985, 6, 1) / 1000, 23],
  [Date.UTC(1988, 0, 1) / 1000, 24],
  [Date.UTC(1990, 0, 1) / 1000, 25],
  [Date.UTC(1991, 0, 1) / 1000, 26],
  [Date.UTC(1992, 6, 1) / 1000, 27],
  [Date.UTC(1993, 6, 1) / 1000, 28],
  [Date.UTC(1994, 6, 1) / 1000, 29],
  [Date.UTC(1996, 0, 1) / 1000, 30],
  [Date.UTC(1997, 6, 1) / 1000, 31],
  [Date.UTC(1999, 0, 1) / 1000, 32],
  [Date.UTC(2006, 0, 1) / 1000, 33],
  [Date.UTC(2009, 0, 1) / 1000, 34],
  [Date.UTC(2012, 6, 1) / 1000, 35],
  [Date.UTC(2015, 6, 1) / 1000, 36],
  [Date.UTC(2017, 0, 1) / 1000, 37],
];

/** TAI - UTC at a UTC instant (10 s before 1972, when UTC still had rubber seconds). */
export function taiMinusUtc(unixMs: number, table = LEAP_SECONDS): number {
  const unixSeconds = Math.floor(unixMs / 1000);
  let offset = 10;
  for (const [since, value] of table) {
    if (unixSeconds >= since) offset = value;
    else break;
  }
  return offset;
}

/** Spacecraft time as CUC: whole TAI seconds since 1958 and the fraction in 1/65536 s. */
export interface CucTime {
  readonly coarse: number;
  readonly fine: number;
}

export const CUC_PFIELD = 0x1e;
export const CUC_LENGTH = 6;
const MAX_COARSE = 0xffff_ffff;

/** TAI milliseconds since 1958-01-01 of a UTC instant. */
export function unixMsToTaiMs(unixMs: number, table = LEAP_SECONDS): number {
  return unixMs + (TAI_EPOCH_TO_UNIX_EPOCH_S + taiMinusUtc(unixMs, table)) * 1000;
}

/** The UTC instant of TAI milliseconds since 1958 (inverse of `unixMsToTaiMs` outside the leap second itself). */
export function taiMsToUnixMs(taiMs: number, table = LEAP_SECONDS): number {
  // First guess with the offset at the guess, then correct once: offsets change by one second at most.
  const guess = taiMs - (TAI_EPOCH_TO_UNIX_EPOCH_S + 37) * 1000;
  const first = taiMs - (TAI_EPOCH_TO_UNIX_EPOCH_S + taiMinusUtc(guess, table)) * 1000;
  return taiMs - (TAI_EPOCH_TO_UNIX_EPOCH_S + taiMinusUtc(first, table)) * 1000;
}

/** CUC of a UTC instant, rounded to the nearest 1/65536 s. Throws outside the 32-bit range (1958 to 2094). */
export function unixMsToCuc(unixMs: number, table = LEAP_SECONDS): CucTime {
  return taiMsToCuc(unixMsToTaiMs(unixMs, table));
}

export function taiMsToCuc(taiMs: number): CucTime {
  let coarse = Math.floor(taiMs / 1000);
  let fine = Math.round(((taiMs - coarse * 1000) * 65536) / 1000);
  if (fine === 65536) {
    coarse += 1;
    fine = 0;
  }
  if (coarse < 0 || coarse > MAX_COARSE)
    throw new RangeError(`TAI ${taiMs} ms is outside CUC's 32-bit seconds`);
  return { coarse, fine };
}

export function cucToTaiMs(cuc: CucTime): number {
  return cuc.coarse * 1000 + (cuc.fine * 1000) / 65536;
}

/** UTC milliseconds of a CUC time (fractional milliseconds kept). */
export function cucToUnixMs(cuc: CucTime, table = LEAP_SECONDS): number {
  return taiMsToUnixMs(cucToTaiMs(cuc), table);
}

/** Writes the 6-octet CUC (P-field implicit) at `offset` of `out`. */
export function writeCuc(out: Uint8Array, offset: number, cuc: CucTime): void {
  out[offset] = (cuc.coarse >>> 24) & 0xff;
  out[offset + 1] = (cuc.coarse >>> 16) & 0xff;
  out[offset + 2] = (cuc.coarse >>> 8) & 0xff;
  out[offset + 3] = cuc.coarse & 0xff;
  out[offset + 4] = (cuc.fine >>> 8) & 0xff;
  out[offset + 5] = cuc.fine & 0xff;
}

export function encodeCuc(cuc: CucTime): Uint8Array {
  const out = new Uint8Array(CUC_LENGTH);
  writeCuc(out, 0, cuc);
  return out;
}

/** Reads a 6-octet CUC at `offset`; undefined when fewer than 6 octets remain. */
export function readCuc(data: Uint8Array, offset = 0): CucTime | undefined {
  if (offset < 0 || offset + CUC_LENGTH > data.length) return undefined;
  const coarse =
    ((data[offset] as number) * 0x1000000 +
      ((data[offset + 1] as number) << 16) +
      ((data[offset + 2] as number) << 8) +
      (data[offset + 3] as number)) >>>
    0;
  const fine = ((data[offset + 4] as number) << 8) | (data[offset + 5] as number);
  return { coarse, fine };
}

/** ISO-8601 UTC text of mission time, for logs and displays. */
export function isoTime(unixMs: number): string {
  return new Date(unixMs).toISOString();
}
