/**
 * Space Data Link Security (CCSDS 355.0-B) for TC frames, as PROTOCOL.md lays it out. AD and BD frames carry,
 * after the segment header 0xC0:
 *
 * `[SPI 16b] [security header] [data field] [MAC 16 octets]`, then the FECF.
 *
 * | SPI | algorithm | security header after the SPI | MAC |
 * | --- | --- | --- | --- |
 * | 1 | HMAC-SHA-256, authentication only | ARSN, 4 octets | first 16 octets of the HMAC |
 * | 2 | AES-256-GCM, authenticated encryption | IV, 12 octets: 8 octets of salt, then the ARSN (4 octets) | GCM tag |
 *
 * The authenticated data is the frame from its first octet to the end of the data field: the 5-octet primary
 * header (all bits, with the final frame length, which covers the MAC and the FECF), the segment header, the SPI
 * and the security header, then the data field: plaintext for SPI 1; for SPI 2 the octets before the data field
 * are the GCM additional authenticated data and the data field is the ciphertext. BC frames carry no security.
 *
 * IV salt (SPI 2): by default 8 fresh random octets per frame, so that the IV stays unique even if a sender
 * restarts and reuses an ARSN; a sender may instead give a fixed salt of its own (`ivSalt`), which makes the
 * frame a pure function of its inputs (known-answer tests, a sender that never reuses an ARSN under a key). The
 * receiver reads the salt from the frame and gives it no meaning. A retransmission is the same octets again.
 *
 * Anti-replay: `verifyTcFrame` accepts a frame only if its ARSN is greater than the last ARSN accepted for its
 * SPI, which the caller supplies; it never advances it. The caller commits the ARSN (`AntiReplayWindow.commit`)
 * once the frame itself is accepted (for an AD frame, by FARM-1 too) and stores it durably before the command
 * executes, so that a COP-1 retransmission of a frame FARM-1 discarded still passes and a restart accepts no replay.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomFillSync,
  timingSafeEqual,
} from 'node:crypto';
import { CRC16_LENGTH, writeCrc16 } from './crc16.js';
import { accept, type Decoded, reject } from './result.js';
import {
  decodeTcFrame,
  TC_FRAME_HEADER_LENGTH,
  TC_FRAME_MAX_LENGTH,
  type TcDataFrame,
  type TcFrameDecodeOptions,
  writeTcFrame,
} from './tc-frame.js';

export const SPI_HMAC_SHA256 = 1;
export const SPI_AES_256_GCM = 2;
export type Spi = typeof SPI_HMAC_SHA256 | typeof SPI_AES_256_GCM;
export type SdlsAlgorithm = 'hmac-sha256' | 'aes-256-gcm';

/** The algorithm of each SPI PROTOCOL.md defines. */
export const SPI_ALGORITHM: Readonly<Record<Spi, SdlsAlgorithm>> = { 1: 'hmac-sha256', 2: 'aes-256-gcm' };

export const SDLS_SPI_LENGTH = 2;
export const SDLS_ARSN_LENGTH = 4;
export const SDLS_IV_LENGTH = 12;
export const SDLS_IV_SALT_LENGTH = SDLS_IV_LENGTH - SDLS_ARSN_LENGTH;
export const SDLS_MAC_LENGTH = 16;
export const SDLS_KEY_LENGTH = 32;
export const MAX_ARSN = 0xffff_ffff;

/** Octets from the segment header's end to the data field: SPI and security header. */
export function sdlsHeaderLength(spi: Spi): number {
  return SDLS_SPI_LENGTH + (spi === SPI_HMAC_SHA256 ? SDLS_ARSN_LENGTH : SDLS_IV_LENGTH);
}

/** Octets a secured frame adds to its data field: primary and segment headers, SPI, security header, MAC, FECF. */
export function sdlsOverhead(spi: Spi): number {
  return TC_FRAME_HEADER_LENGTH + 1 + sdlsHeaderLength(spi) + SDLS_MAC_LENGTH + CRC16_LENGTH;
}

/** Longest data field a secured frame of at most `maxFrameLength` octets can carry. */
export function sdlsMaxPayload(spi: Spi, maxFrameLength = TC_FRAME_MAX_LENGTH): number {
  return maxFrameLength - sdlsOverhead(spi);
}

