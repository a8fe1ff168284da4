/**
 * PUS-C (ECSS-E-ST-70-41C) telecommand and telemetry packets as PROTOCOL.md lays them out: a space packet with
 * the secondary header flag set, the PUS secondary header, the application or source data, and the packet error
 * control (CRC-16 over every octet of the packet before it).
 *
 * TC: `[primary header] [PUS version 0010 | ack flags 4b] [service] [subtype] [source ID 16b] [app data] [CRC]`
 * TM: `[primary header] [PUS version 0010 | time reference status 4b] [service] [subtype]
 *      [message type counter 16b] [destination ID 16b] [CUC 6 octets] [source data] [CRC]`
 */
import { CUC_LENGTH, type CucTime, readCuc, writeCuc } from '../core/time.js';
import { CRC16_LENGTH, crc16, writeCrc16 } from './crc16.js';
import { accept, checkField, type Decoded, type Rejected, reject } from './result.js';
import {
  PacketType,
  readSpacePacketHeader,
  SequenceFlags,
  SPACE_PACKET_HEADER_LENGTH,
  writeSpacePacketHeader,
} from './space-packet.js';

export const PUS_VERSION = 2;
export const TC_SECONDARY_HEADER_LENGTH = 5;
export const TM_SECONDARY_HEADER_LENGTH = 7 + CUC_LENGTH;
/** Header, secondary header and CRC: a TC packet with no application data. */
export const TC_PACKET_MIN_LENGTH = SPACE_PACKET_HEADER_LENGTH + TC_SECONDARY_HEADER_LENGTH + CRC16_LENGTH;
/** Header, secondary header and CRC: a TM packet with no source data. */
export const TM_PACKET_MIN_LENGTH = SPACE_PACKET_HEADER_LENGTH + TM_SECONDARY_HEADER_LENGTH + CRC16_LENGTH;
/** Most application or source data a packet can hold (its data field is at most 65536 octets). */
export const TC_APP_DATA_MAX_LENGTH = 65536 - TC_SECONDARY_HEADER_LENGTH - CRC16_LENGTH;
export const TM_SOURCE_DATA_MAX_LENGTH = 65536 - TM_SECONDARY_HEADER_LENGTH - CRC16_LENGTH;

/** Acknowledgement flags of a TC: which success reports it asks for (failures are always reported). */
export const AckFlags = {
  none: 0,
  acceptance: 0b0001,
  start: 0b0010,
  progress: 0b0100,
  completion: 0b1000,
  all: 0b1111,
} as const;

const EMPTY = new Uint8Array(0);

export interface TcPacketInit {
  readonly apid: number;
  /** Default 11 (unsegmented). */
  readonly sequenceFlags?: number;
  readonly sequenceCount: number;
  /** 4 bits, see AckFlags. */
  readonly ackFlags: number;
  readonly service: number;
  readonly subtype: number;
  /** Default 0. */
  readonly sourceId?: number;
  /** Default none. */
  readonly appData?: Uint8Array;
}

/** A decoded TC; `appData` is a view of the input, not a copy. */
export interface TcPacket extends Required<TcPacketInit> {}

export interface TmPacketInit {
  readonly apid: number;
  /** Default 11 (unsegmented). */
  readonly sequenceFlags?: number;
  readonly sequenceCount: number;
  /** Default 0. */
  readonly timeReferenceStatus?: number;
  readonly service: number;
  readonly subtype: number;
  /** Per service, subtype and destination; default 0. */
  readonly messageTypeCounter?: number;
  /** Default 0. */
  readonly destinationId?: number;
  readonly time: CucTime;
  /** Default none. */
  readonly sourceData?: Uint8Array;
}

/** A decoded TM; `sourceData` is a view of the input, not a copy. */
export interface TmPacket extends Required<TmPacketInit> {}

export function tcPacketLength(appDataLength: number): number {
  return TC_PACKET_MIN_LENGTH + appDataLength;
}

export function tmPacketLength(sourceDataLength: number): number {
  return TM_PACKET_MIN_LENGTH + sourceDataLength;
}

/**
 * The request ID of a TC, which verification reports echo: the first 4 octets of its primary header as an
 * unsigned 32-bit number.
 */
export function tcRequestId(packet: Pick<TcPacket, 'apid' | 'sequenceFlags' | 'sequenceCount'>): number {
  return (
    (0x1800 | (packet.apid & 0x7ff)) * 0x10000 +
    (((packet.sequenceFlags & 3) << 14) | (packet.sequenceCount & 0x3fff))
  );
}

