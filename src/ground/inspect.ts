/**
 * The link inspector behind `skynode link decode`: takes a captured byte stream of either direction (uplink or
 * downlink, or both interleaved) in one link profile and says what is in it, one plain JSON record per thing
 * found, and why every rejected octet was rejected. Pure: no I/O, no clock; feed it chunks in any split.
 *
 * - serial: every KISS data frame is tried as a TM frame (when it has the TM frame length) and otherwise as a TC
 *   frame.
 * - radio: CADUs (ASM, TM frame derandomized) and CLTUs (EB 90, BCH codeblocks, TC frame derandomized) are both
 *   looked for in the same stream.
 *
 * Offsets are stream octets from the start of the capture, of the frame's container: the KISS frame's opening
 * FEND, the CADU's ASM, the CLTU's start sequence. They are left out where they cannot be known (a CADU found a
 * few bits off octet alignment).
 *
 * Radio streams are searched for both structures, so each search sees the other's octets as noise. The inspector
 * keeps that from being reported as errors: a CLTU start sequence that turns up inside a CADU and decodes to no
 * plausible TC frame header (the mission's SCID, version 0) is a false start, counted in the summary only; the
 * same goes for an ASM found by search in non-CADU data whose frame fails with an implausible TM header. Octets
 * between CADUs are reported (CADUs follow each other with no gap on a radio downlink) unless CLTUs fill them.
 */
import { housekeepingStructures, type MissionDictionary } from '../core/dictionary.js';
import { unpackRecord } from '../core/pack.js';
import { ASM_LENGTH, CaduSynchronizer } from '../link/cadu.js';
import { BCH_CODEBLOCK_LENGTH, BCH_INFO_LENGTH, CltuDecoder } from '../link/cltu.js';
import { FEND, KISS_REJECT_REASONS, KissDecoder, type KissRejectReason } from '../link/kiss.js';
import type { LinkProfile } from '../link/profile.js';
import { decodeTcPacket, decodeTmPacket } from '../link/pus.js';
import { decodePerformFunction, Service } from '../link/pus-services.js';
import { TM_RANDOMIZER_SEQUENCE, xorSequence } from '../link/randomizer.js';
import {
  SDLS_ARSN_LENGTH,
  SDLS_MAC_LENGTH,
  SDLS_SPI_LENGTH,
  type SdlsKeys,
  SPI_AES_256_GCM,
  SPI_ALGORITHM,
  SPI_HMAC_SHA256,
  type Spi,
  sdlsHeaderLength,
  verifyDecodedTcFrame,
} from '../link/sdls.js';
import {
  type ControlCommand,
  decodeTcFrame,
  TC_FRAME_HEADER_LENGTH,
  TC_FRAME_MAX_LENGTH,
  type TcDataFrame,
  type TcFrame,
} from '../link/tc-frame.js';
import {
  decodeTmFrame,
  FHP_IDLE,
  TM_FRAME_MAX_LENGTH,
  TM_FRAME_MIN_LENGTH,
  type TmFrame,
  TmFrameLength,
  TmPacketExtractor,
  type TmPacketExtractorStats,
} from '../link/tm-frame.js';
import { decodeTm, type StructureMap } from './codec.js';

/** A JSON value: what every record is made of (bigints as strings, octets as hex). */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** Where a rejection happened. */
export type InspectLayer =
  | 'kiss'
  | 'cadu'
  | 'cltu'
  | 'tm-frame'
  | 'tc-frame'
  | 'sdls'
  | 'tm-packet'
  | 'tc-packet';

export interface TmFrameRecord {
  readonly record: 'tm-frame';
  readonly offset?: number;
  readonly scid: number;
  readonly vcid: number;
  readonly mcFrameCount: number;
  readonly vcFrameCount: number;
  readonly firstHeaderPointer: number;
  /** Present (true) on idle frames (first header pointer 0x7FE). */
  readonly idle?: true;
  readonly clcw: { readonly [key: string]: number | boolean };
}

export interface TmPacketRecord {
  readonly record: 'tm-packet';
  /** Offset of the frame the packet ends in. */
  readonly frameOffset?: number;
  readonly vcid: number;
  readonly apid: number;
  readonly sequenceCount: number;
  readonly service: number;
  readonly subtype: number;
  readonly messageTypeCounter: number;
  readonly destinationId: number;
  /** Spacecraft time of the packet, UTC, ISO 8601. */
  readonly time: string;
  /** What decodeTm makes of it with the dictionary. */
  readonly decoded: Json;
}

export interface SecurityRecord {
  readonly spi: number;
  /** Anti-replay sequence number (for SPI 2, the IV's last 4 octets); null when the SPI is unknown. */
  readonly arsn: number | null;
  /** ok or bad when checked with a key; unchecked without one. */
  readonly mac: 'ok' | 'bad' | 'unchecked';
  /** SPI 2: the whole IV, hex. */
  readonly iv?: string;
}

