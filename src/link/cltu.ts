/**
 * The radio uplink (CCSDS 231.0-B): a TC transfer frame travels in a CLTU,
 * `EB 90 | codeblock... | C5 C5 C5 C5 C5 C5 C5 79`.
 *
 * - Each codeblock is 7 information octets then one octet of 7 parity bits and a filler bit 0. The parity is the
 *   (63,56) modified BCH code, g(x) = x^7 + x^6 + x^2 + 1, shift register preset to zero, parity bits complemented.
 * - The frame is randomized with the TC randomizer (randomizer.ts) before BCH encoding, unless asked not to. The
 *   last codeblock is completed with fill octets 0x55 (alternating bits starting with 0) added after
 *   randomization, so fill travels as 0x55; the receiver derandomizes whatever it decodes, fill included, and the
 *   transfer layer finds the end of the frame from its length field (CCSDS 231.0-B leaves fill removal to it).
 * - The tail sequence is built to be uncorrectable: the decoder stops at the first codeblock it cannot decode.
 *
 * g(x) = (x + 1)(x^6 + x + 1): the code is a Hamming code of length 63 with an overall parity factor, so it
 * corrects any single bit error in the 63 code bits and detects any double error (minimum distance 4).
 */

import { TC_RANDOMIZER_SEQUENCE, xorSequence } from './randomizer.js';
import { TC_FRAME_MAX_LENGTH } from './tc-frame.js';

export const CLTU_START_SEQUENCE: Uint8Array = Uint8Array.of(0xeb, 0x90);
export const CLTU_TAIL_SEQUENCE: Uint8Array = Uint8Array.of(0xc5, 0xc5, 0xc5, 0xc5, 0xc5, 0xc5, 0xc5, 0x79);
/** Fill of the last codeblock: alternating bits starting with 0. */
export const CLTU_FILL = 0x55;
export const BCH_INFO_LENGTH = 7;
export const BCH_CODEBLOCK_LENGTH = 8;

/** g(x) less its x^7 term, left-aligned in an octet: x^6 + x^2 + 1 = 1000101, shifted once. */
const BCH_POLY = 0x8a;

/**
 * BCH_TABLE[n]: the register (7 bits, left-aligned, filler position 0) after shifting in the octet whose XOR with
 * the register is n. One lookup per information octet.
 */
const BCH_TABLE = (() => {
  const table = new Uint8Array(256);
  for (let n = 0; n < 256; n++) {
    let r = n;
    for (let k = 0; k < 8; k++) r = r & 0x80 ? ((r << 1) ^ BCH_POLY) & 0xff : (r << 1) & 0xff;
    table[n] = r;
  }
  return table;
})();

/** Remainder of i(x) x^7 mod g(x) over `data[offset, offset + 7)`, left-aligned (bit 0 is 0). */
function bchRemainder(data: Uint8Array, offset: number): number {
  let r = 0;
  for (let i = offset; i < offset + BCH_INFO_LENGTH; i++) r = BCH_TABLE[r ^ data[i]!]!;
  return r;
}

/**
 * The eighth octet of the codeblock whose information octets are `data[offset, offset + 7)`: the 7 parity bits,
 * complemented, then the filler bit 0.
 */
export function bchParity(data: Uint8Array, offset = 0): number {
  return ~bchRemainder(data, offset) & 0xfe;
}

/** Syndrome (the 7 parity bits left-aligned, filler bit ignored) of the codeblock at `data[offset]`. */
function bchSyndrome(data: Uint8Array, offset: number): number {
  return (bchParity(data, offset) ^ data[offset + BCH_INFO_LENGTH]!) & 0xfe;
}

/**
 * For each syndrome (>>> 1, 0..127): the code bit a single error there would flip, numbered from the first
 * information bit (0) to the last parity bit (62); -1 when no single error gives it (two or more errors).
 */
