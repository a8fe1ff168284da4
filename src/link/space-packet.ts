/**
 * CCSDS space packets (133.0-B): the 6-octet primary header
 * `[version 000 | type 1b | sec. header flag 1b | APID 11b] [sequence flags 2b | sequence count 14b]
 * [data length 16b = data-field octets - 1]`, then the packet data field (1 to 65536 octets).
 */
import { accept, checkField, type Decoded, reject } from './result.js';

export const SPACE_PACKET_HEADER_LENGTH = 6;
/** Largest packet: header plus 65536 octets of data field. */
export const SPACE_PACKET_MAX_LENGTH = SPACE_PACKET_HEADER_LENGTH + 65536;
/** Smallest packet: header plus one octet of data field. */
export const SPACE_PACKET_MIN_LENGTH = SPACE_PACKET_HEADER_LENGTH + 1;
export const MAX_APID = 0x7ff;
/** APID of idle packets, which carry fill only. */
export const IDLE_APID = 0x7ff;
export const MAX_SEQUENCE_COUNT = 0x3fff;
/** Octet an idle packet's data field is filled with unless told otherwise. */
export const IDLE_FILL = 0x55;

export const PacketType = { tm: 0, tc: 1 } as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

export const SequenceFlags = { continuation: 0, first: 1, last: 2, unsegmented: 3 } as const;
export type SequenceFlags = (typeof SequenceFlags)[keyof typeof SequenceFlags];

export interface SpacePacketHeader {
  readonly type: PacketType;
  readonly secondaryHeader: boolean;
  readonly apid: number;
  readonly sequenceFlags: number;
  readonly sequenceCount: number;
  /** Octets of the packet data field minus one, as on the wire. */
  readonly dataLength: number;
}

export interface SpacePacketInit {
  readonly type: PacketType;
  readonly secondaryHeader?: boolean;
  readonly apid: number;
  /** Default 11 (unsegmented). */
  readonly sequenceFlags?: number;
  readonly sequenceCount: number;
  /** The packet data field (secondary header and user data), 1 to 65536 octets. */
  readonly data: Uint8Array;
}

/** A decoded packet; `data` is a view of the input's data field, not a copy. */
export interface SpacePacket extends Required<SpacePacketInit> {}

/** Writes the primary header at `offset`. Throws RangeError on a field out of range. */
export function writeSpacePacketHeader(out: Uint8Array, offset: number, header: SpacePacketHeader): void {
  checkField('APID', header.apid, MAX_APID);
  checkField('sequence flags', header.sequenceFlags, 3);
  checkField('sequence count', header.sequenceCount, MAX_SEQUENCE_COUNT);
  checkField('data length', header.dataLength, 0xffff);
  out[offset] = (header.type << 4) | (header.secondaryHeader ? 0x08 : 0) | (header.apid >>> 8);
  out[offset + 1] = header.apid & 0xff;
  out[offset + 2] = (header.sequenceFlags << 6) | (header.sequenceCount >>> 8);
  out[offset + 3] = header.sequenceCount & 0xff;
  out[offset + 4] = header.dataLength >>> 8;
  out[offset + 5] = header.dataLength & 0xff;
}

/** Reads and checks (version 000) the primary header at `offset`. */
export function readSpacePacketHeader(data: Uint8Array, offset = 0): Decoded<SpacePacketHeader> {
  if (offset < 0 || data.length - offset < SPACE_PACKET_HEADER_LENGTH)
    return reject(
      'truncated',
      `space packet header needs 6 octets, ${Math.max(0, data.length - offset)} given`,
    );
  const b0 = data[offset]!;
  const version = b0 >>> 5;
  if (version !== 0) return reject('bad-version', `packet version ${version}, expected 0`);
  const b2 = data[offset + 2]!;
  return accept(
    {
      type: ((b0 >>> 4) & 1) as PacketType,
      secondaryHeader: (b0 & 0x08) !== 0,
      apid: ((b0 & 0x07) << 8) | data[offset + 1]!,
      sequenceFlags: b2 >>> 6,
      sequenceCount: ((b2 & 0x3f) << 8) | data[offset + 3]!,
      dataLength: (data[offset + 4]! << 8) | data[offset + 5]!,
    },
    SPACE_PACKET_HEADER_LENGTH,
  );
}