export interface TcFrameRecord {
  readonly record: 'tc-frame';
  readonly offset?: number;
  readonly type: 'AD' | 'BD' | 'BC';
  readonly scid: number;
  readonly vcid: number;
  readonly sequenceNumber: number;
  /** Octets of the frame, FECF included. */
  readonly length: number;
  /** null for BC frames and for frames that carry a TC packet with no security header (an insecure node). */
  readonly security: SecurityRecord | null;
  /** BC frames: the control command. */
  readonly command?: ControlCommand;
  /** SPI 2 frames whose payload could not be decrypted (no key). */
  readonly payload?: 'encrypted';
}

export interface TcPacketRecord {
  readonly record: 'tc-packet';
  /** Offset of the frame that carried it. */
  readonly frameOffset?: number;
  readonly apid: number;
  readonly sequenceFlags: number;
  readonly sequenceCount: number;
  readonly ackFlags: number;
  readonly service: number;
  readonly subtype: number;
  readonly sourceId: number;
  readonly appData: string;
  /** TC(8,1) of a function the dictionary knows, its arguments unpacked. */
  readonly command?: { readonly name: string; readonly args: Json };
  /** TC(8,1) that could not be read as a dictionary command (unknown function ID, bad arguments). */
  readonly commandError?: string;
}

export interface RejectRecord {
  readonly record: 'reject';
  readonly layer: InspectLayer;
  readonly reason: string;
  readonly detail: string;
  readonly offset?: number;
}

export interface SummaryRecord {
  readonly record: 'summary';
  readonly profile: LinkProfile;
  /** Octets of input. */
  readonly octets: number;
  /** Records output, by kind (the summary itself not counted). */
  readonly records: Readonly<Record<string, number>>;
  /** Rejections, by reason. */
  readonly rejections: Readonly<Record<string, number>>;
  /** Rejections, by layer then reason. */
  readonly rejectionsByLayer: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** The decoders' own counters (KISS, CADU synchronizer, CLTU decoder, TM packet extraction). */
  readonly stats: { readonly [key: string]: Json };
}

export type InspectRecord =
  | TmFrameRecord
  | TmPacketRecord
  | TcFrameRecord
  | TcPacketRecord
  | RejectRecord
  | SummaryRecord;

export interface LinkInspectorOptions {
  readonly profile: LinkProfile;
  /** Decodes TM packets into records and TC(8,1) into commands. */
  readonly dictionary: MissionDictionary;
  /** The TM frame length; default the profile's (256 serial, 1115 radio). */
  readonly frameLength?: number;
  /** SDLS keys: with a key, an SPI's MACs are checked (and SPI 2 payloads decrypted). */
  readonly keys?: SdlsKeys;
  /** Housekeeping structures; default those derived from the dictionary. */
  readonly structures?: StructureMap;
  /**
   * The mission's spacecraft ID, used in radio streams only to tell a false CLTU start or a false ASM (noise)
   * from a damaged real frame. Default: the dictionary's. Frames of any SCID are decoded.
   */
  readonly scid?: number;
}

/** JSON-safe copy of a decoded value: bigint as a decimal string, octets as hex, non-finite numbers as text. */
export function toJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value instanceof Uint8Array) return hex(value);
      if (Array.isArray(value)) return value.map(toJson);
      const out: Record<string, Json> = {};
      for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = toJson(item);
      return out;
    }
    default:
      return String(value);
  }
}

export function hex(data: Uint8Array, start = 0, end = data.length): string {
  return Buffer.from(data.buffer, data.byteOffset + start, Math.max(0, end - start)).toString('hex');
}

export type HexCapture =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly error: string };

/**
 * Parses a capture written as hex text: whitespace, newlines, commas and `0x` prefixes are ignored. Errors say
 * where the first offending character is.
 */
export function parseHexCapture(text: string): HexCapture {
  let digits = '';
  let line = 1;
  let column = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    column++;
    if (c === '\n') {
      line++;
      column = 0;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === ',' || c === '\f' || c === '\v') continue;
    if (c === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
      const before = i === 0 ? ' ' : text[i - 1]!;
      if (/[\s,]/.test(before)) {
        i++;
        column++;
        continue;
      }
    }
    if (!/[0-9a-fA-F]/.test(c))
      return {
        ok: false,
        error: `'${c}' at line ${line}, column ${column} is not a hex digit (whitespace, commas and 0x prefixes are ignored)`,
      };
    digits += c;
  }
  if (digits.length % 2 !== 0)
    return { ok: false, error: `odd number of hex digits (${digits.length}): every octet takes two` };
  return { ok: true, bytes: new Uint8Array(Buffer.from(digits, 'hex')) };
}

/** Octets around a CADU kept to find the next CADU's offset (one CADU and a margin). */
const HISTORY_MARGIN = 64;

