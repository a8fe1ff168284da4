/**
 * KISS framing (the serial profile): `FEND 0x00 <frame, FEND and FESC escaped> FEND`. FEND C0, FESC DB, TFEND DC,
 * TFESC DD; the command byte 0x00 is port 0, data. A receiver resynchronises on the next FEND after any garbage.
 */

export const FEND = 0xc0;
export const FESC = 0xdb;
export const TFEND = 0xdc;
export const TFESC = 0xdd;
/** Command byte of a data frame on port 0. */
export const KISS_DATA = 0x00;

/** Octets of `frame` once KISS-encoded, both FENDs and the command byte included. */
export function kissEncodedLength(frame: Uint8Array): number {
  let n = frame.length + 3;
  for (let i = 0; i < frame.length; i++) {
    const b = frame[i]!;
    if (b === FEND || b === FESC) n++;
  }
  return n;
}

/** Writes `frame` KISS-encoded at `offset` of `out` (which must have room: see kissEncodedLength); returns the
 * octets written. */
export function kissEncodeInto(out: Uint8Array, offset: number, frame: Uint8Array): number {
  let at = offset;
  out[at++] = FEND;
  out[at++] = KISS_DATA;
  for (let i = 0; i < frame.length; i++) {
    const b = frame[i]!;
    if (b === FEND) {
      out[at++] = FESC;
      out[at++] = TFEND;
    } else if (b === FESC) {
      out[at++] = FESC;
      out[at++] = TFESC;
    } else {
      out[at++] = b;
    }
  }
  out[at++] = FEND;
  return at - offset;
}

export function kissEncode(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(kissEncodedLength(frame));
  kissEncodeInto(out, 0, frame);
  return out;
}

/** Why the KISS decoder dropped octets. */
export const KISS_REJECT_REASONS = [
  /** FESC followed by something other than TFEND or TFESC. */
  'bad-escape',
  /** A frame whose command byte is not 0x00 (port 0, data). */
  'bad-command',
  /** A frame longer than the decoder's maximum. */
  'oversize',
  /** A data frame with no octets after its command byte. */
  'empty',
  /** Octets before the first FEND (joining a stream mid-frame): one count per run. */
  'unsynchronised',
] as const;
export type KissRejectReason = (typeof KISS_REJECT_REASONS)[number];

export interface KissDecoderOptions {
  /** Longest frame (octets after unescaping, command byte excluded) accepted; default 2048. */
  readonly maxFrameLength?: number;
}

/** Before the first FEND, or dropping octets after an error until the next FEND. */
const HUNT = 0;
/** After a FEND: the next octet is a command byte (or another FEND). */
const COMMAND = 1;
/** Collecting a data frame. */
const DATA = 2;
/** Collecting, after FESC. */
const ESCAPE = 3;
type State = typeof HUNT | typeof COMMAND | typeof DATA | typeof ESCAPE;

/**
 * Streaming KISS decoder: feed it chunks as they arrive, in any split; it returns the data frames they complete.
 * Back-to-back FENDs (empty frames) are ignored. Frames it drops are counted in `rejected` by reason.
 */
export class KissDecoder {
  readonly maxFrameLength: number;
  /** Frames (or runs of garbage) dropped, by reason. */
  readonly rejected: Record<KissRejectReason, number>;
  /** Data frames delivered. */
  frames = 0;
  private readonly buffer: Uint8Array;
  private length = 0;
  private state: State = HUNT;
  /** Whether the current hunt began at start-up (counted as 'unsynchronised') rather than after an error. */
  private started = false;

  constructor(options: KissDecoderOptions = {}) {
    const max = options.maxFrameLength ?? 2048;
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`maxFrameLength ${max} is not a positive integer`);
    this.maxFrameLength = max;
    this.buffer = new Uint8Array(max);
    this.rejected = { 'bad-escape': 0, 'bad-command': 0, oversize: 0, empty: 0, unsynchronised: 0 };
  }

  /** Consumes `chunk`; returns the frames it completes (copies, in order), appended to `out` if given. */
  push(chunk: Uint8Array, out: Uint8Array[] = []): Uint8Array[] {
    const buffer = this.buffer;
    const max = this.maxFrameLength;
    let state = this.state;
    let length = this.length;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === FEND) {
        if (state === DATA) {
          if (length === 0) this.rejected.empty++;
          else {
            out.push(buffer.slice(0, length));
            this.frames++;
          }
        } else if (state === ESCAPE) {
          this.rejected['bad-escape']++;
        }
        this.started = true;
        state = COMMAND;
        length = 0;
        continue;
      }
      switch (state) {
        case HUNT:
          if (!this.started) {
            this.rejected.unsynchronised++;
            this.started = true;
          }
          break;
        case COMMAND:
          if (b === KISS_DATA) state = DATA;
          else {
            this.rejected['bad-command']++;
            state = HUNT;
          }
          break;
        case DATA:
          if (b === FESC) state = ESCAPE;
          else if (length < max) buffer[length++] = b;
          else {
            this.rejected.oversize++;
            state = HUNT;
          }
          break;
        case ESCAPE:
          if (b !== TFEND && b !== TFESC) {
            this.rejected['bad-escape']++;
            state = HUNT;
          } else if (length < max) {
            buffer[length++] = b === TFEND ? FEND : FESC;
            state = DATA;
          } else {
            this.rejected.oversize++;
            state = HUNT;
          }
          break;
      }
    }
    this.state = state;
    this.length = length;
    return out;
  }

  /** Drops any partial frame and waits for the next FEND, as at start-up. */
  reset(): void {
    this.state = HUNT;
    this.length = 0;
    this.started = false;
  }
}
