/**
 * Modbus RTU, the codec only (no I/O): the CRC, request and response encoders and decoders, and two streaming
 * frame extractors, one for the master (it knows which answer it waits for) and one for the slave (the HIL rig's
 * simulated devices).
 *
 * An RTU frame is `unit, function, data..., CRC low, CRC high`. The standard delimits frames by 3.5 characters of
 * silence; this implementation does not rely on timing (a pseudo-terminal or a USB adapter regroups bytes freely)
 * and sizes every frame from its function code and byte count instead. Where the bytes do not make a frame (line
 * noise, a frame cut short, a CRC that fails) the extractors drop one byte and try again from the next, so they
 * resynchronise by themselves. Decoders and extractors never throw on bad bytes; encoders throw RangeError on
 * values that cannot be put on the wire (a programming error, not a link error).
 */

// ---------------------------------------------------------------------------------------------------------------
// CRC-16/MODBUS: poly 0x8005 reflected (0xA001), init 0xFFFF, no xorout; sent low byte first. Check value of
// ASCII "123456789" is 0x4B37.

const CRC_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-16/MODBUS of `bytes[start, end)`. */
export function modbusCrc(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  const stop = Math.min(end, bytes.length);
  for (let i = Math.max(0, start); i < stop; i++) {
    crc = (crc >>> 8) ^ (CRC_TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number);
  }
  return crc;
}

/** `body` followed by its CRC, low byte first. */
export function withCrc(body: Uint8Array | readonly number[]): Uint8Array {
  const frame = new Uint8Array(body.length + 2);
  frame.set(body);
  const crc = modbusCrc(frame, 0, body.length);
  frame[body.length] = crc & 0xff;
  frame[body.length + 1] = crc >>> 8;
  return frame;
}

/** Whether the last two bytes of `bytes[start, end)` are the CRC of the bytes before them. */
export function crcMatches(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  if (end - start < 4 || end > bytes.length) return false;
  const crc = modbusCrc(bytes, start, end - 2);
  return bytes[end - 2] === (crc & 0xff) && bytes[end - 1] === crc >>> 8;
}

// ---------------------------------------------------------------------------------------------------------------
// Functions, limits and exceptions.

export const FUNCTION_CODES = {
  readCoils: 0x01,
  readHolding: 0x03,
  readInput: 0x04,
  writeCoil: 0x05,
  writeRegister: 0x06,
  writeRegisters: 0x10,
} as const;

export type ModbusFunction = keyof typeof FUNCTION_CODES;

const FUNCTION_BY_CODE: ReadonlyMap<number, ModbusFunction> = new Map(
  Object.entries(FUNCTION_CODES).map(([name, code]) => [code, name as ModbusFunction]),
);

/** The function a code names, or undefined for one this implementation does not speak. */
export function functionOf(code: number): ModbusFunction | undefined {
  return FUNCTION_BY_CODE.get(code);
}

/** Largest counts one request may carry (Modbus Application Protocol v1.1b3). */
export const MAX_READ_COILS = 2000;
export const MAX_READ_REGISTERS = 125;
export const MAX_WRITE_REGISTERS = 123;

/** Exception codes, named as in the specification. */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'slave device failure',
  5: 'acknowledge',
  6: 'slave device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

export const ILLEGAL_FUNCTION = 1;
export const ILLEGAL_DATA_ADDRESS = 2;
export const ILLEGAL_DATA_VALUE = 3;
export const SLAVE_DEVICE_FAILURE = 4;