interface ClaimedRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Feed it a capture with `push`, in chunks of any size; each call returns the records the chunk completes.
 * `finish` reports what the end of the capture leaves incomplete and ends with the summary.
 */
export class LinkInspector {
  readonly profile: LinkProfile;
  readonly frameLength: number;
  private readonly dictionary: MissionDictionary;
  private readonly keys: SdlsKeys | undefined;
  private readonly structures: StructureMap;
  private readonly scid: number;
  private readonly recordCounts: Record<string, number> = {};
  private readonly rejectionCounts: Record<string, number> = {};
  private readonly layerCounts: Record<string, Record<string, number>> = {};
  private readonly extractors = new Map<number, TmPacketExtractor>();
  private readonly lastVcCount = new Map<number, number>();
  /** Octets consumed so far: the stream offset of the next octet pushed. */
  private offset = 0;
  private finished = false;

  // serial
  private readonly kiss: KissDecoder | undefined;
  /** Offset of the last FEND seen; -1 before the first. */
  private lastFend = -1;
  /** Whether the octets after the last FEND already produced a rejection. */
  private openSegmentRejected = false;
  /** Offset of a run of octets before the first FEND, reported when its end is known. */
  private unsynchronisedAt = -1;

  // radio
  private readonly cadu: CaduSynchronizer | undefined;
  private readonly cltu: CltuDecoder | undefined;
  private history: Buffer = Buffer.alloc(0);
  private historyBase = 0;
  private previousOctet = -1;
  /** Offset of the EB of the last start sequence seen. */
  private lastStartSequence = -1;
  /** Offset of the CLTU being decoded. */
  private cltuStart = -1;
  private readonly cltuRanges: ClaimedRange[] = [];
  private lastCadu: ClaimedRange | undefined;
  /** Where the next CADU's frame is looked for: the end of the last one found. */
  private caduSearchFrom = 0;
  /** Whether any CADU has been found (its offset known or not). */
  private caduSeen = false;
  private falseStarts = 0;
  private falseSyncs = 0;
  private unlocatedCadus = 0;

  constructor(options: LinkInspectorOptions) {
    this.profile = options.profile;
    this.dictionary = options.dictionary;
    this.keys = options.keys;
    this.structures = options.structures ?? housekeepingStructures(options.dictionary);
    this.scid = options.scid ?? options.dictionary.mission.spacecraftId;
    const frameLength = options.frameLength ?? TmFrameLength[options.profile];
    if (
      !Number.isInteger(frameLength) ||
      frameLength < TM_FRAME_MIN_LENGTH ||
      frameLength > TM_FRAME_MAX_LENGTH
    )
      throw new RangeError(
        `TM frame length ${frameLength} is not an integer in [${TM_FRAME_MIN_LENGTH}, ${TM_FRAME_MAX_LENGTH}]`,
      );
    this.frameLength = frameLength;
    if (options.profile === 'serial') {
      this.kiss = new KissDecoder({ maxFrameLength: TM_FRAME_MAX_LENGTH });
    } else {
      this.cadu = new CaduSynchronizer({ frameLength });
      this.cltu = new CltuDecoder();
    }
  }

  /** Consumes the next octets of the capture; returns the records they complete, in stream order. */
  push(chunk: Uint8Array): InspectRecord[] {
    if (this.finished) throw new Error('LinkInspector: push after finish');
    const out: InspectRecord[] = [];
    if (chunk.length === 0) return out;
    if (this.profile === 'serial') this.pushSerial(chunk, out);
    else this.pushRadio(chunk, out);
    this.offset += chunk.length;
    return out;
  }

  /**
   * Ends the capture: reports what it cut off (an unterminated KISS frame, octets after the last CADU, a CLTU
   * without its end), then the summary, always last.
   */
  finish(): InspectRecord[] {
    const out: InspectRecord[] = [];
    if (!this.finished) {
      this.finished = true;
      if (this.profile === 'serial') this.finishSerial(out);
      else this.finishRadio(out);
    }
    out.push(this.summary());
    return out;
  }

  /** Whether anything was rejected so far. */
  get rejected(): number {
    return this.recordCounts.reject ?? 0;
  }

  /** The summary of everything so far. */
  summary(): SummaryRecord {
    const stats: Record<string, Json> = {};
    if (this.kiss) stats.kiss = toJson({ frames: this.kiss.frames, rejected: this.kiss.rejected });
    if (this.cadu)
      stats.cadu = toJson({
        ...this.cadu.stats,
        falseSyncs: this.falseSyncs,
        unlocated: this.unlocatedCadus,
      });
    if (this.cltu) stats.cltu = toJson({ ...this.cltu.stats, falseStarts: this.falseStarts });
    if (this.extractors.size > 0) {
      const total: Record<string, number> = {};
      for (const extractor of this.extractors.values())
        for (const [key, value] of Object.entries(extractor.stats)) total[key] = (total[key] ?? 0) + value;
      stats.tmPackets = total;
    }
    const byLayer: Record<string, Record<string, number>> = {};
    for (const [layer, counts] of Object.entries(this.layerCounts)) byLayer[layer] = { ...counts };
    return {
      record: 'summary',
      profile: this.profile,
      octets: this.offset,
      records: { ...this.recordCounts },
      rejections: { ...this.rejectionCounts },
      rejectionsByLayer: byLayer,
      stats,
    };
  }

