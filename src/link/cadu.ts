/**
 * The radio downlink (CCSDS 131.0-B): a continuous stream of CADUs, each the attached sync marker 1ACFFC1D then a
 * fixed-length TM transfer frame randomized with the TM randomizer (randomizer.ts; the sequence restarts after each
 * ASM, the ASM itself is not randomized). Idle frames fill the gaps, so CADUs follow each other with no gap.
 *
 * `CaduSynchronizer` finds them again in a received bit stream: the ASM may sit at any bit offset (a receiver's
 * bit clock can slip), may carry bit errors, and octets may be lost or inserted. It checks no FECF; that is the
 * next layer's job (`tmFrameFecfOk` here, or decodeTmFrame).
 */
import { checkCrc16 } from './crc16.js';
import { TM_RANDOMIZER_SEQUENCE, xorSequence } from './randomizer.js';

/** The attached sync marker, 32 bits. */
export const ASM = 0x1acffc1d;
export const ASM_BYTES: Uint8Array = Uint8Array.of(0x1a, 0xcf, 0xfc, 0x1d);
export const ASM_LENGTH = 4;

export interface CaduEncodeOptions {
  /** Randomize the frame (TM randomizer); default true (the radio profile). */
  readonly randomize?: boolean;
}

/** Writes the CADU of `frame` at `offset` of `out` (room for 4 + frame.length octets); returns its length. */
export function writeCadu(
  out: Uint8Array,
  offset: number,
  frame: Uint8Array,
  options: CaduEncodeOptions = {},
): number {
  const total = ASM_LENGTH + frame.length;
  if (offset < 0 || offset + total > out.length)
    throw new RangeError(`CADU of ${total} octets does not fit at ${offset} of ${out.length}`);
  out.set(ASM_BYTES, offset);
  out.set(frame, offset + ASM_LENGTH);
  if (options.randomize ?? true)
    xorSequence(TM_RANDOMIZER_SEQUENCE, out, offset + ASM_LENGTH, offset + total);
  return total;
}

/** The CADU of `frame`: ASM then the frame, randomized unless asked not to. `frame` is not modified. */
export function encodeCadu(frame: Uint8Array, options: CaduEncodeOptions = {}): Uint8Array {
  const out = new Uint8Array(ASM_LENGTH + frame.length);
  writeCadu(out, 0, frame, options);
  return out;
}

/** Whether a TM frame's last two octets are the CRC-16 of the octets before them. */
export function tmFrameFecfOk(frame: Uint8Array): boolean {
  return checkCrc16(frame, 0, frame.length);
}

export interface CaduSynchronizerOptions {
  /** The profile's fixed TM frame length (TmFrameLength.radio is 1115). */
  readonly frameLength: number;
  /** Bit errors tolerated in an ASM where lock expects it; default 2. */
  readonly maxAsmErrors?: number;
  /** Bit errors tolerated in an ASM found while searching (no lock); default 1 (at most maxAsmErrors). */
  readonly searchAsmErrors?: number;
  /**
   * In lock, how many bits either side of the expected position the ASM is looked for when it is not there (a
   * bit slip); default 2. Beyond that, lock is lost and the search starts again.
   */
  readonly slipWindow?: number;
  /** Derandomize frames (TM randomizer); default true. */
  readonly randomize?: boolean;
}

export interface CaduSynchronizerStats {
  /** Frames delivered. */
  frames: number;
  /** Times lock was acquired by a search (the first one included). */
  acquisitions: number;
  /** Times lock was lost (no ASM at or near the expected position) and the search started again. */
  resyncs: number;
  /** ASMs found in lock a few bits off the expected position. */
  bitSlips: number;
  /** Bit errors in the ASMs accepted, and the ASMs that had any. */
  asmBitErrors: number;
  asmsWithErrors: number;
  /** Bits searched past without finding an ASM. */
  skippedBits: number;
}

export type CaduSyncState = 'search' | 'lock';