/** `exception 02 illegal data address`. */
export function exceptionText(code: number): string {
  const hex = code.toString(16).toUpperCase().padStart(2, '0');
  return `exception ${hex} ${EXCEPTION_NAMES[code] ?? 'unknown exception'}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Requests and responses.

interface Addressed {
  /** Unit (slave) address, 0 (broadcast) to 247. */
  readonly unit: number;
  /** First coil or register, 0-based as on the wire. */
  readonly address: number;
}

export type ModbusRequest =
  | (Addressed & { readonly kind: 'readCoils' | 'readHolding' | 'readInput'; readonly count: number })
  | (Addressed & { readonly kind: 'writeCoil'; readonly on: boolean })
  | (Addressed & { readonly kind: 'writeRegister'; readonly value: number })
  | (Addressed & { readonly kind: 'writeRegisters'; readonly values: readonly number[] });

export interface ModbusException {
  readonly kind: 'exception';
  readonly unit: number;
  /** The function the request named (without the 0x80 flag). */
  readonly function: number;
  readonly code: number;
  /** `illegal data address`. */
  readonly name: string;
}

export type ModbusResponse =
  | { readonly kind: 'readCoils'; readonly unit: number; readonly values: readonly boolean[] }
  | { readonly kind: 'readHolding' | 'readInput'; readonly unit: number; readonly values: readonly number[] }
  | (Addressed & { readonly kind: 'writeCoil'; readonly on: boolean })
  | (Addressed & { readonly kind: 'writeRegister'; readonly value: number })
  | (Addressed & { readonly kind: 'writeRegisters'; readonly count: number })
  | ModbusException;

export type ModbusRejectReason =
  | 'truncated'
  | 'bad-crc'
  | 'bad-unit'
  | 'bad-function'
  | 'bad-length'
  | 'bad-value'
  /** The frame is sound but answers another request (another address, count or value). */
  | 'mismatch';

export type ModbusDecoded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: ModbusRejectReason };

function reject<T>(reason: ModbusRejectReason): ModbusDecoded<T> {
  return { ok: false, reason };
}

function checkInteger(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Modbus ${what} ${value} is outside ${min}..${max}`);
  }
}

function checkUnit(unit: number): void {
  checkInteger('unit', unit, 0, 247);
}

function checkSpan(address: number, count: number, max: number): void {
  checkInteger('address', address, 0, 0xffff);
  checkInteger('count', count, 1, max);
  if (address + count > 0x10000)
    throw new RangeError(`Modbus address ${address} + count ${count} passes 65535`);
}

const hi = (word: number) => (word >>> 8) & 0xff;
const lo = (word: number) => word & 0xff;
const word = (bytes: Uint8Array, at: number) =>
  (((bytes[at] as number) << 8) | (bytes[at + 1] as number)) >>> 0;

/** The request as a frame, CRC included. */
export function encodeRequest(request: ModbusRequest): Uint8Array {
  checkUnit(request.unit);
  const fn = FUNCTION_CODES[request.kind];
  const { unit, address } = request;
  switch (request.kind) {
    case 'readCoils':
    case 'readHolding':
    case 'readInput': {
      checkSpan(address, request.count, request.kind === 'readCoils' ? MAX_READ_COILS : MAX_READ_REGISTERS);
      return withCrc([unit, fn, hi(address), lo(address), hi(request.count), lo(request.count)]);
    }
    case 'writeCoil': {
      checkInteger('address', address, 0, 0xffff);
      return withCrc([unit, fn, hi(address), lo(address), request.on ? 0xff : 0x00, 0x00]);
    }
    case 'writeRegister': {
      checkInteger('address', address, 0, 0xffff);
      checkInteger('register value', request.value, 0, 0xffff);
      return withCrc([unit, fn, hi(address), lo(address), hi(request.value), lo(request.value)]);
    }
    case 'writeRegisters': {
      const count = request.values.length;
      checkSpan(address, count, MAX_WRITE_REGISTERS);
      const body = [unit, fn, hi(address), lo(address), hi(count), lo(count), count * 2];
      for (const value of request.values) {
        checkInteger('register value', value, 0, 0xffff);
        body.push(hi(value), lo(value));
      }
      return withCrc(body);
    }
  }
}

