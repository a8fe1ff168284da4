/**
 * TM transfer frames (CCSDS 132.0-B), fixed length per link profile, as PROTOCOL.md lays them out:
 * `[version 00 | SCID 10b | VCID 3b | OCF flag 1] [master channel frame count 8b] [VC frame count 8b]
 * [sec. header 0 | sync 0 | order 0 | segment length ID 11 | first header pointer 11b]`, the data field
 * (packets), the OCF (a CLCW, always present) and the FECF (CRC-16 over everything before it).
 *
 * Besides the single-frame codec: `TmFrameAssembler` packs one VC's packet stream into frames (packets span
 * frames; `flush` completes a partial frame with an idle packet), `TmPacketExtractor` reassembles packets from
 * one VC's consecutive frames, detecting VC frame count gaps and resynchronising on the first header pointer.
 */
import { CLCW_LENGTH, type Clcw, type ClcwInit, decodeClcw, writeClcw } from './clcw.js';
import { CRC16_LENGTH, crc16, writeCrc16 } from './crc16.js';
import { accept, checkField, type Decoded, reject } from './result.js';
import {
  IDLE_APID,
  IDLE_FILL,
  SPACE_PACKET_HEADER_LENGTH,
  SPACE_PACKET_MAX_LENGTH,
  SPACE_PACKET_MIN_LENGTH,
  spacePacketLength,
  writeIdlePacket,
} from './space-packet.js';

export const TM_FRAME_HEADER_LENGTH = 6;
export const TM_OCF_LENGTH = CLCW_LENGTH;
/** Header, OCF and FECF: a frame's length less its data field. */
export const TM_FRAME_OVERHEAD = TM_FRAME_HEADER_LENGTH + TM_OCF_LENGTH + CRC16_LENGTH;
export const TM_FRAME_MAX_LENGTH = 2048;
/** Smallest frame this codec handles: room for a minimal space packet in the data field. */
export const TM_FRAME_MIN_LENGTH = TM_FRAME_OVERHEAD + SPACE_PACKET_MIN_LENGTH;
/** Frame length of each link profile. */
export const TmFrameLength = { radio: 1115, serial: 256 } as const;
/** First header pointer of a frame in which no packet starts. */
export const FHP_NO_PACKET = 0x7ff;
/** First header pointer of an idle frame (idle data only). */
export const FHP_IDLE = 0x7fe;
/** VC of idle frames (radio profile). */
export const IDLE_VCID = 7;
export const MAX_TM_VCID = 7;

export interface TmFrameHeader {
  readonly scid: number;
  readonly vcid: number;
  readonly mcFrameCount: number;
  readonly vcFrameCount: number;
  /** Offset in the data field of the first packet starting in this frame, FHP_NO_PACKET or FHP_IDLE. */
  readonly firstHeaderPointer: number;
}

export interface TmFrameInit extends TmFrameHeader {
  /** The data field: frame length less TM_FRAME_OVERHEAD octets. */
  readonly data: Uint8Array;
  readonly clcw: ClcwInit;
}

/** A decoded frame; `data` is a view of the input's data field, not a copy. */
export interface TmFrame extends TmFrameHeader {
  readonly data: Uint8Array;
  readonly clcw: Clcw;
}

export interface TmFrameDecodeOptions {
  /** The profile's fixed frame length; the input must be exactly this long. Default: the input's length. */
  readonly frameLength?: number;
  /** Spacecraft ID a frame must carry; any when absent. */
  readonly scid?: number;
}

/** Octets of the data field of a frame `frameLength` long. */
export function tmDataFieldLength(frameLength: number): number {
  return frameLength - TM_FRAME_OVERHEAD;
}

function checkFrameLength(frameLength: number): void {
  if (
    !Number.isInteger(frameLength) ||
    frameLength < TM_FRAME_MIN_LENGTH ||
    frameLength > TM_FRAME_MAX_LENGTH
  )
    throw new RangeError(
      `TM frame length ${frameLength} not in [${TM_FRAME_MIN_LENGTH}, ${TM_FRAME_MAX_LENGTH}]`,
    );
}

