/**
 * CRC-16/IBM-3740 ("CCITT-FALSE"): poly 0x1021, init 0xFFFF, no reflection, xorout 0. Check value of ASCII
 * "123456789" is 0x29B1. The FECF of TM and TC frames and the packet error control of PUS packets, written
 * big-endian after the octets it covers.
 */

export const CRC16_INIT = 0xffff;
export const CRC16_LENGTH = 2;

/**
 * Slicing-by-8 tables: T[k][b] is the CRC (from a zero register) of octet b followed by k zero octets. T[0] is
 * the classic byte-at-a-time table; eight of them let the loop take 8 octets per step without a serial chain.
 */
const T = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint16Array(256));
  const t0 = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t0[n] = c;
  }
  for (let k = 1; k < 8; k++) {
    const previous = tables[k - 1]!;
    const table = tables[k]!;
    for (let n = 0; n < 256; n++) {
      const c = previous[n]!;
      table[n] = ((c << 8) & 0xffff) ^ t0[c >>> 8]!;
    }
  }
  return tables;
})();
const T0 = T[0]!;
const T1 = T[1]!;
const T2 = T[2]!;
const T3 = T[3]!;
const T4 = T[4]!;
const T5 = T[5]!;
const T6 = T[6]!;
const T7 = T[7]!;

/**
 * CRC-16 of `data[start, end)`, without copying. `crc` continues a CRC computed over earlier octets.
 * Indices outside the array are clamped to it.
 */
export function crc16(data: Uint8Array, start = 0, end = data.length, crc = CRC16_INIT): number {
  const to = Math.min(end, data.length);
  let i = Math.max(start, 0);
  let c = crc & 0xffff;
  for (; i + 8 <= to; i += 8) {
    c =
      T7[(c >>> 8) ^ data[i]!]! ^
      T6[(c & 0xff) ^ data[i + 1]!]! ^
      T5[data[i + 2]!]! ^
      T4[data[i + 3]!]! ^
      T3[data[i + 4]!]! ^
      T2[data[i + 5]!]! ^
      T1[data[i + 6]!]! ^
      T0[data[i + 7]!]!;
  }
  for (; i < to; i++) c = ((c << 8) & 0xff00) ^ T0[((c >>> 8) ^ data[i]!) & 0xff]!;
  return c;
}

/** Writes the CRC-16 of `out[start, end)` big-endian at `out[end]` and `out[end + 1]`; returns the CRC. */
export function writeCrc16(out: Uint8Array, start: number, end: number): number {
  const c = crc16(out, start, end);
  out[end] = c >>> 8;
  out[end + 1] = c & 0xff;
  return c;
}

/** Whether the last two octets of `data[start, end)` are the CRC-16 of the octets before them. */
export function checkCrc16(data: Uint8Array, start: number, end: number): boolean {
  if (start < 0 || end > data.length || end - start < CRC16_LENGTH) return false;
  return crc16(data, start, end - 2) === ((data[end - 2]! << 8) | data[end - 1]!);
}