/** The response as a frame, CRC included (the slave side). A write's answer echoes its request. */
export function encodeResponse(response: ModbusResponse): Uint8Array {
  checkUnit(response.unit);
  const { unit } = response;
  switch (response.kind) {
    case 'exception':
      checkInteger('function', response.function, 1, 0x7f);
      checkInteger('exception code', response.code, 1, 0xff);
      return withCrc([unit, response.function | 0x80, response.code]);
    case 'readCoils': {
      checkInteger('coil count', response.values.length, 1, MAX_READ_COILS);
      const byteCount = Math.ceil(response.values.length / 8);
      const body = [unit, FUNCTION_CODES.readCoils, byteCount, ...new Array<number>(byteCount).fill(0)];
      response.values.forEach((on, i) => {
        if (on) body[3 + (i >> 3)] = (body[3 + (i >> 3)] as number) | (1 << (i & 7));
      });
      return withCrc(body);
    }
    case 'readHolding':
    case 'readInput': {
      checkInteger('register count', response.values.length, 1, MAX_READ_REGISTERS);
      const body = [unit, FUNCTION_CODES[response.kind], response.values.length * 2];
      for (const value of response.values) {
        checkInteger('register value', value, 0, 0xffff);
        body.push(hi(value), lo(value));
      }
      return withCrc(body);
    }
    case 'writeCoil':
    case 'writeRegister':
      return encodeRequest(response);
    case 'writeRegisters': {
      const { address, count } = response;
      checkSpan(address, count, MAX_WRITE_REGISTERS);
      return withCrc([unit, FUNCTION_CODES.writeRegisters, hi(address), lo(address), hi(count), lo(count)]);
    }
  }
}

/** An exception response to `request`. */
export function exceptionFor(
  request: { readonly unit: number; readonly kind: ModbusFunction },
  code: number,
): ModbusException {
  return exceptionResponse(request.unit, FUNCTION_CODES[request.kind], code);
}

export function exceptionResponse(unit: number, fn: number, code: number): ModbusException {
  return { kind: 'exception', unit, function: fn, code, name: EXCEPTION_NAMES[code] ?? 'unknown exception' };
}

/** The length of the (normal) response to `request`, CRC included. An exception response is 5 bytes. */
export function responseLength(request: ModbusRequest): number {
  switch (request.kind) {
    case 'readCoils':
      return 5 + Math.ceil(request.count / 8);
    case 'readHolding':
    case 'readInput':
      return 5 + 2 * request.count;
    default:
      return 8;
  }
}

export const EXCEPTION_LENGTH = 5;

/**
 * Decodes one whole request frame (`frame` is exactly the frame). `bad-function` for a function this
 * implementation does not speak (the slave answers exception 01), `bad-value` for a count out of range, a coil
 * value other than FF00/0000 or a byte count that disagrees with the count (exception 03).
 */
export function decodeRequest(frame: Uint8Array): ModbusDecoded<ModbusRequest> {
  if (frame.length < 4) return reject('truncated');
  if (!crcMatches(frame)) return reject('bad-crc');
  const unit = frame[0] as number;
  if (unit > 247) return reject('bad-unit');
  const kind = functionOf(frame[1] as number);
  if (kind === undefined) return reject('bad-function');
  if (kind === 'writeRegisters' ? frame.length < 9 : frame.length < 8) return reject('truncated');
  if (kind !== 'writeRegisters' && frame.length !== 8) return reject('bad-length');
  const address = word(frame, 2);
  const operand = word(frame, 4);
  switch (kind) {
    case 'readCoils':
    case 'readHolding':
    case 'readInput': {
      const max = kind === 'readCoils' ? MAX_READ_COILS : MAX_READ_REGISTERS;
      if (operand < 1 || operand > max || address + operand > 0x10000) return reject('bad-value');
      return { ok: true, value: { kind, unit, address, count: operand } };
    }
    case 'writeCoil':
      if (operand !== 0xff00 && operand !== 0x0000) return reject('bad-value');
      return { ok: true, value: { kind, unit, address, on: operand === 0xff00 } };
    case 'writeRegister':
      return { ok: true, value: { kind, unit, address, value: operand } };
    case 'writeRegisters': {
      const byteCount = frame[6] as number;
      if (frame.length !== 9 + byteCount) return reject('bad-length');
      if (
        operand < 1 ||
        operand > MAX_WRITE_REGISTERS ||
        byteCount !== 2 * operand ||
        address + operand > 0x10000
      ) {
        return reject('bad-value');
      }
      const values: number[] = [];
      for (let i = 0; i < operand; i++) values.push(word(frame, 7 + 2 * i));
      return { ok: true, value: { kind, unit, address, values } };
    }
  }
}