/** One SPI's key. The key material is a KeyObject: it does not show in logs or inspection. */
export interface SdlsKey {
  readonly spi: Spi;
  readonly algorithm: SdlsAlgorithm;
  readonly key: KeyObject;
}

/** The keys of the SPIs in use, by SPI. */
export type SdlsKeys = ReadonlyMap<number, SdlsKey>;

/** A key for `spi` from its 32 octets (copied). Throws RangeError on another length or an SPI not 1 or 2. */
export function sdlsKey(spi: Spi, key: Uint8Array): SdlsKey {
  if (spi !== SPI_HMAC_SHA256 && spi !== SPI_AES_256_GCM)
    throw new RangeError(`SPI ${String(spi)} is not 1 or 2`);
  if (key.length !== SDLS_KEY_LENGTH)
    throw new RangeError(`SPI ${spi} key is ${key.length} octets, expected ${SDLS_KEY_LENGTH}`);
  const copy = Uint8Array.from(key);
  const secret = createSecretKey(copy);
  copy.fill(0);
  return { spi, algorithm: SPI_ALGORITHM[spi], key: secret };
}

/** A key set from keys (the last one wins for an SPI given twice). */
export function sdlsKeys(...keys: readonly SdlsKey[]): SdlsKeys {
  return new Map(keys.map((k) => [k.spi, k]));
}

export type KeyFileResult =
  | { readonly ok: true; readonly keys: SdlsKeys }
  | { readonly ok: false; readonly error: string };

/**
 * Parses a key file, `{"1": {"algorithm": "hmac-sha256", "key": "<64 hex>"}, "2": {"algorithm": "aes-256-gcm",
 * "key": "<64 hex>"}}` (either SPI may be absent, not both). Errors name the SPI and the field, never the key.
 */
