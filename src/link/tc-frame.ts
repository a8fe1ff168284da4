/**
 * TC transfer frames (CCSDS 232.0-B) as PROTOCOL.md lays them out:
 * `[version 00 | bypass | control command | spare 00 | SCID 10b] [VCID 6b | frame length 10b = total - 1]
 * [N(S) 8b]`, the frame data field, then the FECF (CRC-16 over everything before it).
 *
 * - BC frames (bypass 1, control command 1) carry a control command directly after the 5-octet header, with no
 *   segment header: Unlock `00` or Set V(R) `82 00 NN`.
 * - AD (0, 0) and BD (1, 0) frames start their data field with the segment header 0xC0 (sequence flags 11,
 *   MAP ID 0); what follows (security header, data, security trailer) is opaque at this layer.
 */
import { CRC16_LENGTH, crc16, writeCrc16 } from './crc16.js';
import { accept, checkField, type Decoded, reject, toHex } from './result.js';

export const TC_FRAME_HEADER_LENGTH = 5;
/** PROTOCOL.md's TC frame maximum (the 10-bit length field allows 1024 too). */
export const TC_FRAME_MAX_LENGTH = 1024;
/** Header, one octet of data field, FECF. */
export const TC_FRAME_MIN_LENGTH = TC_FRAME_HEADER_LENGTH + 1 + CRC16_LENGTH;
/** Segment header of AD and BD frames: sequence flags 11 (unsegmented), MAP ID 0. */
export const TC_SEGMENT_HEADER = 0xc0;
export const MAX_SCID = 0x3ff;
export const MAX_TC_VCID = 0x3f;

export type TcFrameType = 'AD' | 'BD' | 'BC';

/** FARM-1 control commands, carried by BC frames. */
export type ControlCommand = { readonly kind: 'unlock' } | { readonly kind: 'set-vr'; readonly vr: number };

interface TcFrameCommon {
  readonly scid: number;
  readonly vcid: number;
  /** N(S). FARM-1 reads it on AD frames only. */
  readonly sequenceNumber: number;
}

export interface TcDataFrame extends TcFrameCommon {
  readonly type: 'AD' | 'BD';
  /** After the segment header: security header, data, security trailer. A view of the input when decoded. */
  readonly data: Uint8Array;
}

export interface TcControlFrame extends TcFrameCommon {
  readonly type: 'BC';
  readonly command: ControlCommand;
}

export type TcFrame = TcDataFrame | TcControlFrame;

export interface TcFrameDecodeOptions {
  /** Spacecraft ID a frame must carry; any when absent. */
  readonly scid?: number;
  /** Longest frame accepted, default 1024. */
  readonly maxLength?: number;
  /**
   * Accept octets after the frame (CLTU fill): the frame length field decides where it ends. Default false:
   * the input must be exactly one frame.
   */
  readonly allowTrailing?: boolean;
}

function controlCommandLength(command: ControlCommand): number {
  return command.kind === 'unlock' ? 1 : 3;
}

/** Total octets of `frame` on the wire. */
export function tcFrameLength(frame: TcFrame): number {
  const field = frame.type === 'BC' ? controlCommandLength(frame.command) : 1 + frame.data.length;
  return TC_FRAME_HEADER_LENGTH + field + CRC16_LENGTH;
}

/** Writes `frame` at `offset` of `out`; returns its length. Throws RangeError on a field out of range. */
export function writeTcFrame(out: Uint8Array, offset: number, frame: TcFrame): number {
  checkField('SCID', frame.scid, MAX_SCID);
  checkField('VCID', frame.vcid, MAX_TC_VCID);
  checkField('N(S)', frame.sequenceNumber, 0xff);
  const total = tcFrameLength(frame);
  if (total > TC_FRAME_MAX_LENGTH)
    throw new RangeError(`TC frame of ${total} octets exceeds ${TC_FRAME_MAX_LENGTH}`);
  const flags = frame.type === 'AD' ? 0 : frame.type === 'BD' ? 0x20 : 0x30;
  out[offset] = flags | (frame.scid >>> 8);
  out[offset + 1] = frame.scid & 0xff;
  out[offset + 2] = (frame.vcid << 2) | ((total - 1) >>> 8);
  out[offset + 3] = (total - 1) & 0xff;
  out[offset + 4] = frame.sequenceNumber;
  const at = offset + TC_FRAME_HEADER_LENGTH;
  if (frame.type === 'BC') {
    const command = frame.command;
    if (command.kind === 'unlock') out[at] = 0x00;
    else {
      checkField('V(R)', command.vr, 0xff);
      out[at] = 0x82;
      out[at + 1] = 0x00;
      out[at + 2] = command.vr;
    }
  } else {
    out[at] = TC_SEGMENT_HEADER;
    out.set(frame.data, at + 1);
  }
  writeCrc16(out, offset, offset + total - CRC16_LENGTH);
  return total;
}