/** Writes the 6-octet primary header at `offset` (OCF flag set). Throws RangeError on a field out of range. */
export function writeTmFrameHeader(out: Uint8Array, offset: number, header: TmFrameHeader): void {
  checkField('SCID', header.scid, 0x3ff);
  checkField('VCID', header.vcid, MAX_TM_VCID);
  checkField('master channel frame count', header.mcFrameCount, 0xff);
  checkField('VC frame count', header.vcFrameCount, 0xff);
  checkField('first header pointer', header.firstHeaderPointer, 0x7ff);
  out[offset] = header.scid >>> 4;
  out[offset + 1] = ((header.scid & 0x0f) << 4) | (header.vcid << 1) | 1;
  out[offset + 2] = header.mcFrameCount;
  out[offset + 3] = header.vcFrameCount;
  out[offset + 4] = 0x18 | (header.firstHeaderPointer >>> 8);
  out[offset + 5] = header.firstHeaderPointer & 0xff;
}

/** Writes the OCF (CLCW) and the FECF of the frame `frameLength` long at `offset`. */
export function sealTmFrame(out: Uint8Array, offset: number, frameLength: number, clcw: ClcwInit): void {
  const fecf = offset + frameLength - CRC16_LENGTH;
  writeClcw(out, fecf - TM_OCF_LENGTH, clcw);
  writeCrc16(out, offset, fecf);
}

/**
 * Rewrites the master channel frame count, the OCF and the FECF of a complete frame in place: for a multiplexer
 * that stamps frames as it sends them rather than as they are assembled.
 */
export function stampTmFrame(
  frame: Uint8Array,
  mcFrameCount: number,
  clcw: ClcwInit,
  offset = 0,
  frameLength = frame.length - offset,
): void {
  checkField('master channel frame count', mcFrameCount, 0xff);
  frame[offset + 2] = mcFrameCount;
  sealTmFrame(frame, offset, frameLength, clcw);
}

/** Writes a frame at `offset`; its length is its data field's plus TM_FRAME_OVERHEAD. Returns that length. */
export function writeTmFrame(out: Uint8Array, offset: number, frame: TmFrameInit): number {
  const total = frame.data.length + TM_FRAME_OVERHEAD;
  checkFrameLength(total);
  const fhp = frame.firstHeaderPointer;
  if (fhp !== FHP_NO_PACKET && fhp !== FHP_IDLE && fhp >= frame.data.length)
    throw new RangeError(`first header pointer ${fhp} beyond a data field of ${frame.data.length} octets`);
  writeTmFrameHeader(out, offset, frame);
  out.set(frame.data, offset + TM_FRAME_HEADER_LENGTH);
  sealTmFrame(out, offset, total, frame.clcw);
  return total;
}

export function encodeTmFrame(frame: TmFrameInit): Uint8Array {
  const out = new Uint8Array(frame.data.length + TM_FRAME_OVERHEAD);
  writeTmFrame(out, 0, frame);
  return out;
}

export interface IdleTmFrameInit {
  readonly frameLength: number;
  readonly scid: number;
  /** Default 7. */
  readonly vcid?: number;
  readonly mcFrameCount: number;
  readonly vcFrameCount: number;
  readonly clcw: ClcwInit;
  /** Octet the data field is filled with; default 0x55. */
  readonly fill?: number;
}

/** Writes an idle frame (first header pointer 0x7FE, data field of fill) at `offset`; returns its length. */
export function writeIdleTmFrame(out: Uint8Array, offset: number, frame: IdleTmFrameInit): number {
  checkFrameLength(frame.frameLength);
  writeTmFrameHeader(out, offset, {
    scid: frame.scid,
    vcid: frame.vcid ?? IDLE_VCID,
    mcFrameCount: frame.mcFrameCount,
    vcFrameCount: frame.vcFrameCount,
    firstHeaderPointer: FHP_IDLE,
  });
  out.fill(
    frame.fill ?? IDLE_FILL,
    offset + TM_FRAME_HEADER_LENGTH,
    offset + frame.frameLength - TM_OCF_LENGTH - CRC16_LENGTH,
  );
  sealTmFrame(out, offset, frame.frameLength, frame.clcw);
  return frame.frameLength;
}

export function encodeIdleTmFrame(frame: IdleTmFrameInit): Uint8Array {
  checkFrameLength(frame.frameLength);
  const out = new Uint8Array(frame.frameLength);
  writeIdleTmFrame(out, 0, frame);
  return out;
}

/**
 * Decodes one frame. Checks, in order: length (the profile's, the octets given, the minimum and maximum), FECF,
 * version 00, OCF flag, data field status (sec. header 0, sync 0, order 0, segment length ID 11), first header
 * pointer within the data field (or 0x7FF, 0x7FE), SCID (when asked), the CLCW in the OCF.
 */