const SYNDROME_POSITION = (() => {
  const table = new Int8Array(128).fill(-1);
  const block = new Uint8Array(BCH_CODEBLOCK_LENGTH);
  for (let bit = 0; bit < 63; bit++) {
    block.fill(0);
    block[BCH_INFO_LENGTH] = bchParity(block, 0);
    block[bit >>> 3]! ^= 0x80 >>> (bit & 7);
    const s = bchSyndrome(block, 0) >>> 1;
    if (s === 0 || table[s] !== -1) throw new Error(`BCH(63,56) syndrome table: collision at bit ${bit}`);
    table[s] = bit;
  }
  return table;
})();

/** Result of decodeBchCodeblock when the codeblock has an uncorrectable error pattern. */
export const BCH_UNCORRECTABLE = -1;

/**
 * Decodes the codeblock at `data[offset, offset + 8)` in error-correcting mode and writes its 7 information
 * octets, corrected, at `out[outOffset]`. Returns the number of bits corrected (0 or 1), or BCH_UNCORRECTABLE
 * (nothing written) when the syndrome is not that of a single error. The filler bit is not read.
 */
export function decodeBchCodeblock(
  data: Uint8Array,
  offset: number,
  out: Uint8Array,
  outOffset: number,
): number {
  const s = bchSyndrome(data, offset) >>> 1;
  let flip = -1;
  if (s !== 0) {
    flip = SYNDROME_POSITION[s]!;
    if (flip < 0) return BCH_UNCORRECTABLE;
  }
  for (let i = 0; i < BCH_INFO_LENGTH; i++) out[outOffset + i] = data[offset + i]!;
  if (flip >= 0 && flip < 56) out[outOffset + (flip >>> 3)]! ^= 0x80 >>> (flip & 7);
  return s === 0 ? 0 : 1;
}

export interface CltuEncodeOptions {
  /** Apply the TC randomizer to the frame before BCH encoding; default true (the radio profile). */
  readonly randomize?: boolean;
}

/** Octets of the CLTU carrying `frameLength` octets. */
export function cltuLength(frameLength: number): number {
  return (
    CLTU_START_SEQUENCE.length +
    Math.ceil(frameLength / BCH_INFO_LENGTH) * BCH_CODEBLOCK_LENGTH +
    CLTU_TAIL_SEQUENCE.length
  );
}

/**
 * Writes the CLTU carrying `frame` at `offset` of `out` (which must have cltuLength(frame.length) octets of room);
 * returns its length. `frame` is not modified. Throws RangeError on an empty frame.
 */
export function writeCltu(
  out: Uint8Array,
  offset: number,
  frame: Uint8Array,
  options: CltuEncodeOptions = {},
): number {
  const n = frame.length;
  if (n === 0) throw new RangeError('a CLTU carries at least one octet');
  const total = cltuLength(n);
  if (offset < 0 || offset + total > out.length)
    throw new RangeError(`CLTU of ${total} octets does not fit at ${offset} of ${out.length}`);
  const randomize = options.randomize ?? true;
  out.set(CLTU_START_SEQUENCE, offset);
  let at = offset + CLTU_START_SEQUENCE.length;
  let seq = 0;
  for (let i = 0; i < n; i += BCH_INFO_LENGTH) {
    const take = Math.min(BCH_INFO_LENGTH, n - i);
    let r = 0;
    for (let k = 0; k < BCH_INFO_LENGTH; k++) {
      let b: number;
      if (k < take) {
        b = frame[i + k]!;
        if (randomize) {
          b ^= TC_RANDOMIZER_SEQUENCE[seq]!;
          seq = seq + 1 === TC_RANDOMIZER_SEQUENCE.length ? 0 : seq + 1;
        }
      } else b = CLTU_FILL;
      out[at + k] = b;
      r = BCH_TABLE[r ^ b]!;
    }
    out[at + BCH_INFO_LENGTH] = ~r & 0xfe;
    at += BCH_CODEBLOCK_LENGTH;
  }
  out.set(CLTU_TAIL_SEQUENCE, at);
  return total;
}

