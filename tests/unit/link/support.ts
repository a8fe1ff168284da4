/** Shared helpers and fast-check arbitraries for the link-layer tests. */
import fc from 'fast-check';
import type { ClcwInit } from '../../../src/link/clcw.js';
import type { TcPacketInit, TmPacketInit } from '../../../src/link/pus.js';
import type { TcFrame } from '../../../src/link/tc-frame.js';

export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(data: Uint8Array): string {
  return Array.from(data, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Bit-by-bit CRC-16/IBM-3740, independent of the table-driven one under test. */
export function referenceCrc16(data: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Rewrites the last two octets of `data[0, end)` with the CRC of the octets before them. */
export function fixCrc(data: Uint8Array, end = data.length): Uint8Array {
  if (end < 2) return data;
  const crc = referenceCrc16(data.subarray(0, end - 2));
  data[end - 2] = crc >>> 8;
  data[end - 1] = crc & 0xff;
  return data;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A copy of `data` with some octets overwritten: near-valid inputs that reach past the first checks. */
export const mutations = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
  minLength: 1,
  maxLength: 4,
});

export function mutate(data: Uint8Array, edits: ReadonlyArray<readonly [number, number]>): Uint8Array {
  const out = data.slice();
  if (out.length === 0) return out;
  for (const [index, value] of edits) out[index % out.length] = value;
  return out;
}

export const apid = fc.integer({ min: 0, max: 0x7ff });
export const sequenceCount = fc.integer({ min: 0, max: 0x3fff });
export const sequenceFlags = fc.integer({ min: 0, max: 3 });
export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const cuc = fc.record({ coarse: fc.integer({ min: 0, max: 0xffff_ffff }), fine: u16 });

export const tcPacketInit: fc.Arbitrary<Required<TcPacketInit>> = fc.record({
  apid,
  sequenceFlags,
  sequenceCount,
  ackFlags: fc.integer({ min: 0, max: 0xf }),
  service: u8,
  subtype: u8,
  sourceId: u16,
  appData: fc.uint8Array({ maxLength: 300 }),
});

export const tmPacketInit: fc.Arbitrary<Required<TmPacketInit>> = fc.record({
  apid,
  sequenceFlags,
  sequenceCount,
  timeReferenceStatus: fc.integer({ min: 0, max: 0xf }),
  service: u8,
  subtype: u8,
  messageTypeCounter: u16,
  destinationId: u16,
  time: cuc,
  sourceData: fc.uint8Array({ maxLength: 300 }),
});

export const clcwInit: fc.Arbitrary<Required<ClcwInit>> = fc.record({
  statusField: fc.integer({ min: 0, max: 7 }),
  copInEffect: fc.integer({ min: 0, max: 3 }),
  vcid: fc.integer({ min: 0, max: 63 }),
  noRfAvailable: fc.boolean(),
  noBitLock: fc.boolean(),
  lockout: fc.boolean(),
  wait: fc.boolean(),
  retransmit: fc.boolean(),
  farmBCounter: fc.integer({ min: 0, max: 3 }),
  reportValue: u8,
});

const scid = fc.integer({ min: 0, max: 0x3ff });
const tcVcid = fc.integer({ min: 0, max: 63 });

export const tcFrame: fc.Arbitrary<TcFrame> = fc.oneof(
  fc.record({
    type: fc.constantFrom('AD' as const, 'BD' as const),
    scid,
    vcid: tcVcid,
    sequenceNumber: u8,
    data: fc.uint8Array({ maxLength: 1024 - 8 }),
  }),
  fc.record({
    type: fc.constant('BC' as const),
    scid,
    vcid: tcVcid,
    sequenceNumber: u8,
    command: fc.oneof(
      fc.constant({ kind: 'unlock' as const }),
      fc.record({ kind: fc.constant('set-vr' as const), vr: u8 }),
    ),
  }),
);