/** Writes a TC packet at `offset` of `out`; returns its length. Throws RangeError on a field out of range. */
export function writeTcPacket(out: Uint8Array, offset: number, packet: TcPacketInit): number {
  const appData = packet.appData ?? EMPTY;
  if (appData.length > TC_APP_DATA_MAX_LENGTH)
    throw new RangeError(`TC application data of ${appData.length} octets exceeds ${TC_APP_DATA_MAX_LENGTH}`);
  const sourceId = packet.sourceId ?? 0;
  checkField('ack flags', packet.ackFlags, 0xf);
  checkField('service', packet.service, 0xff);
  checkField('subtype', packet.subtype, 0xff);
  checkField('source ID', sourceId, 0xffff);
  const total = tcPacketLength(appData.length);
  writeSpacePacketHeader(out, offset, {
    type: PacketType.tc,
    secondaryHeader: true,
    apid: packet.apid,
    sequenceFlags: packet.sequenceFlags ?? SequenceFlags.unsegmented,
    sequenceCount: packet.sequenceCount,
    dataLength: total - SPACE_PACKET_HEADER_LENGTH - 1,
  });
  let at = offset + SPACE_PACKET_HEADER_LENGTH;
  out[at] = (PUS_VERSION << 4) | packet.ackFlags;
  out[at + 1] = packet.service;
  out[at + 2] = packet.subtype;
  out[at + 3] = sourceId >>> 8;
  out[at + 4] = sourceId & 0xff;
  at += TC_SECONDARY_HEADER_LENGTH;
  out.set(appData, at);
  writeCrc16(out, offset, at + appData.length);
  return total;
}

export function encodeTcPacket(packet: TcPacketInit): Uint8Array {
  const out = new Uint8Array(tcPacketLength(packet.appData?.length ?? 0));
  writeTcPacket(out, 0, packet);
  return out;
}

/** Writes a TM packet at `offset` of `out`; returns its length. Throws RangeError on a field out of range. */
export function writeTmPacket(out: Uint8Array, offset: number, packet: TmPacketInit): number {
  const sourceData = packet.sourceData ?? EMPTY;
  if (sourceData.length > TM_SOURCE_DATA_MAX_LENGTH)
    throw new RangeError(
      `TM source data of ${sourceData.length} octets exceeds ${TM_SOURCE_DATA_MAX_LENGTH}`,
    );
  const timeReferenceStatus = packet.timeReferenceStatus ?? 0;
  const counter = packet.messageTypeCounter ?? 0;
  const destination = packet.destinationId ?? 0;
  checkField('time reference status', timeReferenceStatus, 0xf);
  checkField('service', packet.service, 0xff);
  checkField('subtype', packet.subtype, 0xff);
  checkField('message type counter', counter, 0xffff);
  checkField('destination ID', destination, 0xffff);
  checkField('CUC coarse time', packet.time.coarse, 0xffff_ffff);
  checkField('CUC fine time', packet.time.fine, 0xffff);
  const total = tmPacketLength(sourceData.length);
  writeSpacePacketHeader(out, offset, {
    type: PacketType.tm,
    secondaryHeader: true,
    apid: packet.apid,
    sequenceFlags: packet.sequenceFlags ?? SequenceFlags.unsegmented,
    sequenceCount: packet.sequenceCount,
    dataLength: total - SPACE_PACKET_HEADER_LENGTH - 1,
  });
  let at = offset + SPACE_PACKET_HEADER_LENGTH;
  out[at] = (PUS_VERSION << 4) | timeReferenceStatus;
  out[at + 1] = packet.service;
  out[at + 2] = packet.subtype;
  out[at + 3] = counter >>> 8;
  out[at + 4] = counter & 0xff;
  out[at + 5] = destination >>> 8;
  out[at + 6] = destination & 0xff;
  writeCuc(out, at + 7, packet.time);
  at += TM_SECONDARY_HEADER_LENGTH;
  out.set(sourceData, at);
  writeCrc16(out, offset, at + sourceData.length);
  return total;
}

export function encodeTmPacket(packet: TmPacketInit): Uint8Array {
  const out = new Uint8Array(tmPacketLength(packet.sourceData?.length ?? 0));
  writeTmPacket(out, 0, packet);
  return out;
}