/** The CLTU carrying `frame` (a TC transfer frame, or any octets), randomized unless asked not to. */
export function encodeCltu(frame: Uint8Array, options: CltuEncodeOptions = {}): Uint8Array {
  const out = new Uint8Array(cltuLength(frame.length));
  writeCltu(out, 0, frame, options);
  return out;
}

export interface CltuDecoderOptions {
  /** Derandomize what is decoded (TC randomizer); default true. */
  readonly randomize?: boolean;
  /**
   * Longest frame expected, default 1024: a CLTU with more information octets than the codeblocks this needs
   * is dropped (counted in `oversize`) and the search starts again.
   */
  readonly maxFrameLength?: number;
  /**
   * Deliver what was decoded before an uncorrectable codeblock that is not the tail sequence (its frame may be
   * complete: the transfer layer checks length and FECF); default true, as CCSDS 231.0-B does. When false such
   * CLTUs are dropped.
   */
  readonly deliverAborted?: boolean;
}

export interface CltuDecoderStats {
  /** Start sequences found. */
  starts: number;
  /** Outputs delivered. */
  frames: number;
  /** CLTUs ended by their tail sequence (within 2 bit errors of it). */
  tails: number;
  /** CLTUs ended by an uncorrectable codeblock other than the tail. */
  aborted: number;
  /** CLTUs dropped for exceeding the maximum length. */
  oversize: number;
  /** CLTUs ended before any codeblock was decoded (nothing delivered). */
  empty: number;
  /** Codeblocks decoded, and those of them in which a bit error was corrected. */
  codeblocks: number;
  correctedCodeblocks: number;
  /** Octets outside any CLTU (searched past). */
  skippedOctets: number;
}

const SEARCH = 0;
const DECODE = 1;

/**
 * Streaming CLTU decoder: feed it octets as they arrive, in any split. It searches (octet-aligned) for the start
 * sequence EB 90, then decodes 8-octet codeblocks correcting single bit errors, and ends the CLTU at the first
 * codeblock it cannot decode: normally the tail sequence. It returns the decoded information octets, derandomized:
 * the TC frame followed by any fill (`decodeTcFrame(octets, { allowTrailing: true })` reads the frame's length).
 * Each output is a new array the caller owns. After an aborted CLTU the failed codeblock is searched again for a
 * start sequence (the next CLTU may follow a lost tail).
 */
export class CltuDecoder {
  readonly stats: CltuDecoderStats = {
    starts: 0,
    frames: 0,
    tails: 0,
    aborted: 0,
    oversize: 0,
    empty: 0,
    codeblocks: 0,
    correctedCodeblocks: 0,
    skippedOctets: 0,
  };
  private readonly randomize: boolean;
  private readonly deliverAborted: boolean;
  /** Information octets a CLTU may carry; the buffer has room for one codeblock more. */
  private readonly capacity: number;
  private readonly buffer: Uint8Array;
  private readonly block = new Uint8Array(BCH_CODEBLOCK_LENGTH);
  private readonly rescan = new Uint8Array(BCH_CODEBLOCK_LENGTH);
  private state: typeof SEARCH | typeof DECODE = SEARCH;
  /** Previous octet while searching (-1: none). */
  private previous = -1;
  private blockFill = 0;
  private length = 0;
  /** Whether the octets being searched are the rescan of a failed codeblock (not counted as skipped again). */
  private rescanning = false;
  /** Whether `previous`, from an earlier search, was counted as skipped. */
  private previousCounted = false;