export function decodeTmFrame(data: Uint8Array, options: TmFrameDecodeOptions = {}): Decoded<TmFrame> {
  const total = options.frameLength ?? data.length;
  if (total < TM_FRAME_MIN_LENGTH || total > TM_FRAME_MAX_LENGTH)
    return reject(
      'bad-length',
      `TM frame of ${total} octets not in [${TM_FRAME_MIN_LENGTH}, ${TM_FRAME_MAX_LENGTH}]`,
    );
  if (data.length < total) return reject('truncated', `TM frame of ${total} octets, ${data.length} given`);
  if (data.length > total) return reject('bad-length', `TM frame of ${total} octets, ${data.length} given`);
  const fecf = total - CRC16_LENGTH;
  const expected = crc16(data, 0, fecf);
  const actual = (data[fecf]! << 8) | data[fecf + 1]!;
  if (expected !== actual)
    return reject('bad-crc', `FECF ${actual.toString(16)}, expected ${expected.toString(16)}`);
  const b0 = data[0]!;
  const b1 = data[1]!;
  const version = b0 >>> 6;
  if (version !== 0) return reject('bad-version', `TM frame version ${version}, expected 0`);
  if ((b1 & 1) === 0) return reject('bad-ocf', 'OCF flag clear: every frame carries a CLCW');
  const b4 = data[4]!;
  if (b4 >>> 3 !== 0x03)
    return reject('bad-data-field-status', `data field status ${(b4 >>> 3).toString(2).padStart(5, '0')}`);
  const fhp = ((b4 & 0x07) << 8) | data[5]!;
  const dataEnd = fecf - TM_OCF_LENGTH;
  const dataLength = dataEnd - TM_FRAME_HEADER_LENGTH;
  if (fhp !== FHP_NO_PACKET && fhp !== FHP_IDLE && fhp >= dataLength)
    return reject('bad-first-header-pointer', `first header pointer ${fhp} beyond ${dataLength} octets`);
  const scid = ((b0 & 0x3f) << 4) | (b1 >>> 4);
  if (options.scid !== undefined && scid !== options.scid)
    return reject('bad-scid', `SCID ${scid}, expected ${options.scid}`);
  const clcw = decodeClcw(data, dataEnd);
  if (!clcw.ok) return reject('bad-ocf', `OCF is not a CLCW: ${clcw.detail}`);
  return accept(
    {
      scid,
      vcid: (b1 >>> 1) & 0x07,
      mcFrameCount: data[2]!,
      vcFrameCount: data[3]!,
      firstHeaderPointer: fhp,
      data: data.subarray(TM_FRAME_HEADER_LENGTH, dataEnd),
      clcw: clcw.value,
    },
    total,
  );
}

export interface TmFrameAssemblerOptions {
  /** The profile's fixed frame length (TmFrameLength). */
  readonly frameLength: number;
  readonly scid: number;
  readonly vcid: number;
  /** The OCF of each frame, read as the frame is completed. */
  readonly clcw: () => ClcwInit;
  /**
   * Master channel frame count of each frame, read as the frame is completed: shared by the VCs of one master
   * channel. Default: this assembler's own count from 0.
   */
  readonly mcFrameCount?: () => number;
  /** VC frame count of the first frame; default 0. */
  readonly firstVcFrameCount?: number;
  /** Octet idle packets are filled with; default 0x55. */
  readonly idleFill?: number;
  /**
   * Build every frame in one buffer of the assembler's instead of a new array each: the frames `push` and `flush`
   * return are then valid only until the next call (write them out, or copy them, at once). For the downlink's
   * hot path, where the transport copies what it is given; default false.
   */
  readonly reuseFrames?: boolean;
}

/**
 * Packs one VC's stream of space packets into fixed-length frames: packets span frames, each frame's first
 * header pointer marks the first packet that starts in it (0x7FF when none does). `flush` completes a partial
 * frame with an idle packet (APID 0x7FF): call it when the frame's latency bound runs out. Each completed frame
 * is a new array the caller owns.
 */
export class TmFrameAssembler {
  readonly frameLength: number;
  readonly dataFieldLength: number;
  private readonly options: TmFrameAssemblerOptions;
  private frame: Uint8Array | undefined;
  private fill = 0;
  private fhp = FHP_NO_PACKET;
  private vcCount: number;
  private ownMcCount = 0;
  private idleCount = 0;
  private readonly idle: Uint8Array;

