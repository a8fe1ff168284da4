/**
 * The Communications Link Control Word (CCSDS 232.1-B), FARM-1's report in the OCF of every TM frame:
 * `[0 | version 00 | status 000 | COP in effect 01 | VCID 6b | spare 00]
 *  [NoRF | NoBitLock | Lockout | Wait | Retransmit | FARM-B counter 2b | spare 0] [N(R) 8b]`.
 */
import { accept, checkField, type Decoded, reject } from './result.js';

export const CLCW_LENGTH = 4;
/** COP in effect: COP-1. */
export const COP_1 = 1;

export interface ClcwInit {
  /** 3 bits, mission-specific; default 0. */
  readonly statusField?: number;
  /** 2 bits; default 1 (COP-1). */
  readonly copInEffect?: number;
  /** The TC virtual channel FARM-1 reports on. */
  readonly vcid: number;
  readonly noRfAvailable?: boolean;
  readonly noBitLock?: boolean;
  readonly lockout?: boolean;
  readonly wait?: boolean;
  readonly retransmit?: boolean;
  /** 2 bits, the FARM-B counter modulo 4; default 0. */
  readonly farmBCounter?: number;
  /** N(R): the next expected N(S), V(R). */
  readonly reportValue: number;
}

export interface Clcw extends Required<ClcwInit> {}

/** Writes the 4-octet CLCW at `offset`. Throws RangeError on a field out of range. */
export function writeClcw(out: Uint8Array, offset: number, clcw: ClcwInit): void {
  const status = clcw.statusField ?? 0;
  const cop = clcw.copInEffect ?? COP_1;
  const farmB = clcw.farmBCounter ?? 0;
  checkField('CLCW status field', status, 7);
  checkField('COP in effect', cop, 3);
  checkField('CLCW VCID', clcw.vcid, 0x3f);
  checkField('FARM-B counter', farmB, 3);
  checkField('N(R)', clcw.reportValue, 0xff);
  out[offset] = (status << 2) | cop;
  out[offset + 1] = clcw.vcid << 2;
  out[offset + 2] =
    (clcw.noRfAvailable ? 0x80 : 0) |
    (clcw.noBitLock ? 0x40 : 0) |
    (clcw.lockout ? 0x20 : 0) |
    (clcw.wait ? 0x10 : 0) |
    (clcw.retransmit ? 0x08 : 0) |
    (farmB << 1);
  out[offset + 3] = clcw.reportValue;
}

export function encodeClcw(clcw: ClcwInit): Uint8Array {
  const out = new Uint8Array(CLCW_LENGTH);
  writeClcw(out, 0, clcw);
  return out;
}

/** Decodes the CLCW at `offset`. Checks: control word type 0, version 00, spare bits 0. */
export function decodeClcw(data: Uint8Array, offset = 0): Decoded<Clcw> {
  if (offset < 0 || data.length - offset < CLCW_LENGTH)
    return reject('truncated', `CLCW needs 4 octets, ${Math.max(0, data.length - offset)} given`);
  const b0 = data[offset]!;
  const b1 = data[offset + 1]!;
  const b2 = data[offset + 2]!;
  if (b0 & 0x80) return reject('bad-type', 'control word type 1: not a CLCW');
  const version = (b0 >>> 5) & 0x03;
  if (version !== 0) return reject('bad-version', `CLCW version ${version}, expected 0`);
  if (b1 & 0x03 || b2 & 0x01) return reject('bad-spare', 'CLCW spare bits set');
  return accept(
    {
      statusField: (b0 >>> 2) & 0x07,
      copInEffect: b0 & 0x03,
      vcid: b1 >>> 2,
      noRfAvailable: (b2 & 0x80) !== 0,
      noBitLock: (b2 & 0x40) !== 0,
      lockout: (b2 & 0x20) !== 0,
      wait: (b2 & 0x10) !== 0,
      retransmit: (b2 & 0x08) !== 0,
      farmBCounter: (b2 >>> 1) & 0x03,
      reportValue: data[offset + 3]!,
    },
    CLCW_LENGTH,
  );
}