  // --- output ---------------------------------------------------------------------------------------------

  private emit(out: InspectRecord[], record: Exclude<InspectRecord, SummaryRecord>): void {
    this.recordCounts[record.record] = (this.recordCounts[record.record] ?? 0) + 1;
    if (record.record === 'reject') {
      this.rejectionCounts[record.reason] = (this.rejectionCounts[record.reason] ?? 0) + 1;
      let layer = this.layerCounts[record.layer];
      if (!layer) {
        layer = {};
        this.layerCounts[record.layer] = layer;
      }
      layer[record.reason] = (layer[record.reason] ?? 0) + 1;
    }
    out.push(record);
  }

  private reject(
    out: InspectRecord[],
    layer: InspectLayer,
    reason: string,
    detail: string,
    offset: number | undefined,
  ): void {
    this.emit(out, {
      record: 'reject',
      layer,
      reason,
      detail,
      ...(offset !== undefined && offset >= 0 ? { offset } : {}),
    });
  }

  // --- serial ---------------------------------------------------------------------------------------------

  /** Feeds the KISS decoder one segment per FEND, so that every frame and rejection has its frame's offset. */
  private pushSerial(chunk: Uint8Array, out: InspectRecord[]): void {
    let start = 0;
    while (start < chunk.length) {
      const fend = chunk.indexOf(FEND, start);
      const end = fend < 0 ? chunk.length : fend + 1;
      this.kissSegment(
        chunk.subarray(start, end),
        this.offset + start,
        fend < 0 ? -1 : this.offset + fend,
        out,
      );
      start = end;
    }
  }

  private kissSegment(segment: Uint8Array, at: number, fendAt: number, out: InspectRecord[]): void {
    const kiss = this.kiss!;
    const before: Record<KissRejectReason, number> = { ...kiss.rejected };
    const frames = kiss.push(segment);
    const frameAt = this.lastFend;
    for (const reason of KISS_REJECT_REASONS) {
      const n = kiss.rejected[reason] - before[reason];
      for (let k = 0; k < n; k++) {
        if (reason === 'unsynchronised') {
          this.unsynchronisedAt = at;
          continue; // reported with its length once the first FEND comes
        }
        this.openSegmentRejected = true;
        this.reject(
          out,
          'kiss',
          reason,
          kissDetail(reason, segment, at, frameAt, kiss.maxFrameLength),
          frameAt,
        );
      }
    }
    if (fendAt >= 0 && this.unsynchronisedAt >= 0) {
      this.reportUnsynchronised(out, fendAt);
    }
    for (const frame of frames) this.serialFrame(frame, frameAt, out);
    if (fendAt >= 0) {
      this.lastFend = fendAt;
      this.openSegmentRejected = false;
    }
  }

  private reportUnsynchronised(out: InspectRecord[], end: number): void {
    const at = this.unsynchronisedAt;
    this.unsynchronisedAt = -1;
    this.reject(
      out,
      'kiss',
      'unsynchronised',
      `${end - at} octets before the first FEND (a capture that starts mid-frame, or not KISS)`,
      at,
    );
  }

  private finishSerial(out: InspectRecord[]): void {
    if (this.unsynchronisedAt >= 0) {
      this.reportUnsynchronised(out, this.offset);
      return;
    }
    const left = this.offset - this.lastFend - 1;
    if (this.lastFend >= 0 && left > 0 && !this.openSegmentRejected)
      this.reject(
        out,
        'kiss',
        'unterminated',
        `${left} octets after the last FEND: a frame cut off by the end of the capture`,
        this.lastFend,
      );
  }

  /** A KISS frame: a TM frame if it has the TM frame length and decodes as one, else a TC frame. */
  private serialFrame(raw: Uint8Array, offset: number, out: InspectRecord[]): void {
    const n = raw.length;
    const tm = n === this.frameLength ? decodeTmFrame(raw, { frameLength: this.frameLength }) : undefined;
    if (tm?.ok) {
      this.tmFrame(tm.value, offset, out);
      return;
    }
    const tc = decodeTcFrame(raw);
    if (tc.ok) {
      this.tcFrame(raw, tc.value, tc.length, offset, out);
      return;
    }
    const tcLength = n >= 4 ? (((raw[2]! & 0x03) << 8) | raw[3]!) + 1 : -1;
    if (tm && tcLength !== n) this.reject(out, 'tm-frame', tm.reason, tm.detail, offset);
    else if (tcLength === n || tm) this.reject(out, 'tc-frame', tc.reason, tc.detail, offset);
    else
      this.reject(
        out,
        'tc-frame',
        tc.reason,
        `${tc.detail}; not a TM frame either (${n} octets, TM frames are ${this.frameLength}: --frame-length to change)`,
        offset,
      );
  }