/**
 * Decodes one whole response frame. Given the request it answers, also checks that it does answer it (unit,
 * function, count; a write's echo) and gives exactly `count` coils; without it, coils come in whole bytes.
 */
export function decodeResponse(frame: Uint8Array, request?: ModbusRequest): ModbusDecoded<ModbusResponse> {
  if (frame.length < EXCEPTION_LENGTH) return reject('truncated');
  if (!crcMatches(frame)) return reject('bad-crc');
  const unit = frame[0] as number;
  const code = frame[1] as number;
  if (request !== undefined && unit !== request.unit) return reject('mismatch');
  if (code & 0x80) {
    const fn = code & 0x7f;
    if (frame.length !== EXCEPTION_LENGTH) return reject('bad-length');
    if (request !== undefined && fn !== FUNCTION_CODES[request.kind]) return reject('mismatch');
    if (frame[2] === 0) return reject('bad-value');
    return { ok: true, value: exceptionResponse(unit, fn, frame[2] as number) };
  }
  const kind = functionOf(code);
  if (kind === undefined) return reject('bad-function');
  if (request !== undefined && kind !== request.kind) return reject('mismatch');
  switch (kind) {
    case 'readCoils':
    case 'readHolding':
    case 'readInput': {
      const byteCount = frame[2] as number;
      if (frame.length !== 5 + byteCount || byteCount === 0) return reject('bad-length');
      if (kind === 'readCoils') {
        const count = request?.kind === 'readCoils' ? request.count : byteCount * 8;
        if (byteCount !== Math.ceil(count / 8)) return reject('mismatch');
        const values: boolean[] = [];
        for (let i = 0; i < count; i++) values.push((((frame[3 + (i >> 3)] as number) >> (i & 7)) & 1) === 1);
        return { ok: true, value: { kind, unit, values } };
      }
      if (byteCount % 2 !== 0) return reject('bad-length');
      if (request !== undefined && request.kind === kind && byteCount !== 2 * request.count)
        return reject('mismatch');
      const values: number[] = [];
      for (let i = 0; i < byteCount / 2; i++) values.push(word(frame, 3 + 2 * i));
      return { ok: true, value: { kind, unit, values } };
    }
    case 'writeCoil':
    case 'writeRegister':
    case 'writeRegisters': {
      if (frame.length !== 8) return reject('bad-length');
      const address = word(frame, 2);
      const operand = word(frame, 4);
      let value: ModbusResponse;
      if (kind === 'writeCoil') {
        if (operand !== 0xff00 && operand !== 0x0000) return reject('bad-value');
        value = { kind, unit, address, on: operand === 0xff00 };
      } else if (kind === 'writeRegister') {
        value = { kind, unit, address, value: operand };
      } else {
        value = { kind, unit, address, count: operand };
      }
      if (request !== undefined && !echoes(value, request)) return reject('mismatch');
      return { ok: true, value };
    }
  }
}