export function encodeTcFrame(frame: TcFrame): Uint8Array {
  const out = new Uint8Array(tcFrameLength(frame));
  writeTcFrame(out, 0, frame);
  return out;
}

/**
 * Decodes a TC frame from the start of `data`. Checks, in order: header present, version 00, frame length
 * (minimum, maximum, against the octets given), FECF, bypass/control-command combination (01 is not a frame
 * type), spare bits 00, SCID (when asked), then the segment header 0xC0 of AD/BD frames or the control command of
 * BC frames.
 */
export function decodeTcFrame(data: Uint8Array, options: TcFrameDecodeOptions = {}): Decoded<TcFrame> {
  if (data.length < TC_FRAME_HEADER_LENGTH)
    return reject('truncated', `TC frame header needs 5 octets, ${data.length} given`);
  const b0 = data[0]!;
  const version = b0 >>> 6;
  if (version !== 0) return reject('bad-version', `TC frame version ${version}, expected 0`);
  const b2 = data[2]!;
  const total = (((b2 & 0x03) << 8) | data[3]!) + 1;
  const max = options.maxLength ?? TC_FRAME_MAX_LENGTH;
  if (total < TC_FRAME_MIN_LENGTH || total > max)
    return reject('bad-length', `TC frame length ${total} not in [${TC_FRAME_MIN_LENGTH}, ${max}]`);
  if (data.length < total) return reject('truncated', `TC frame of ${total} octets, ${data.length} given`);
  if (data.length > total && !options.allowTrailing)
    return reject('bad-length', `TC frame length field says ${total} octets, ${data.length} given`);
  const end = total - CRC16_LENGTH;
  const expected = crc16(data, 0, end);
  const actual = (data[end]! << 8) | data[end + 1]!;
  if (expected !== actual)
    return reject('bad-crc', `FECF ${actual.toString(16)}, expected ${expected.toString(16)}`);
  const bypass = (b0 & 0x20) !== 0;
  const control = (b0 & 0x10) !== 0;
  if (control && !bypass) return reject('bad-type', 'control command flag set without bypass');
  const spare = (b0 >>> 2) & 0x03;
  if (spare !== 0) return reject('bad-spare', `TC frame spare bits ${spare}, expected 0`);
  const scid = ((b0 & 0x03) << 8) | data[1]!;
  if (options.scid !== undefined && scid !== options.scid)
    return reject('bad-scid', `SCID ${scid}, expected ${options.scid}`);
  const vcid = b2 >>> 2;
  const sequenceNumber = data[4]!;
  const at = TC_FRAME_HEADER_LENGTH;
  if (control) {
    const n = end - at;
    if (n === 1 && data[at] === 0x00)
      return accept({ type: 'BC', scid, vcid, sequenceNumber, command: { kind: 'unlock' } }, total);
    if (n === 3 && data[at] === 0x82 && data[at + 1] === 0x00)
      return accept(
        { type: 'BC', scid, vcid, sequenceNumber, command: { kind: 'set-vr', vr: data[at + 2]! } },
        total,
      );
    return reject(
      'bad-control-command',
      `BC frame data ${toHex(data, at, end)} is neither Unlock nor Set V(R)`,
    );
  }
  const segmentHeader = data[at]!;
  if (segmentHeader !== TC_SEGMENT_HEADER)
    return reject('bad-segment-header', `segment header ${segmentHeader.toString(16)}, expected c0`);
  return accept(
    { type: bypass ? 'BD' : 'AD', scid, vcid, sequenceNumber, data: data.subarray(at + 1, end) },
    total,
  );
}
