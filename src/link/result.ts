/**
 * What every link-layer decoder returns: the decoded value and the octets it took, or a typed reason for
 * rejecting the input. Decoders never throw on bad bytes; encoders throw RangeError on values that cannot be
 * put on the wire (a programming error, not a link error).
 */

/** Why a decoder rejected its input. Counted by reason in housekeeping. */
export const REJECT_REASONS = [
  /** Fewer octets than the header or the format needs. */
  'truncated',
  /** A length field disagrees with the octets given, or is outside the format's minimum or maximum. */
  'bad-length',
  /** The CRC-16 (FECF or packet error control) does not match. */
  'bad-crc',
  /** Packet, frame or CLCW version number not the one this layer speaks. */
  'bad-version',
  /** Packet type, frame type (bypass/control-command flags) or control word type not allowed here. */
  'bad-type',
  /** A PUS packet without its secondary header flag set. */
  'bad-secondary-header',
  /** PUS version other than 2 (PUS-C). */
  'bad-pus-version',
  /** Spacecraft ID other than the one expected. */
  'bad-scid',
  /** Spare bits that must be zero are not. */
  'bad-spare',
  /** TC segment header other than 0xC0 (unsegmented, MAP 0). */
  'bad-segment-header',
  /** BC frame data that is neither Unlock nor Set V(R). */
  'bad-control-command',
  /** TM data field status other than secondary header 0, sync 0, order 0, segment length ID 11. */
  'bad-data-field-status',
  /** TM first header pointer beyond the data field (and not 0x7FF or 0x7FE). */
  'bad-first-header-pointer',
  /** TM frame without an OCF, or whose OCF is not a valid CLCW. */
  'bad-ocf',
  /** SDLS: a security parameter index with no key (or none this layer knows). */
  'unknown-spi',
  /** SDLS: the MAC (HMAC or GCM tag) does not authenticate the frame. */
  'bad-mac',
  /** SDLS: an anti-replay sequence number not greater than the last one accepted for its SPI. */
  'replay',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Accepted<T> {
  readonly ok: true;
  readonly value: T;
  /** Octets of the input the decoded item occupies, from the offset it was decoded at. */
  readonly length: number;
}

export interface Rejected {
  readonly ok: false;
  readonly reason: RejectReason;
  /** Human-readable detail for logs (the offending field and value). */
  readonly detail: string;
}

export type Decoded<T> = Accepted<T> | Rejected;

export function accept<T>(value: T, length: number): Accepted<T> {
  return { ok: true, value, length };
}

export function reject(reason: RejectReason, detail: string): Rejected {
  return { ok: false, reason, detail };
}

/** A counter per reject reason, all zero: what housekeeping reports. */
export function newRejectCounts(): Record<RejectReason, number> {
  const counts = {} as Record<RejectReason, number>;
  for (const reason of REJECT_REASONS) counts[reason] = 0;
  return counts;
}

/**
 * Throws RangeError unless `value` is an integer in [0, max]: the encoders' guard for fields that must fit
 * their bits on the wire.
 */
export function checkField(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new RangeError(`${name} ${value} is not an integer in [0, ${max}]`);
}

/** Hex of `data[start, end)` for reject details, at most 16 octets. */
export function toHex(data: Uint8Array, start = 0, end = data.length): string {
  let text = '';
  const to = Math.min(end, data.length, start + 16);
  for (let i = Math.max(0, start); i < to; i++) text += data[i]!.toString(16).padStart(2, '0');
  return to < end ? `${text}...` : text;
}