  // --- radio ----------------------------------------------------------------------------------------------

  private pushRadio(chunk: Uint8Array, out: InspectRecord[]): void {
    const history = Buffer.concat([this.history, chunk]);
    this.history = history;
    // Slices end after each start sequence, so that a CLTU's start is where the last one was seen.
    let start = 0;
    let previous = this.previousOctet;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (previous === 0xeb && b === 0x90) {
        this.lastStartSequence = this.offset + i - 1;
        this.radioSlice(chunk.subarray(start, i + 1), this.offset + i + 1, out);
        start = i + 1;
      }
      previous = b;
    }
    this.previousOctet = previous;
    if (start < chunk.length) this.radioSlice(chunk.subarray(start), this.offset + chunk.length, out);
    const keep = ASM_LENGTH + this.frameLength + HISTORY_MARGIN;
    if (history.length > keep) {
      this.history = Buffer.from(history.subarray(history.length - keep));
      this.historyBase += history.length - keep;
    }
  }

  /** One slice through both decoders; `end` is the stream offset just after it. */
  private radioSlice(slice: Uint8Array, end: number, out: InspectRecord[]): void {
    const cltu = this.cltu!;
    const before = { ...cltu.stats };
    const outputs = cltu.push(slice);
    const stats = cltu.stats;
    const tails = stats.tails - before.tails;
    outputs.forEach((output, i) => {
      const start = i === 0 ? this.cltuStart : -1;
      this.cltuOutput(output, start, i === 0 && tails > 0, out);
    });
    for (let k = before.oversize; k < stats.oversize; k++)
      this.reject(
        out,
        'cltu',
        'oversize',
        `CLTU longer than a ${TC_FRAME_MAX_LENGTH}-octet TC frame without its tail: dropped`,
        this.cltuStart,
      );
    this.falseStarts += stats.empty - before.empty;
    if (stats.starts > before.starts) this.cltuStart = this.lastStartSequence;
    if (!cltu.inCltu && stats.starts === before.starts && outputs.length > 0) this.cltuStart = -1;

    const cadu = this.cadu!;
    const acquisitions = cadu.stats.acquisitions;
    const frames = cadu.push(slice);
    const maybeAcquired = cadu.stats.acquisitions > acquisitions;
    for (const frame of frames) this.caduFrame(frame, end, maybeAcquired, out);
  }

  private cltuOutput(output: Uint8Array, start: number, tail: boolean, out: InspectRecord[]): void {
    const decoded = decodeTcFrame(output, { allowTrailing: true });
    const codeblocks = output.length / BCH_INFO_LENGTH;
    const range: ClaimedRange | undefined =
      start >= 0 ? { start, end: start + 2 + (codeblocks + 1) * BCH_CODEBLOCK_LENGTH } : undefined;
    if (decoded.ok) {
      if (range) this.cltuRanges.push(range);
      this.tcFrame(output, decoded.value, decoded.length, start, out);
      return;
    }
    if (!tail && !this.plausibleTcHeader(output)) {
      // A start sequence in other data (a CADU, noise) followed by a codeblock or two that happened to decode.
      this.falseStarts++;
      return;
    }
    if (range) {
      // A damaged CLTU goes on past the codeblock that ended it: as far as its frame's length field says.
      const length = (((output[2]! & 0x03) << 8) | output[3]!) + 1;
      const blocks = Math.ceil(Math.min(length, TC_FRAME_MAX_LENGTH) / BCH_INFO_LENGTH) + 1;
      this.cltuRanges.push({ start, end: Math.max(range.end, start + 2 + blocks * BCH_CODEBLOCK_LENGTH) });
    }
    this.reject(
      out,
      'tc-frame',
      decoded.reason,
      `${decoded.detail} (in a CLTU of ${codeblocks} codeblocks, ended by ${tail ? 'its tail sequence' : 'an uncorrectable codeblock'})`,
      start,
    );
  }

  private plausibleTcHeader(data: Uint8Array): boolean {
    if (data.length < TC_FRAME_HEADER_LENGTH) return false;
    const b0 = data[0]!;
    const scid = ((b0 & 0x03) << 8) | data[1]!;
    return b0 >>> 6 === 0 && (b0 & 0x0c) === 0 && (b0 & 0x30) !== 0x10 && scid === this.scid;
  }

  private plausibleTmHeader(frame: Uint8Array): boolean {
    const b0 = frame[0]!;
    const b1 = frame[1]!;
    const scid = (b0 << 4) | (b1 >>> 4);
    return b0 >>> 6 === 0 && (b1 & 1) === 1 && (scid & 0x3ff) === this.scid;
  }

  /** Where, in the history, the CADU whose derandomized frame is `frame` starts; -1 if not octet-aligned. */
  private locateCadu(frame: Uint8Array, end: number): number {
    const randomized = Uint8Array.from(frame);
    xorSequence(TM_RANDOMIZER_SEQUENCE, randomized);
    const from = Math.max(0, this.caduSearchFrom - this.historyBase);
    const found = this.history.indexOf(randomized, from);
    if (found < 0) return -1;
    const frameAt = this.historyBase + found;
    if (frameAt + frame.length > end) return -1;
    return frameAt - ASM_LENGTH;
  }

  /** Octets of [start, end) that no CLTU decoded there covers, and the first of them (-1 when none). */
  private uncovered(start: number, end: number): { readonly count: number; readonly first: number } {
    const ranges = this.cltuRanges
      .filter((r) => r.end > start && r.start < end)
      .sort((a, b) => a.start - b.start);
    let count = 0;
    let first = -1;
    let at = start;
    for (const r of [...ranges, { start: end, end }]) {
      const gapEnd = Math.min(r.start, end);
      if (gapEnd > at) {
        if (first < 0) first = at;
        count += gapEnd - at;
      }
      at = Math.max(at, r.end);
      if (at >= end) break;
    }
    return { count, first };
  }

  private caduFrame(frame: Uint8Array, end: number, maybeAcquired: boolean, out: InspectRecord[]): void {
    const decoded = decodeTmFrame(frame, { frameLength: this.frameLength });
    if (!decoded.ok && maybeAcquired && !this.plausibleTmHeader(frame)) {
      // An ASM found by search in other data (a CLTU, noise): not a CADU.
      this.falseSyncs++;
      return;
    }
    const at = this.locateCadu(frame, end);
    if (at < 0) this.unlocatedCadus++;
    else {
      const previous = this.lastCadu;
      const gapStart = previous ? previous.end : 0;
      const gap = this.uncovered(gapStart, at);
      if (gap.count > 0) {
        if (previous)
          this.reject(
            out,
            'cadu',
            'gap',
            `${gap.count} octets between the CADU at ${previous.start} and the one at ${at} are neither CADUs nor CLTUs (CADUs follow each other with no gap)`,
            gap.first,
          );
        else if (!this.caduSeen)
          this.reject(
            out,
            'cadu',
            'unsynchronised',
            `${gap.count} octets before the first CADU (at ${at}) are neither CADUs nor CLTUs: a capture that starts mid-CADU, or noise`,
            gap.first,
          );
      }
      this.lastCadu = { start: at, end: at + ASM_LENGTH + this.frameLength };
      this.caduSearchFrom = this.lastCadu.end;
      const keep = this.lastCadu.end;
      for (let i = this.cltuRanges.length - 1; i >= 0; i--)
        if (this.cltuRanges[i]!.end <= keep) this.cltuRanges.splice(i, 1);
    }
    if (at < 0) this.lastCadu = undefined;
    this.caduSeen = true;
    const offset = at < 0 ? undefined : at;
    if (decoded.ok) this.tmFrame(decoded.value, offset, out);
    else this.reject(out, 'tm-frame', decoded.reason, decoded.detail, offset);
  }

  private finishRadio(out: InspectRecord[]): void {
    const cltu = this.cltu!;
    const last = this.lastCadu;
    let end = this.offset;
    // A CLTU left open counts when it follows what came before (not a start sequence inside a cut-off CADU).
    const start = this.cltuStart;
    if (
      cltu.inCltu &&
      start >= 0 &&
      (!this.caduSeen ||
        (last !== undefined && start >= last.end && this.uncovered(last.end, start).count === 0))
    ) {
      this.reject(
        out,
        'cltu',
        'truncated',
        `CLTU cut off by the end of the capture after ${this.offset - start} octets`,
        start,
      );
      end = start;
    }
    if (last) {
      const left = this.uncovered(last.end, end);
      if (left.count > 0)
        this.reject(
          out,
          'cadu',
          'truncated',
          `${left.count} octets after the last CADU (at ${last.start}) are neither CADUs nor CLTUs: noise, or a CADU cut off by the end of the capture`,
          left.first,
        );
    }
  }

  // --- frames and packets ---------------------------------------------------------------------------------

  private tmFrame(frame: TmFrame, offset: number | undefined, out: InspectRecord[]): void {
    this.emit(out, {
      record: 'tm-frame',
      ...(offset !== undefined ? { offset } : {}),
      scid: frame.scid,
      vcid: frame.vcid,
      mcFrameCount: frame.mcFrameCount,
      vcFrameCount: frame.vcFrameCount,
      firstHeaderPointer: frame.firstHeaderPointer,
      ...(frame.firstHeaderPointer === FHP_IDLE ? { idle: true as const } : {}),
      clcw: { ...frame.clcw },
    });
    let extractor = this.extractors.get(frame.vcid);
    if (!extractor) {
      extractor = new TmPacketExtractor();
      this.extractors.set(frame.vcid, extractor);
    }
    const before: TmPacketExtractorStats = { ...extractor.stats };
    const previousCount = this.lastVcCount.get(frame.vcid);
    this.lastVcCount.set(frame.vcid, frame.vcFrameCount);
    const packets = extractor.push(frame);
    const stats = extractor.stats;
    const dropped = stats.partialsDropped - before.partialsDropped;
    const droppedNote = dropped > 0 ? `; ${dropped} packet(s) in progress dropped` : '';
    if (stats.gaps > before.gaps)
      this.reject(
        out,
        'tm-frame',
        'frame-count-gap',
        `VC ${frame.vcid} frame count ${frame.vcFrameCount} after ${previousCount}: ${stats.lostFrames - before.lostFrames} frame(s) lost${droppedNote}`,
        offset,
      );
    if (stats.fhpMismatches > before.fhpMismatches)
      this.reject(
        out,
        'tm-packet',
        'fhp-mismatch',
        `VC ${frame.vcid} frame ${frame.vcFrameCount}: first header pointer ${frame.firstHeaderPointer} disagrees with the packets before it${stats.gaps > before.gaps ? '' : droppedNote}`,
        offset,
      );
    if (stats.badHeaders > before.badHeaders)
      this.reject(
        out,
        'tm-packet',
        'bad-header',
        `VC ${frame.vcid} frame ${frame.vcFrameCount}: a packet header with a version other than 0 or a length over the maximum; resynchronising on the next first header pointer`,
        offset,
      );
    for (const bytes of packets) this.tmPacket(bytes, frame.vcid, offset, out);
  }

  private tmPacket(
    bytes: Uint8Array,
    vcid: number,
    frameOffset: number | undefined,
    out: InspectRecord[],
  ): void {
    const decoded = decodeTmPacket(bytes);
    if (!decoded.ok) {
      this.reject(out, 'tm-packet', decoded.reason, `VC ${vcid}: ${decoded.detail}`, frameOffset);
      return;
    }
    const packet = decoded.value;
    const tm = decodeTm(this.dictionary, packet, this.structures);
    const date = new Date(tm.time);
    this.emit(out, {
      record: 'tm-packet',
      ...(frameOffset !== undefined ? { frameOffset } : {}),
      vcid,
      apid: packet.apid,
      sequenceCount: packet.sequenceCount,
      service: packet.service,
      subtype: packet.subtype,
      messageTypeCounter: packet.messageTypeCounter,
      destinationId: packet.destinationId,
      time: Number.isNaN(date.getTime()) ? String(tm.time) : date.toISOString(),
      decoded: toJson(tm.record),
    });
  }

  private tcFrame(
    bytes: Uint8Array,
    frame: TcFrame,
    length: number,
    offset: number,
    out: InspectRecord[],
  ): void {
    const base = {
      record: 'tc-frame' as const,
      ...(offset >= 0 ? { offset } : {}),
      type: frame.type,
      scid: frame.scid,
      vcid: frame.vcid,
      sequenceNumber: frame.sequenceNumber,
      length,
    };
    if (frame.type === 'BC') {
      this.emit(out, { ...base, security: null, command: frame.command });
      return;
    }
    const payload = this.unsecure(bytes, frame, length, offset, base, out);
    if (payload) this.tcPackets(payload, offset, out);
  }

  /**
   * Emits the frame record (with its security) and any SDLS rejection; returns the plaintext data field when it
   * can be read.
   */
  private unsecure(
    bytes: Uint8Array,
    frame: TcDataFrame,
    length: number,
    offset: number,
    base: Omit<TcFrameRecord, 'security'>,
    out: InspectRecord[],
  ): Uint8Array | undefined {
    const data = frame.data;
    const at = offset >= 0 ? offset : undefined;
    if (data.length >= 1 && (data[0]! & 0xf0) === 0x10) {
      // A TC packet straight after the segment header: a frame from a ground talking to an insecure node.
      this.emit(out, { ...base, security: null });
      return data;
    }
    if (data.length < SDLS_SPI_LENGTH) {
      this.emit(out, { ...base, security: null });
      this.reject(out, 'sdls', 'bad-length', `data field of ${data.length} octets has no SPI`, at);
      return undefined;
    }
    const spiValue = (data[0]! << 8) | data[1]!;
    if (spiValue !== SPI_HMAC_SHA256 && spiValue !== SPI_AES_256_GCM) {
      this.emit(out, { ...base, security: { spi: spiValue, arsn: null, mac: 'unchecked' } });
      this.reject(
        out,
        'sdls',
        'unknown-spi',
        `SPI ${spiValue} is neither 1 (HMAC-SHA-256) nor 2 (AES-256-GCM), and the data field is not a TC packet`,
        at,
      );
      return undefined;
    }
    const spi: Spi = spiValue;
    const headerLength = sdlsHeaderLength(spi);
    if (data.length < headerLength + SDLS_MAC_LENGTH) {
      this.emit(out, { ...base, security: { spi, arsn: null, mac: 'unchecked' } });
      this.reject(
        out,
        'sdls',
        'bad-length',
        `data field of ${data.length} octets, SPI ${spi} needs at least ${headerLength + SDLS_MAC_LENGTH}`,
        at,
      );
      return undefined;
    }
    const arsnAt = headerLength - SDLS_ARSN_LENGTH;
    const arsn =
      ((data[arsnAt]! << 24) | (data[arsnAt + 1]! << 16) | (data[arsnAt + 2]! << 8) | data[arsnAt + 3]!) >>>
      0;
    const iv = spi === SPI_AES_256_GCM ? { iv: hex(data, SDLS_SPI_LENGTH, headerLength) } : {};
    const key = this.keys?.get(spi);
    if (!key || key.algorithm !== SPI_ALGORITHM[spi]) {
      if (spi === SPI_AES_256_GCM) {
        this.emit(out, { ...base, security: { spi, arsn, mac: 'unchecked', ...iv }, payload: 'encrypted' });
        return undefined;
      }
      this.emit(out, { ...base, security: { spi, arsn, mac: 'unchecked' } });
      return data.subarray(headerLength, data.length - SDLS_MAC_LENGTH);
    }
    // Anti-replay is the node's business (it knows the last ARSN accepted): never reject for it here.
    const verified = verifyDecodedTcFrame(bytes, frame, this.keys!, () => undefined, length);
    if (verified.ok) {
      this.emit(out, { ...base, security: { spi, arsn, mac: 'ok', ...iv } });
      return verified.value.payload;
    }
    this.emit(out, {
      ...base,
      security: { spi, arsn, mac: verified.reason === 'bad-mac' ? 'bad' : 'unchecked', ...iv },
    });
    this.reject(out, 'sdls', verified.reason, verified.detail, at);
    return undefined;
  }

  /** The TC packets of a frame's plaintext data field, one after the other. */
  private tcPackets(payload: Uint8Array, frameOffset: number, out: InspectRecord[]): void {
    const where = frameOffset >= 0 ? { frameOffset } : {};
    let at = 0;
    while (at < payload.length) {
      const decoded = decodeTcPacket(payload, at);
      if (!decoded.ok) {
        this.reject(
          out,
          'tc-packet',
          decoded.reason,
          `${decoded.detail} (at octet ${at} of the frame's data field)`,
          frameOffset >= 0 ? frameOffset : undefined,
        );
        return;
      }
      const p = decoded.value;
      this.emit(out, {
        record: 'tc-packet',
        ...where,
        apid: p.apid,
        sequenceFlags: p.sequenceFlags,
        sequenceCount: p.sequenceCount,
        ackFlags: p.ackFlags,
        service: p.service,
        subtype: p.subtype,
        sourceId: p.sourceId,
        appData: hex(p.appData),
        ...(p.service === Service.functionManagement && p.subtype === 1 ? this.command(p.appData) : {}),
      });
      at += decoded.length;
    }
  }

  private command(appData: Uint8Array): Pick<TcPacketRecord, 'command' | 'commandError'> {
    const parsed = decodePerformFunction(appData);
    if (!parsed.ok) return { commandError: parsed.error };
    const { functionId, args } = parsed.value;
    const id = `0x${functionId.toString(16).padStart(4, '0')}`;
    const entry = this.dictionary.commandByOpcode.get(functionId);
    if (!entry) return { commandError: `unknown function ID ${id}` };
    const unpacked = unpackRecord(entry.args, args);
    if (!unpacked.ok) return { commandError: `${entry.name} (${id}): ${unpacked.error}` };
    if (unpacked.offset !== args.length)
      return {
        commandError: `${entry.name} (${id}): ${args.length - unpacked.offset} octets after its arguments`,
      };
    return { command: { name: entry.name, args: toJson(unpacked.value) } };
  }
}

function kissDetail(
  reason: KissRejectReason,
  segment: Uint8Array,
  at: number,
  frameAt: number,
  max: number,
): string {
  switch (reason) {
    case 'bad-command': {
      const command = frameAt >= 0 && at === frameAt + 1 && segment.length > 0 ? segment[0]! : undefined;
      return `${command === undefined ? 'a command byte' : `command byte 0x${command.toString(16).padStart(2, '0')}`} after the FEND is not 0x00 (port 0, data): octets dropped up to the next FEND`;
    }
    case 'bad-escape':
      return 'FESC followed by something other than TFEND or TFESC: frame dropped';
    case 'oversize':
      return `frame longer than ${max} octets: dropped`;
    case 'empty':
      return 'data frame with no octets after its command byte';
    default:
      return 'octets before the first FEND';
  }
}