  constructor(options: TmFrameAssemblerOptions) {
    checkFrameLength(options.frameLength);
    checkField('SCID', options.scid, 0x3ff);
    checkField('VCID', options.vcid, MAX_TM_VCID);
    this.options = options;
    this.frameLength = options.frameLength;
    this.dataFieldLength = tmDataFieldLength(options.frameLength);
    this.vcCount = options.firstVcFrameCount ?? 0;
    checkField('VC frame count', this.vcCount, 0xff);
    // An idle packet is at most what is left of a frame plus a whole next frame (when less than 7 octets are left).
    this.idle = new Uint8Array(SPACE_PACKET_MIN_LENGTH - 1 + this.dataFieldLength);
  }

  /** Ring of frame buffers when reusing: one `push` can complete many frames, each must stay intact. */
  private readonly ring: Uint8Array[] = [];
  private ringUsed = 0;

  private nextFrameBuffer(): Uint8Array {
    if (!this.options.reuseFrames) return new Uint8Array(this.frameLength);
    if (this.ringUsed >= this.ring.length) this.ring.push(new Uint8Array(this.frameLength));
    // No clearing needed: a frame is completed only once its whole data field has been written.
    return this.ring[this.ringUsed++] as Uint8Array;
  }

  /** At the start of a call: the frames returned by the previous call are free again, the one in progress not. */
  private recycle(): void {
    if (!this.options.reuseFrames) return;
    const current = this.frame;
    if (current === undefined) {
      this.ringUsed = 0;
      return;
    }
    const at = this.ring.indexOf(current);
    if (at > 0) {
      this.ring[at] = this.ring[0] as Uint8Array;
      this.ring[0] = current;
    }
    this.ringUsed = 1;
  }

  /** Octets already placed in the frame under construction (0 when there is none). */
  get pendingOctets(): number {
    return this.frame === undefined ? 0 : this.fill;
  }

  /** VC frame count the next completed frame will carry. */
  get nextVcFrameCount(): number {
    return this.vcCount;
  }

  /**
   * Adds one complete space packet; returns the frames it completes, appended to `out` if given. Throws
   * RangeError when `packet` is not exactly one space packet by its length field.
   */
  push(packet: Uint8Array, out: Uint8Array[] = []): Uint8Array[] {
    const length = spacePacketLength(packet);
    if (length !== packet.length || length < SPACE_PACKET_MIN_LENGTH)
      throw new RangeError(`${packet.length} octets are not one space packet (its header says ${length})`);
    this.recycle();
    this.write(packet, length, out);
    return out;
  }

  /**
   * Completes the frame under construction, if any, with an idle packet. When fewer than 7 octets are left in it,
   * the idle packet spans into one more frame, which it fills. Returns the frames completed.
   */
  flush(out: Uint8Array[] = []): Uint8Array[] {
    if (this.frame === undefined) return out;
    this.recycle();
    const left = this.dataFieldLength - this.fill;
    const length = left >= SPACE_PACKET_MIN_LENGTH ? left : left + this.dataFieldLength;
    writeIdlePacket(this.idle, 0, length, this.idleCount, this.options.idleFill ?? IDLE_FILL);
    this.idleCount = (this.idleCount + 1) & 0x3fff;
    this.write(this.idle, length, out);
    return out;
  }

  private write(packet: Uint8Array, length: number, out: Uint8Array[]): void {
    const dfl = this.dataFieldLength;
    let pos = 0;
    while (pos < length) {
      let frame = this.frame;
      if (frame === undefined) {
        frame = this.nextFrameBuffer();
        this.frame = frame;
        this.fill = 0;
        this.fhp = FHP_NO_PACKET;
      }
      if (pos === 0 && this.fhp === FHP_NO_PACKET) this.fhp = this.fill;
      const take = Math.min(length - pos, dfl - this.fill);
      const at = TM_FRAME_HEADER_LENGTH + this.fill;
      if (take === length) frame.set(length === packet.length ? packet : packet.subarray(0, length), at);
      else if (take <= 64) {
        // A short piece: a loop beats creating a subarray view (an allocation) for it.
        for (let i = 0; i < take; i++) frame[at + i] = packet[pos + i] as number;
      } else frame.set(packet.subarray(pos, pos + take), at);
      this.fill += take;
      pos += take;
      if (this.fill === dfl) this.complete(frame, out);
    }
  }