export function parseKeyFile(jsonText: string): KeyFileResult {
  const fail = (error: string): KeyFileResult => ({ ok: false, error });
  let doc: unknown;
  try {
    doc = JSON.parse(jsonText);
  } catch (error) {
    // The parser's message may quote the text (and so the key): keep only a position.
    const position = /position (\d+)/.exec(String(error))?.[1];
    return fail(`key file is not valid JSON${position === undefined ? '' : ` (at position ${position})`}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return fail('key file must be a JSON object keyed by SPI: {"1": {"algorithm": ..., "key": ...}, ...}');
  const keys: SdlsKey[] = [];
  for (const [name, entry] of Object.entries(doc)) {
    if (name !== '1' && name !== '2')
      return fail(`SPI "${name}" is not defined: SPI 1 is hmac-sha256, SPI 2 is aes-256-gcm`);
    const spi: Spi = name === '1' ? SPI_HMAC_SHA256 : SPI_AES_256_GCM;
    const expected = SPI_ALGORITHM[spi];
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      return fail(`SPI ${spi}: expected an object {"algorithm": "${expected}", "key": "<64 hex digits>"}`);
    const fields = entry as Record<string, unknown>;
    for (const field of Object.keys(fields))
      if (field !== 'algorithm' && field !== 'key')
        return fail(`SPI ${spi}: unknown field "${field}" (expected "algorithm" and "key")`);
    const algorithm = fields.algorithm;
    if (algorithm !== expected)
      return fail(
        `SPI ${spi}: algorithm ${typeof algorithm === 'string' ? `"${algorithm}"` : 'missing or not a string'}, expected "${expected}"`,
      );
    const hex = fields.key;
    if (typeof hex !== 'string') return fail(`SPI ${spi}: key missing or not a string of 64 hex digits`);
    if (!/^[0-9a-fA-F]{64}$/.test(hex))
      return fail(`SPI ${spi}: key is not 64 hex digits (${hex.length} characters given)`);
    const bytes = Buffer.from(hex, 'hex');
    keys.push(sdlsKey(spi, bytes));
    bytes.fill(0);
  }
  if (keys.length === 0)
    return fail('key file holds no key: give SPI 1 (hmac-sha256) and/or SPI 2 (aes-256-gcm)');
  return { ok: true, keys: sdlsKeys(...keys) };
}

export interface SecureTcFrameInit {
  readonly scid: number;
  readonly vcid: number;
  readonly type: 'AD' | 'BD';
  /** N(S). */
  readonly sequenceNumber: number;
  readonly spi: Spi;
  /** Anti-replay sequence number, 0..2^32-1: greater than any used before with this SPI's key. */
  readonly arsn: number;
  /** The data field, in plaintext (a TC space packet, typically). */
  readonly payload: Uint8Array;
  /** SPI 2: the IV's first 8 octets. Default: 8 random octets (see the file's head). */
  readonly ivSalt?: Uint8Array;
}

/** Octets of the secured frame carrying `payloadLength` octets under `spi`. */
export function securedTcFrameLength(spi: Spi, payloadLength: number): number {
  return sdlsOverhead(spi) + payloadLength;
}

function checkInit(init: SecureTcFrameInit, keys: SdlsKeys): SdlsKey {
  const { spi, arsn } = init;
  if (spi !== SPI_HMAC_SHA256 && spi !== SPI_AES_256_GCM)
    throw new RangeError(`SPI ${String(spi)} is not 1 or 2`);
  const key = keys.get(spi);
  if (key === undefined) throw new RangeError(`no key for SPI ${spi}`);
  if (key.algorithm !== SPI_ALGORITHM[spi])
    throw new RangeError(`SPI ${spi} key is not ${SPI_ALGORITHM[spi]}`);
  if (!Number.isInteger(arsn) || arsn < 0 || arsn > MAX_ARSN)
    throw new RangeError(`ARSN ${arsn} is not an integer in [0, ${MAX_ARSN}]`);
  if (init.ivSalt !== undefined && init.ivSalt.length !== SDLS_IV_SALT_LENGTH)
    throw new RangeError(`IV salt of ${init.ivSalt.length} octets, expected ${SDLS_IV_SALT_LENGTH}`);
  return key;
}

/**
 * Writes the secured frame at `offset` of `out` (room for securedTcFrameLength octets); returns its length.
 * Throws RangeError on a field out of range, a frame over 1024 octets, or an SPI without a key in `keys`.
 */
export function writeSecuredTcFrame(
  out: Uint8Array,
  offset: number,
  init: SecureTcFrameInit,
  keys: SdlsKeys,
): number {
  const key = checkInit(init, keys);
  const { spi, arsn, payload } = init;
  const total = securedTcFrameLength(spi, payload.length);
  if (offset < 0 || offset + total > out.length)
    throw new RangeError(`secured TC frame of ${total} octets does not fit at ${offset} of ${out.length}`);
  const frame = out.subarray(offset, offset + total);
  const fecf = total - CRC16_LENGTH;
  // Primary and segment headers, with the final length (writeTcFrame checks the fields and the maximum); the data
  // field is written over in place below.
  frame.fill(0, TC_FRAME_HEADER_LENGTH + 1, fecf);
  writeTcFrame(frame, 0, {
    type: init.type,
    scid: init.scid,
    vcid: init.vcid,
    sequenceNumber: init.sequenceNumber,
    data: frame.subarray(TC_FRAME_HEADER_LENGTH + 1, fecf),
  });
  let at = TC_FRAME_HEADER_LENGTH + 1;
  frame[at] = spi >>> 8;
  frame[at + 1] = spi & 0xff;
  at += SDLS_SPI_LENGTH;
  if (spi === SPI_AES_256_GCM) {
    if (init.ivSalt === undefined) randomFillSync(frame, at, SDLS_IV_SALT_LENGTH);
    else frame.set(init.ivSalt, at);
    at += SDLS_IV_SALT_LENGTH;
  }
  writeArsn(frame, at, arsn);
  at += SDLS_ARSN_LENGTH;
  const macAt = at + payload.length;
  if (spi === SPI_HMAC_SHA256) {
    frame.set(payload, at);
    const mac = createHmac('sha256', key.key).update(frame.subarray(0, macAt)).digest();
    frame.set(mac.subarray(0, SDLS_MAC_LENGTH), macAt);
  } else {
    const iv = frame.subarray(at - SDLS_IV_LENGTH, at);
    const cipher = createCipheriv('aes-256-gcm', key.key, iv, { authTagLength: SDLS_MAC_LENGTH });
    cipher.setAAD(frame.subarray(0, at));
    const head = cipher.update(payload);
    frame.set(head, at);
    const tail = cipher.final();
    frame.set(tail, at + head.length);
    frame.set(cipher.getAuthTag(), macAt);
  }
  writeCrc16(frame, 0, fecf);
  return total;
}

/** The secured frame (complete, FECF included). See writeSecuredTcFrame. */
export function secureTcFrame(init: SecureTcFrameInit, keys: SdlsKeys): Uint8Array {
  const out = new Uint8Array(securedTcFrameLength(init.spi, init.payload.length));
  writeSecuredTcFrame(out, 0, init, keys);
  return out;
}

export interface VerifiedTcFrame {
  /** The frame as decodeTcFrame reads it: `data` is the whole secured data field. */
  readonly frame: TcDataFrame;
  readonly spi: Spi;
  readonly arsn: number;
  /** The data field in plaintext: a view of the input for SPI 1, a new array for SPI 2. */
  readonly payload: Uint8Array;
}

/** The last ARSN accepted for an SPI, undefined when none has been. */
export type LastArsn = (spi: number) => number | undefined;

/**
 * Decodes and verifies a secured TC frame at the start of `bytes`. Checks, in order: the frame (decodeTcFrame:
 * FECF, version, length, type, spare, SCID when asked, segment header), that it is an AD or BD frame ('bad-type'
 * for BC frames, which carry no security), an SPI with a key ('unknown-spi'), the data field long enough for the
 * security header and MAC ('bad-length'), the MAC in constant time ('bad-mac'), then the ARSN greater than
 * `lastArsn(spi)` ('replay'). It does not advance the ARSN: commit it when the frame is accepted.
 */
export function verifyTcFrame(
  bytes: Uint8Array,
  keys: SdlsKeys,
  lastArsn: LastArsn,
  options: TcFrameDecodeOptions = {},
): Decoded<VerifiedTcFrame> {
  const decoded = decodeTcFrame(bytes, options);
  if (!decoded.ok) return decoded;
  const frame = decoded.value;
  if (frame.type === 'BC') return reject('bad-type', 'BC frame: carries no security header');
  return verifyDecodedTcFrame(bytes, frame, keys, lastArsn, decoded.length);
}

/**
 * verifyTcFrame for a frame already decoded by decodeTcFrame (`frame`, from `bytes`, `length` octets): for a
 * pipeline that decodes once and sends BC frames straight to FARM-1.
 */
export function verifyDecodedTcFrame(
  bytes: Uint8Array,
  frame: TcDataFrame,
  keys: SdlsKeys,
  lastArsn: LastArsn,
  length: number,
): Decoded<VerifiedTcFrame> {
  const data = frame.data;
  if (data.length < SDLS_SPI_LENGTH)
    return reject('bad-length', `data field of ${data.length} octets has no SPI`);
  const spiValue = (data[0]! << 8) | data[1]!;
  const key = keys.get(spiValue);
  if (key === undefined || (spiValue !== SPI_HMAC_SHA256 && spiValue !== SPI_AES_256_GCM))
    return reject('unknown-spi', `SPI ${spiValue} has no key`);
  const spi: Spi = spiValue;
  if (key.algorithm !== SPI_ALGORITHM[spi])
    return reject('unknown-spi', `SPI ${spi} key is not ${SPI_ALGORITHM[spi]}`);
  const headerLength = sdlsHeaderLength(spi);
  if (data.length < headerLength + SDLS_MAC_LENGTH)
    return reject(
      'bad-length',
      `data field of ${data.length} octets, SPI ${spi} needs at least ${headerLength + SDLS_MAC_LENGTH}`,
    );
  // Offsets in `bytes`: the data field starts after the primary and segment headers.
  const dataAt = TC_FRAME_HEADER_LENGTH + 1 + headerLength;
  const macAt = TC_FRAME_HEADER_LENGTH + 1 + data.length - SDLS_MAC_LENGTH;
  const mac = bytes.subarray(macAt, macAt + SDLS_MAC_LENGTH);
  const arsn = readArsn(bytes, dataAt - SDLS_ARSN_LENGTH);
  let payload: Uint8Array;
  if (spi === SPI_HMAC_SHA256) {
    const expected = createHmac('sha256', key.key).update(bytes.subarray(0, macAt)).digest();
    if (!timingSafeEqual(expected.subarray(0, SDLS_MAC_LENGTH), mac))
      return reject('bad-mac', `SPI 1 HMAC does not match (ARSN ${arsn})`);
    payload = bytes.subarray(dataAt, macAt);
  } else {
    try {
      const iv = bytes.subarray(dataAt - SDLS_IV_LENGTH, dataAt);
      const decipher = createDecipheriv('aes-256-gcm', key.key, iv, { authTagLength: SDLS_MAC_LENGTH });
      decipher.setAAD(bytes.subarray(0, dataAt));
      decipher.setAuthTag(mac);
      const head = decipher.update(bytes.subarray(dataAt, macAt));
      const tail = decipher.final(); // throws unless the tag authenticates AAD and ciphertext
      payload =
        tail.length === 0 ? new Uint8Array(head.buffer, head.byteOffset, head.length) : concat(head, tail);
    } catch {
      return reject('bad-mac', `SPI 2 GCM tag does not authenticate the frame (ARSN ${arsn})`);
    }
  }
  const last = lastArsn(spi);
  if (last !== undefined && arsn <= last)
    return reject('replay', `SPI ${spi} ARSN ${arsn} is not greater than the last accepted, ${last}`);
  return accept({ frame, spi, arsn, payload }, length);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function writeArsn(out: Uint8Array, at: number, arsn: number): void {
  out[at] = arsn >>> 24;
  out[at + 1] = (arsn >>> 16) & 0xff;
  out[at + 2] = (arsn >>> 8) & 0xff;
  out[at + 3] = arsn & 0xff;
}

function readArsn(data: Uint8Array, at: number): number {
  return ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0;
}

/** What AntiReplayWindow.snapshot returns: the last ARSN accepted, by SPI (JSON-friendly). */
export type AntiReplaySnapshot = Readonly<Record<string, number>>;

/**
 * The last ARSN accepted per SPI, for the receiver. `last` is what verifyTcFrame asks for; `commit` advances an
 * SPI's ARSN once its frame is accepted; `snapshot` is what to store durably (before the command executes) and
 * the constructor restores it.
 */
export class AntiReplayWindow {
  private readonly lastBySpi = new Map<number, number>();

  /** Throws RangeError on a snapshot entry that is not an SPI (0..65535) with an ARSN (0..2^32-1). */
  constructor(snapshot: AntiReplaySnapshot = {}) {
    for (const [name, arsn] of Object.entries(snapshot)) {
      const spi = Number(name);
      if (!/^\d+$/.test(name) || spi > 0xffff) throw new RangeError(`anti-replay snapshot: SPI "${name}"`);
      checkArsn(arsn);
      this.lastBySpi.set(spi, arsn);
    }
  }

  /** A window as `snapshot` left it (the same as the constructor). */
  static restore(snapshot: AntiReplaySnapshot): AntiReplayWindow {
    return new AntiReplayWindow(snapshot);
  }

  /** The last ARSN accepted for `spi`; undefined when none. Bound: pass it as verifyTcFrame's `lastArsn`. */
  readonly last: LastArsn = (spi) => this.lastBySpi.get(spi);

  /** Whether `arsn` would be accepted for `spi` now (greater than the last accepted). */
  check(spi: number, arsn: number): boolean {
    const last = this.lastBySpi.get(spi);
    return last === undefined || arsn > last;
  }

  /** Records `arsn` as accepted for `spi` if it is greater than the last; returns whether it advanced. */
  commit(spi: number, arsn: number): boolean {
    checkArsn(arsn);
    if (!this.check(spi, arsn)) return false;
    this.lastBySpi.set(spi, arsn);
    return true;
  }

  snapshot(): AntiReplaySnapshot {
    const out: Record<string, number> = {};
    for (const [spi, arsn] of [...this.lastBySpi].sort((a, b) => a[0] - b[0])) out[String(spi)] = arsn;
    return out;
  }
}

function checkArsn(arsn: unknown): asserts arsn is number {
  if (typeof arsn !== 'number' || !Number.isInteger(arsn) || arsn < 0 || arsn > MAX_ARSN)
    throw new RangeError(`ARSN ${String(arsn)} is not an integer in [0, ${MAX_ARSN}]`);
}