function echoes(response: ModbusResponse, request: ModbusRequest): boolean {
  if (response.kind === 'exception' || !('address' in response) || response.address !== request.address)
    return false;
  if (response.kind === 'writeCoil' && request.kind === 'writeCoil') return response.on === request.on;
  if (response.kind === 'writeRegister' && request.kind === 'writeRegister')
    return response.value === request.value;
  if (response.kind === 'writeRegisters' && request.kind === 'writeRegisters') {
    return response.count === request.values.length;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming extraction.

/** A growable byte buffer consumed from the front. */
class ByteQueue {
  private bytes = new Uint8Array(256);
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  at(i: number): number {
    return this.bytes[this.start + i] as number;
  }

  /** A view of the first `n` bytes (valid until the next push). */
  view(n: number): Uint8Array {
    return this.bytes.subarray(this.start, this.start + n);
  }

  push(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.bytes.length) {
      const live = this.length;
      if (live + chunk.length <= this.bytes.length) {
        this.bytes.copyWithin(0, this.start, this.end);
      } else {
        const next = new Uint8Array(2 * (live + chunk.length));
        next.set(this.bytes.subarray(this.start, this.end));
        this.bytes = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.bytes.set(chunk, this.end);
    this.end += chunk.length;
  }

  drop(n: number): void {
    this.start = Math.min(this.end, this.start + n);
    if (this.start === this.end) this.start = this.end = 0;
  }

  clear(): void {
    this.start = this.end = 0;
  }
}

export interface ExtractorStats {
  /** Frames extracted. */
  readonly frames: number;
  /** Candidate frames (plausible header, full length) whose CRC failed. */
  readonly crcErrors: number;
  /** Bytes thrown away while resynchronising, or received while no answer was awaited. */
  readonly bytesDropped: number;
}

export type MasterEvent =
  /** The answer to the awaited request: its normal response or an exception. */
  | { readonly kind: 'response'; readonly response: ModbusResponse }
  /** A frame for the awaited unit and function whose CRC failed (the extractor resynchronises past it). */
  | { readonly kind: 'crc-error'; readonly unit: number }
  /** A frame with a good CRC that does not answer the awaited request (another address or value echoed). */
  | { readonly kind: 'mismatch'; readonly unit: number; readonly reason: ModbusRejectReason };

/**
 * The master's side of the stream. `expect(request)` before sending it; `push()` each chunk received; it returns
 * the awaited answer once whole (then awaits nothing until the next `expect`). Bytes that do not start the
 * awaited answer are dropped one at a time, so a frame behind noise is still found. Never throws.
 */
export class ResponseExtractor {
  private readonly buffer = new ByteQueue();
  private awaited: ModbusRequest | undefined;
  private counts = { frames: 0, crcErrors: 0, bytesDropped: 0 };

  /** Awaits the answer to `request` (undefined: nothing), dropping whatever was buffered. */
  expect(request: ModbusRequest | undefined): void {
    this.counts.bytesDropped += this.buffer.length;
    this.buffer.clear();
    this.awaited = request;
  }

  get stats(): ExtractorStats {
    return { ...this.counts };
  }

  push(chunk: Uint8Array): MasterEvent[] {
    const events: MasterEvent[] = [];
    const request = this.awaited;
    if (request === undefined) {
      this.counts.bytesDropped += chunk.length;
      return events;
    }
    this.buffer.push(chunk);
    const buffer = this.buffer;
    const fn = FUNCTION_CODES[request.kind];
    const normalLength = responseLength(request);
    while (buffer.length > 0 && this.awaited !== undefined) {
      if (buffer.at(0) !== request.unit) {
        this.dropOne();
        continue;
      }
      if (buffer.length < 2) break;
      const code = buffer.at(1);
      let length: number;
      if (code === (fn | 0x80)) length = EXCEPTION_LENGTH;
      else if (code === fn) {
        if (normalLength !== 8) {
          if (buffer.length < 3) break;
          if (buffer.at(2) !== normalLength - 5) {
            this.dropOne();
            continue;
          }
        }
        length = normalLength;
      } else {
        this.dropOne();
        continue;
      }
      if (buffer.length < length) break;
      const frame = buffer.view(length);
      if (!crcMatches(frame)) {
        this.counts.crcErrors += 1;
        events.push({ kind: 'crc-error', unit: request.unit });
        this.dropOne();
        continue;
      }
      const decoded = decodeResponse(frame, request);
      buffer.drop(length);
      this.counts.frames += 1;
      this.awaited = undefined;
      events.push(
        decoded.ok
          ? { kind: 'response', response: decoded.value }
          : { kind: 'mismatch', unit: request.unit, reason: decoded.reason },
      );
    }
    if (this.awaited === undefined) this.expect(undefined);
    return events;
  }

  private dropOne(): void {
    this.buffer.drop(1);
    this.counts.bytesDropped += 1;
  }
}

export type SlaveEvent =
  | { readonly kind: 'request'; readonly request: ModbusRequest }
  /**
   * A whole frame with a good CRC that cannot be served as it stands: the slave answers `exception` (01 for an
   * unknown function, 03 for a count out of range or a bad coil value).
   */
  | {
      readonly kind: 'invalid';
      readonly unit: number;
      readonly function: number;
      readonly exception: number;
    };

/** Longest frame searched for when a request names an unknown function (its length is not known). */
const MAX_UNKNOWN_FRAME = 256;

/**
 * The slave's side of the stream (the HIL rig's simulated devices): every request, for every unit (the caller
 * ignores those not its own). Frames are sized by function code (8 bytes, or 9 + byte count for function 16);
 * a frame that fails its CRC is dropped one byte at a time. A request naming an unknown function is recognised
 * when its CRC closes somewhere in the bytes buffered, so that the slave can answer exception 01. Never throws.
 */
export class RequestExtractor {
  private readonly buffer = new ByteQueue();
  private counts = { frames: 0, crcErrors: 0, bytesDropped: 0 };

  get stats(): ExtractorStats {
    return { ...this.counts };
  }

  reset(): void {
    this.counts.bytesDropped += this.buffer.length;
    this.buffer.clear();
  }

  push(chunk: Uint8Array): SlaveEvent[] {
    const events: SlaveEvent[] = [];
    const buffer = this.buffer;
    buffer.push(chunk);
    while (buffer.length >= 2) {
      const unit = buffer.at(0);
      const code = buffer.at(1);
      if (unit > 247 || code === 0 || code & 0x80) {
        this.dropOne();
        continue;
      }
      const kind = functionOf(code);
      if (kind === undefined) {
        let found = 0;
        const limit = Math.min(buffer.length, MAX_UNKNOWN_FRAME);
        for (let n = 4; n <= limit; n++) {
          if (crcMatches(buffer.view(n))) {
            found = n;
            break;
          }
        }
        if (found === 0) {
          this.dropOne();
          continue;
        }
        buffer.drop(found);
        this.counts.frames += 1;
        events.push({ kind: 'invalid', unit, function: code, exception: ILLEGAL_FUNCTION });
        continue;
      }
      let length = 8;
      if (kind === 'writeRegisters') {
        if (buffer.length < 7) break;
        const count = (buffer.at(4) << 8) | buffer.at(5);
        const byteCount = buffer.at(6);
        // The byte count sizes the frame: only trusted when it agrees with the count.
        if (count < 1 || count > MAX_WRITE_REGISTERS || byteCount !== 2 * count) {
          this.dropOne();
          continue;
        }
        length = 9 + byteCount;
      }
      if (buffer.length < length) break;
      const frame = buffer.view(length);
      if (!crcMatches(frame)) {
        this.counts.crcErrors += 1;
        this.dropOne();
        continue;
      }
      const decoded = decodeRequest(frame);
      buffer.drop(length);
      this.counts.frames += 1;
      events.push(
        decoded.ok
          ? { kind: 'request', request: decoded.value }
          : { kind: 'invalid', unit, function: code, exception: ILLEGAL_DATA_VALUE },
      );
    }
    return events;
  }

  private dropOne(): void {
    this.buffer.drop(1);
    this.counts.bytesDropped += 1;
  }
}