function popcount32(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Streaming frame synchronizer for a CADU stream: push received octets in any split; it returns the frames they
 * complete, derandomized, each a new array the caller owns.
 *
 * - Search: every bit position is tried until 32 bits match the ASM within `searchAsmErrors` bit errors; the
 *   frame after it is delivered and the synchronizer locks.
 * - Lock: the next ASM is expected right after the frame and accepted there within `maxAsmErrors`. If it is not
 *   there, the best match within `slipWindow` bits either side is taken (a bit slip). If there is none, lock is
 *   lost and the search starts again from the bit after the last ASM accepted, so that a frame shortened by a
 *   dropout does not hide the ASM that follows it.
 *
 * The buffer holds about three CADUs; the work per frame in lock is one pass over its octets.
 */
export class CaduSynchronizer {
  readonly frameLength: number;
  readonly stats: CaduSynchronizerStats = {
    frames: 0,
    acquisitions: 0,
    resyncs: 0,
    bitSlips: 0,
    asmBitErrors: 0,
    asmsWithErrors: 0,
    skippedBits: 0,
  };
  private readonly maxAsmErrors: number;
  private readonly searchAsmErrors: number;
  private readonly slipWindow: number;
  private readonly randomize: boolean;
  private readonly frameBits: number;
  private readonly buffer: Uint8Array;
  /** Octets held in the buffer. */
  private length = 0;
  private locked = false;
  /** Search: the next bit position to try. Lock: where the next ASM is expected. */
  private pos = 0;
  /** The earliest bit the buffer must keep: the bit after the last ASM accepted, or `pos` when searching. */
  private keep = 0;
  /** Bit position of an ASM accepted whose frame has not arrived in full yet; -1 when none. */
  private asmAt = -1;
  private asmErrors = 0;
  private asmSlipped = false;

  constructor(options: CaduSynchronizerOptions) {
    const { frameLength } = options;
    if (!Number.isInteger(frameLength) || frameLength < 1 || frameLength > 65536)
      throw new RangeError(`frameLength ${frameLength} is not an integer in [1, 65536]`);
    const maxAsmErrors = options.maxAsmErrors ?? 2;
    const searchAsmErrors = options.searchAsmErrors ?? Math.min(1, maxAsmErrors);
    const slipWindow = options.slipWindow ?? 2;
    for (const [name, value, max] of [
      ['maxAsmErrors', maxAsmErrors, 8],
      ['searchAsmErrors', searchAsmErrors, 8],
      ['slipWindow', slipWindow, 64],
    ] as const)
      if (!Number.isInteger(value) || value < 0 || value > max)
        throw new RangeError(`${name} ${value} is not an integer in [0, ${max}]`);
    this.frameLength = frameLength;
    this.maxAsmErrors = maxAsmErrors;
    this.searchAsmErrors = searchAsmErrors;
    this.slipWindow = slipWindow;
    this.randomize = options.randomize ?? true;
    this.frameBits = frameLength * 8;
    // Kept: from the last ASM to the next expected one (one CADU) plus a whole CADU, the slip window and a partial
    // octet; the rest is room for input.
    this.buffer = new Uint8Array(3 * (ASM_LENGTH + frameLength) + 2 * Math.ceil(slipWindow / 8) + 16);
  }

  get state(): CaduSyncState {
    return this.locked ? 'lock' : 'search';
  }

  /** Consumes `chunk`; returns the frames it completes, appended to `out` if given. */
  push(chunk: Uint8Array, out: Uint8Array[] = []): Uint8Array[] {
    let at = 0;
    while (at < chunk.length) {
      if (this.length === this.buffer.length) {
        this.compact();
        if (this.length === this.buffer.length) {
          // Cannot happen with the buffer's sizing; give up what is kept rather than stall.
          this.keep = this.pos;
          this.compact();
        }
      }
      const take = Math.min(this.buffer.length - this.length, chunk.length - at);
      this.buffer.set(chunk.subarray(at, at + take), this.length);
      this.length += take;
      at += take;
      this.process(out);
      this.compact();
    }
    return out;
  }

  /** Drops everything buffered and searches afresh, as at start-up. Statistics are kept. */
  reset(): void {
    this.length = 0;
    this.locked = false;
    this.pos = 0;
    this.keep = 0;
    this.asmAt = -1;
  }

  /** The 32 bits starting at bit `p` of the buffer; the caller checks that they are all there. */
  private bitsAt(p: number): number {
    const b = this.buffer;
    const i = p >>> 3;
    const o = p & 7;
    const v = ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
    return o === 0 ? v : ((v << o) | (b[i + 4]! >>> (8 - o))) >>> 0;
  }

  private asmErrorsAt(p: number): number {
    return popcount32((this.bitsAt(p) ^ ASM) >>> 0);
  }

  private process(out: Uint8Array[]): void {
    const stats = this.stats;
    const available = this.length * 8;
    for (;;) {
      if (this.asmAt < 0) {
        if (this.locked) {
          const expected = this.pos;
          if (expected + 32 > available) return;
          const errors = this.asmErrorsAt(expected);
          if (errors <= this.maxAsmErrors) {
            this.accept(expected, errors, false);
          } else {
            const w = this.slipWindow;
            if (expected + w + 32 > available) return;
            let best = -1;
            let bestErrors = this.maxAsmErrors + 1;
            // Nearest first, earlier before later, so that a tie goes to the smaller slip.
            for (let d = 1; d <= w; d++) {
              for (let side = -1; side <= 1; side += 2) {
                const p = expected + side * d;
                if (p < this.keep) continue;
                const e = this.asmErrorsAt(p);
                if (e < bestErrors) {
                  best = p;
                  bestErrors = e;
                }
              }
            }
            if (best >= 0) this.accept(best, bestErrors, true);
            else {
              stats.resyncs++;
              this.locked = false;
              this.pos = this.keep;
              continue;
            }
          }
        } else {
          let p = this.pos;
          const limit = this.searchAsmErrors;
          let found = false;
          for (; p + 32 <= available; p++) {
            if (this.asmErrorsAt(p) <= limit) {
              found = true;
              break;
            }
          }
          stats.skippedBits += p - this.pos;
          this.pos = p;
          this.keep = p;
          if (!found) return;
          this.accept(p, this.asmErrorsAt(p), false);
        }
      }
      // An ASM is accepted at asmAt: deliver its frame once all of it is here.
      const start = this.asmAt + 32;
      if (start + this.frameBits > available) return;
      out.push(this.extract(start));
      stats.frames++;
      if (this.asmErrors > 0) {
        stats.asmBitErrors += this.asmErrors;
        stats.asmsWithErrors++;
      }
      if (this.asmSlipped) stats.bitSlips++;
      if (!this.locked) {
        stats.acquisitions++;
        this.locked = true;
      }
      this.keep = this.asmAt + 1;
      this.pos = start + this.frameBits;
      this.asmAt = -1;
    }
  }

  private accept(p: number, errors: number, slipped: boolean): void {
    this.asmAt = p;
    this.asmErrors = errors;
    this.asmSlipped = slipped;
  }

  /** The frame whose first bit is bit `start` of the buffer, derandomized. */
  private extract(start: number): Uint8Array {
    const n = this.frameLength;
    const b = this.buffer;
    const i = start >>> 3;
    const o = start & 7;
    let frame: Uint8Array;
    if (o === 0) frame = b.slice(i, i + n);
    else {
      frame = new Uint8Array(n);
      const back = 8 - o;
      let cur = b[i]!;
      for (let k = 0; k < n; k++) {
        const next = b[i + k + 1]!;
        frame[k] = ((cur << o) | (next >>> back)) & 0xff;
        cur = next;
      }
    }
    if (this.randomize) xorSequence(TM_RANDOMIZER_SEQUENCE, frame);
    return frame;
  }

  /** Drops the octets before the earliest bit still needed. */
  private compact(): void {
    let from = Math.min(this.pos, this.keep);
    if (this.asmAt >= 0) from = Math.min(from, this.asmAt);
    const drop = from >>> 3;
    if (drop === 0) return;
    this.buffer.copyWithin(0, drop, this.length);
    this.length -= drop;
    const bits = drop * 8;
    this.pos -= bits;
    this.keep -= bits;
    if (this.asmAt >= 0) this.asmAt -= bits;
  }
}