  private complete(frame: Uint8Array, out: Uint8Array[]): void {
    let mc: number;
    if (this.options.mcFrameCount) mc = this.options.mcFrameCount();
    else {
      mc = this.ownMcCount;
      this.ownMcCount = (mc + 1) & 0xff;
    }
    writeTmFrameHeader(frame, 0, {
      scid: this.options.scid,
      vcid: this.options.vcid,
      mcFrameCount: mc,
      vcFrameCount: this.vcCount,
      firstHeaderPointer: this.fhp,
    });
    sealTmFrame(frame, 0, this.frameLength, this.options.clcw());
    this.vcCount = (this.vcCount + 1) & 0xff;
    this.frame = undefined;
    out.push(frame);
  }
}

export interface TmPacketExtractorOptions {
  /** Deliver idle packets (APID 0x7FF) too; default false (they are counted and dropped). */
  readonly keepIdle?: boolean;
  /** Longest packet accepted; a longer length field is taken for corruption. Default 65542. */
  readonly maxPacketLength?: number;
}

export interface TmPacketExtractorStats {
  frames: number;
  idleFrames: number;
  packets: number;
  idlePackets: number;
  /** Breaks in the VC frame count sequence, and the frames they lost (modulo 256). */
  gaps: number;
  lostFrames: number;
  /** Frames whose first header pointer disagrees with where the packet stream says a packet starts. */
  fhpMismatches: number;
  /** Packet headers with a version other than 000 or a length over the maximum. */
  badHeaders: number;
  /** Packets begun but never completed (lost to a gap, a mismatch or a bad header). */
  partialsDropped: number;
  /** Data field octets not delivered in a packet (partials dropped, octets skipped while resynchronising). */
  discardedOctets: number;
}

/** What the extractor reads of a frame (a decoded TmFrame will do). */
export type TmFrameData = Pick<TmFrame, 'vcFrameCount' | 'firstHeaderPointer' | 'data'>;

/**
 * Reassembles space packets from the consecutive frames of one VC. It checks the VC frame count sequence; after
 * a gap (or any inconsistency) it drops the packet it was building and resynchronises on the next first header
 * pointer. Each packet delivered is a new array the caller owns.
 */
export class TmPacketExtractor {
  readonly stats: TmPacketExtractorStats = {
    frames: 0,
    idleFrames: 0,
    packets: 0,
    idlePackets: 0,
    gaps: 0,
    lostFrames: 0,
    fhpMismatches: 0,
    badHeaders: 0,
    partialsDropped: 0,
    discardedOctets: 0,
  };
  private readonly keepIdle: boolean;
  private readonly buffer: Uint8Array;
  /** Whether the next octet of the VC's data starts or continues a packet we know the start of. */
  private synced = false;
  private partial = 0;
  private needed = 0;
  private lastVcCount = -1;

  constructor(options: TmPacketExtractorOptions = {}) {
    const max = options.maxPacketLength ?? SPACE_PACKET_MAX_LENGTH;
    if (!Number.isInteger(max) || max < SPACE_PACKET_MIN_LENGTH || max > SPACE_PACKET_MAX_LENGTH)
      throw new RangeError(`maxPacketLength ${max} not in [7, 65542]`);
    this.keepIdle = options.keepIdle ?? false;
    this.buffer = new Uint8Array(max);
  }

  /** Forgets the VC frame count and any partial packet, as at start-up. */
  reset(): void {
    this.synced = false;
    this.partial = 0;
    this.needed = 0;
    this.lastVcCount = -1;
  }