/**
 * Checks shared by TC and TM: header, type, secondary header flag, length against the octets given and the
 * minimum, CRC, PUS version. Returns the packet's total length, or the rejection.
 */
function checkPusPacket(
  data: Uint8Array,
  offset: number,
  type: PacketType,
  minLength: number,
): number | Rejected {
  const header = readSpacePacketHeader(data, offset);
  if (!header.ok) return header;
  const h = header.value;
  const what = type === PacketType.tc ? 'TC' : 'TM';
  if (h.type !== type) return reject('bad-type', `packet type ${h.type}, expected ${type} (${what})`);
  if (!h.secondaryHeader) return reject('bad-secondary-header', `${what} packet without a secondary header`);
  const total = h.dataLength + 1 + SPACE_PACKET_HEADER_LENGTH;
  if (total < minLength)
    return reject('bad-length', `${what} packet of ${total} octets, at least ${minLength} needed`);
  if (data.length - offset < total)
    return reject('truncated', `${what} packet of ${total} octets, ${data.length - offset} given`);
  const end = offset + total;
  const expected = crc16(data, offset, end - CRC16_LENGTH);
  const actual = (data[end - 2]! << 8) | data[end - 1]!;
  if (expected !== actual)
    return reject(
      'bad-crc',
      `packet error control ${actual.toString(16)}, expected ${expected.toString(16)}`,
    );
  const pusVersion = data[offset + SPACE_PACKET_HEADER_LENGTH]! >>> 4;
  if (pusVersion !== PUS_VERSION) return reject('bad-pus-version', `PUS version ${pusVersion}, expected 2`);
  return total;
}

/**
 * Decodes the TC packet at `offset`; octets after it are left alone (see `length`). Checks: packet version 0,
 * type TC, secondary header flag, length (header's against the octets given and the minimum), CRC, PUS version 2.
 */
export function decodeTcPacket(data: Uint8Array, offset = 0): Decoded<TcPacket> {
  const checked = checkPusPacket(data, offset, PacketType.tc, TC_PACKET_MIN_LENGTH);
  if (typeof checked !== 'number') return checked;
  const total = checked;
  const b0 = data[offset]!;
  const b2 = data[offset + 2]!;
  const s = offset + SPACE_PACKET_HEADER_LENGTH;
  return accept(
    {
      apid: ((b0 & 0x07) << 8) | data[offset + 1]!,
      sequenceFlags: b2 >>> 6,
      sequenceCount: ((b2 & 0x3f) << 8) | data[offset + 3]!,
      ackFlags: data[s]! & 0x0f,
      service: data[s + 1]!,
      subtype: data[s + 2]!,
      sourceId: (data[s + 3]! << 8) | data[s + 4]!,
      appData: data.subarray(s + TC_SECONDARY_HEADER_LENGTH, offset + total - CRC16_LENGTH),
    },
    total,
  );
}

/**
 * Decodes the TM packet at `offset`; octets after it are left alone (see `length`). Checks: packet version 0,
 * type TM, secondary header flag, length, CRC, PUS version 2. Any time reference status is accepted.
 */
export function decodeTmPacket(data: Uint8Array, offset = 0): Decoded<TmPacket> {
  const checked = checkPusPacket(data, offset, PacketType.tm, TM_PACKET_MIN_LENGTH);
  if (typeof checked !== 'number') return checked;
  const total = checked;
  const b0 = data[offset]!;
  const b2 = data[offset + 2]!;
  const s = offset + SPACE_PACKET_HEADER_LENGTH;
  const time = readCuc(data, s + 7);
  if (time === undefined) return reject('truncated', 'TM packet too short for its time');
  return accept(
    {
      apid: ((b0 & 0x07) << 8) | data[offset + 1]!,
      sequenceFlags: b2 >>> 6,
      sequenceCount: ((b2 & 0x3f) << 8) | data[offset + 3]!,
      timeReferenceStatus: data[s]! & 0x0f,
      service: data[s + 1]!,
      subtype: data[s + 2]!,
      messageTypeCounter: (data[s + 3]! << 8) | data[s + 4]!,
      destinationId: (data[s + 5]! << 8) | data[s + 6]!,
      time,
      sourceData: data.subarray(s + TM_SECONDARY_HEADER_LENGTH, offset + total - CRC16_LENGTH),
    },
    total,
  );
}