  constructor(options: CltuDecoderOptions = {}) {
    const max = options.maxFrameLength ?? TC_FRAME_MAX_LENGTH;
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`maxFrameLength ${max} is not a positive integer`);
    this.randomize = options.randomize ?? true;
    this.deliverAborted = options.deliverAborted ?? true;
    this.capacity = Math.ceil(max / BCH_INFO_LENGTH) * BCH_INFO_LENGTH;
    this.buffer = new Uint8Array(this.capacity + BCH_INFO_LENGTH);
  }

  /** Whether a CLTU is being decoded. */
  get inCltu(): boolean {
    return this.state === DECODE;
  }

  /** Consumes `chunk`; returns the CLTUs it completes (decoded octets), appended to `out` if given. */
  push(chunk: Uint8Array, out: Uint8Array[] = []): Uint8Array[] {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.state === SEARCH) {
        let previous = this.previous;
        const from = i;
        let found = false;
        for (; i < n; i++) {
          const b = chunk[i]!;
          if (previous === 0xeb && b === 0x90) {
            found = true;
            i++;
            break;
          }
          previous = b;
        }
        const counted = !this.rescanning;
        if (!found) {
          if (counted) this.stats.skippedOctets += i - from;
          this.previous = previous;
          this.previousCounted = counted;
          break;
        }
        // The start sequence is not skipped data; its first octet may have come in an earlier search.
        const consumed = i - from;
        let skipped = counted ? consumed - 1 : 0;
        if (consumed >= 2 ? counted : this.previousCounted) skipped--;
        this.stats.skippedOctets += skipped;
        this.stats.starts++;
        this.state = DECODE;
        this.previous = -1;
        this.blockFill = 0;
        this.length = 0;
        continue;
      }
      // DECODE: whole codeblocks straight from the chunk when aligned, else through the block buffer.
      if (this.blockFill === 0 && n - i >= BCH_CODEBLOCK_LENGTH) {
        i += BCH_CODEBLOCK_LENGTH;
        this.codeblock(chunk, i - BCH_CODEBLOCK_LENGTH, out);
        continue;
      }
      const take = Math.min(BCH_CODEBLOCK_LENGTH - this.blockFill, n - i);
      for (let k = 0; k < take; k++) this.block[this.blockFill + k] = chunk[i + k]!;
      this.blockFill += take;
      i += take;
      if (this.blockFill === BCH_CODEBLOCK_LENGTH) {
        this.blockFill = 0;
        this.codeblock(this.block, 0, out);
      }
    }
    return out;
  }

  /** Drops any CLTU being decoded and searches for the next start sequence, as at start-up. */
  reset(): void {
    this.state = SEARCH;
    this.previous = -1;
    this.blockFill = 0;
    this.length = 0;
  }

  private codeblock(data: Uint8Array, offset: number, out: Uint8Array[]): void {
    const stats = this.stats;
    const corrected = decodeBchCodeblock(data, offset, this.buffer, this.length);
    if (corrected === BCH_UNCORRECTABLE) {
      const tail = nearTail(data, offset);
      if (tail) stats.tails++;
      else stats.aborted++;
      if (this.length === 0) stats.empty++;
      else if (tail || this.deliverAborted) this.deliver(out);
      this.state = SEARCH;
      this.previous = -1;
      this.length = 0;
      if (!tail) {
        // The next CLTU may start inside this codeblock.
        this.rescan.set(data.subarray(offset, offset + BCH_CODEBLOCK_LENGTH));
        this.rescanning = true;
        this.push(this.rescan, out);
        this.rescanning = false;
      }
      return;
    }
    stats.codeblocks++;
    if (corrected > 0) stats.correctedCodeblocks++;
    this.length += BCH_INFO_LENGTH;
    if (this.length > this.capacity) {
      stats.oversize++;
      this.state = SEARCH;
      this.previous = -1;
      this.length = 0;
    }
  }

  private deliver(out: Uint8Array[]): void {
    const frame = this.buffer.slice(0, this.length);
    if (this.randomize) xorSequence(TC_RANDOMIZER_SEQUENCE, frame);
    out.push(frame);
    this.stats.frames++;
  }
}

/** Whether the 8 octets at `data[offset]` are within 2 bit errors of the tail sequence. */
function nearTail(data: Uint8Array, offset: number): boolean {
  let errors = 0;
  for (let i = 0; i < BCH_CODEBLOCK_LENGTH; i++) {
    let x = data[offset + i]! ^ CLTU_TAIL_SEQUENCE[i]!;
    while (x !== 0) {
      x &= x - 1;
      errors++;
    }
    if (errors > 2) return false;
  }
  return true;
}