  /** Takes the next frame of the VC; returns the packets it completes, appended to `out` if given. */
  push(frame: TmFrameData, out: Uint8Array[] = []): Uint8Array[] {
    const stats = this.stats;
    const data = frame.data;
    const n = data.length;
    const fhp = frame.firstHeaderPointer;
    stats.frames++;
    if (this.lastVcCount >= 0) {
      const expected = (this.lastVcCount + 1) & 0xff;
      if (frame.vcFrameCount !== expected) {
        stats.gaps++;
        stats.lostFrames += (frame.vcFrameCount - expected) & 0xff;
        this.dropPartial();
        this.synced = false;
      }
    }
    this.lastVcCount = frame.vcFrameCount & 0xff;

    if (fhp === FHP_IDLE) {
      // Idle data only: no packet spans it.
      stats.idleFrames++;
      if (this.partial > 0) {
        this.dropPartial();
        this.synced = false;
      }
      return out;
    }
    if (fhp !== FHP_NO_PACKET && fhp >= n) {
      stats.fhpMismatches++;
      stats.discardedOctets += n;
      this.dropPartial();
      this.synced = false;
      return out;
    }

    let pos = 0;
    if (!this.synced) {
      if (fhp === FHP_NO_PACKET) {
        stats.discardedOctets += n;
        return out;
      }
      stats.discardedOctets += fhp;
      pos = fhp;
      this.synced = true;
    } else if (this.partial > 0) {
      // Continue the packet under construction; it must end where the frame says the next one starts.
      const limit = fhp === FHP_NO_PACKET ? n : fhp;
      pos = this.feed(data, 0, limit, out);
      if (pos < 0) {
        // Its header, completed here, is bad.
        if (fhp === FHP_NO_PACKET) return this.lose(n, out);
        stats.discardedOctets += fhp;
        pos = fhp;
      } else if (this.partial > 0) {
        if (fhp === FHP_NO_PACKET) return out; // continues in the next frame
        stats.fhpMismatches++;
        this.dropPartial();
        pos = fhp;
      } else if (fhp === FHP_NO_PACKET) {
        if (pos < n) {
          stats.fhpMismatches++;
          return this.lose(n - pos, out);
        }
        return out;
      } else if (pos !== fhp) {
        stats.fhpMismatches++;
        stats.discardedOctets += fhp - pos;
        pos = fhp;
      }
    } else if (fhp !== 0) {
      // Between packets: one must start at the first octet.
      stats.fhpMismatches++;
      if (fhp === FHP_NO_PACKET) return this.lose(n, out);
      stats.discardedOctets += fhp;
      pos = fhp;
    }

    while (pos < n) {
      const next = this.feed(data, pos, n, out);
      if (next < 0) return this.lose(n - pos, out);
      pos = next;
    }
    return out;
  }

  /** Gives up on the rest of this frame: `octets` discarded, resynchronise on a later first header pointer. */
  private lose(octets: number, out: Uint8Array[]): Uint8Array[] {
    this.stats.discardedOctets += octets;
    this.synced = false;
    return out;
  }

  private dropPartial(): void {
    if (this.partial > 0) {
      this.stats.partialsDropped++;
      this.stats.discardedOctets += this.partial;
      this.partial = 0;
    }
  }

  /**
   * Feeds `data[pos, limit)` to the packet under construction (starting one when none is), stopping when it is
   * complete. Returns the position after the octets used, or -1 when its header is bad (the partial is dropped;
   * the caller counts the octets of this frame as discarded).
   */
  private feed(data: Uint8Array, pos: number, limit: number, out: Uint8Array[]): number {
    const buffer = this.buffer;
    let at = pos;
    if (this.partial < SPACE_PACKET_HEADER_LENGTH) {
      const take = Math.min(SPACE_PACKET_HEADER_LENGTH - this.partial, limit - at);
      for (let i = 0; i < take; i++) buffer[this.partial + i] = data[at + i]!;
      this.partial += take;
      at += take;
      if (this.partial < SPACE_PACKET_HEADER_LENGTH) return at;
      const needed = ((buffer[4]! << 8) | buffer[5]!) + SPACE_PACKET_HEADER_LENGTH + 1;
      if (buffer[0]! >>> 5 !== 0 || needed > buffer.length) {
        // Dropped; the caller counts the octets of this frame it discards, so count only earlier frames' here.
        this.stats.badHeaders++;
        this.stats.partialsDropped++;
        this.stats.discardedOctets += this.partial - take;
        this.partial = 0;
        return -1;
      }
      this.needed = needed;
    }
    const take = Math.min(this.needed - this.partial, limit - at);
    buffer.set(data.subarray(at, at + take), this.partial);
    this.partial += take;
    at += take;
    if (this.partial === this.needed) {
      const apid = ((buffer[0]! & 0x07) << 8) | buffer[1]!;
      if (apid === IDLE_APID && !this.keepIdle) this.stats.idlePackets++;
      else {
        out.push(buffer.slice(0, this.needed));
        this.stats.packets++;
      }
      this.partial = 0;
    }
    return at;
  }
}