/** Total octets of the packet whose header starts at `offset`, or -1 when fewer than 6 octets remain. */
export function spacePacketLength(data: Uint8Array, offset = 0): number {
  if (offset < 0 || data.length - offset < SPACE_PACKET_HEADER_LENGTH) return -1;
  return ((data[offset + 4]! << 8) | data[offset + 5]!) + SPACE_PACKET_HEADER_LENGTH + 1;
}

/** Writes a whole packet at `offset`; returns the octets written. */
export function writeSpacePacket(out: Uint8Array, offset: number, packet: SpacePacketInit): number {
  const n = packet.data.length;
  if (n < 1 || n > 65536) throw new RangeError(`packet data field of ${n} octets is not in [1, 65536]`);
  writeSpacePacketHeader(out, offset, {
    type: packet.type,
    secondaryHeader: packet.secondaryHeader ?? false,
    apid: packet.apid,
    sequenceFlags: packet.sequenceFlags ?? SequenceFlags.unsegmented,
    sequenceCount: packet.sequenceCount,
    dataLength: n - 1,
  });
  out.set(packet.data, offset + SPACE_PACKET_HEADER_LENGTH);
  return SPACE_PACKET_HEADER_LENGTH + n;
}

export function encodeSpacePacket(packet: SpacePacketInit): Uint8Array {
  const out = new Uint8Array(SPACE_PACKET_HEADER_LENGTH + packet.data.length);
  writeSpacePacket(out, 0, packet);
  return out;
}

/** Decodes the packet starting at `offset`; octets after it are left alone (see `length`). */
export function decodeSpacePacket(data: Uint8Array, offset = 0): Decoded<SpacePacket> {
  const header = readSpacePacketHeader(data, offset);
  if (!header.ok) return header;
  const h = header.value;
  const total = h.dataLength + 1 + SPACE_PACKET_HEADER_LENGTH;
  if (data.length - offset < total)
    return reject('truncated', `space packet of ${total} octets, ${data.length - offset} given`);
  return accept(
    {
      type: h.type,
      secondaryHeader: h.secondaryHeader,
      apid: h.apid,
      sequenceFlags: h.sequenceFlags,
      sequenceCount: h.sequenceCount,
      data: data.subarray(offset + SPACE_PACKET_HEADER_LENGTH, offset + total),
    },
    total,
  );
}

/**
 * Writes an idle packet (TM, no secondary header, APID 0x7FF, unsegmented) of `length` octets in all, at least
 * 7, its data field filled with `fill`; returns `length`.
 */
export function writeIdlePacket(
  out: Uint8Array,
  offset: number,
  length: number,
  sequenceCount = 0,
  fill = IDLE_FILL,
): number {
  checkIdleLength(length);
  writeSpacePacketHeader(out, offset, {
    type: PacketType.tm,
    secondaryHeader: false,
    apid: IDLE_APID,
    sequenceFlags: SequenceFlags.unsegmented,
    sequenceCount,
    dataLength: length - SPACE_PACKET_HEADER_LENGTH - 1,
  });
  out.fill(fill, offset + SPACE_PACKET_HEADER_LENGTH, offset + length);
  return length;
}

export function encodeIdlePacket(length: number, sequenceCount = 0, fill = IDLE_FILL): Uint8Array {
  checkIdleLength(length);
  const out = new Uint8Array(length);
  writeIdlePacket(out, 0, length, sequenceCount, fill);
  return out;
}

function checkIdleLength(length: number): void {
  if (!Number.isInteger(length) || length < SPACE_PACKET_MIN_LENGTH || length > SPACE_PACKET_MAX_LENGTH)
    throw new RangeError(`idle packet of ${length} octets is not in [7, 65542]`);
}
