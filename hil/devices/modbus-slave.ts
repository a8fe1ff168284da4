/**
 * A Modbus RTU slave on a byte stream: the HIL rig's simulated serial devices answer the `sim-serial` board's
 * master through it. It serves one or more units (slave addresses) from register providers, with functions 01
 * (read coils), 03 (read holding registers), 04 (read input registers), 05 (write single coil), 06 (write single
 * register) and 16 (write multiple registers); any other function is answered with exception 01.
 *
 * Framing: real RTU delimits frames by 3.5 character times of silence. The rig has no time base for that (time
 * comes from the mission clock, which may be virtual), so frames are sized by their function code instead: 8
 * octets for 01..06, 9 + byte count for 15 and 16. A function it does not know is sized by the first CRC-valid
 * frame already in the buffer (4..256 octets). A frame whose CRC fails is dropped and counted (a real slave stays
 * silent), and the stream resynchronises by dropping one octet at a time until a frame checks again.
 *
 * Requests for another unit are ignored (silently, as on a multi-drop bus); a broadcast (unit 0) write is applied
 * to every unit with no answer. Fault injection: `respond: false` (a dead device: nothing is answered or applied)
 * and `corruptEvery: n` (every nth response goes out with a wrong CRC).
 *
 * The CRC is the shared codec's (`src/link/modbus.ts`); the request framing here is the slave's own.
 */
import { crcMatches, withCrc } from '../../src/link/modbus.js';

/** Exception codes a slave answers with. */
export const ModbusExceptionCode = {
  illegalFunction: 1,
  illegalDataAddress: 2,
  illegalDataValue: 3,
  slaveDeviceFailure: 4,
} as const;
export type ModbusExceptionCode = (typeof ModbusExceptionCode)[keyof typeof ModbusExceptionCode];

/** A provider's refusal: the slave answers it as an exception response. */
export interface ModbusException {
  readonly exception: ModbusExceptionCode;
}

export function modbusException(code: ModbusExceptionCode): ModbusException {
  return { exception: code };
}

export function isModbusException(x: unknown): x is ModbusException {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && 'exception' in x;
}

/** Registers (or coils) read, or why not. */
export type ModbusRead<T> = readonly T[] | ModbusException;
/** A write applied, or why not. */
export type ModbusWrite = 'ok' | ModbusException;

/**
 * One unit's data. A function whose method is absent is answered with exception 01 (illegal function). Addresses
 * are the protocol's (0-based); a provider answers exception 02 for addresses it does not have, 03 for values it
 * does not accept. A read must return exactly `count` values (anything else is answered with exception 04).
 */
export interface ModbusUnitProvider {
  inputs?(address: number, count: number): ModbusRead<number>;
  holding?(address: number, count: number): ModbusRead<number>;
  /** Several registers at once (function 16): all applied, or none. */
  writeHolding?(address: number, values: readonly number[]): ModbusWrite;
  coils?(address: number, count: number): ModbusRead<boolean>;
  writeCoil?(address: number, on: boolean): ModbusWrite;
}

export interface ModbusSlaveStats {
  /** Well-formed requests (CRC valid) for a unit served here, broadcasts included. */
  requests: number;
  /** Responses sent (exceptions included, corrupted ones included). */
  responses: number;
  /** Frames dropped for a bad CRC (one per resynchronisation, however many octets it drops). */
  crcErrors: number;
  /** Exception responses sent. */
  exceptions: number;
  /** Well-formed requests for units not served here. */
  ignored: number;
  /** Responses sent with a deliberately wrong CRC (`corruptEvery`). */
  corrupted: number;
  /** Octets dropped while resynchronising. */
  droppedBytes: number;
}

export interface ModbusSlaveOptions {
  /** The units served, by address (1..247). */
  readonly units: ReadonlyMap<number, ModbusUnitProvider>;
  /** Where responses go (the serial port's write). Responses are also returned by `receive`. */
  readonly send?: (frame: Uint8Array) => void;
  /** False: a dead device (requests are parsed and counted, nothing is applied or answered). Default true. */
  readonly respond?: boolean;
  /** Corrupt the CRC of every nth response (n >= 1); none when absent. */
  readonly corruptEvery?: number;
}

/** CRC-16/MODBUS (reflected polynomial 0xA001, initial 0xFFFF) over `bytes[start, end)`. */
/** The CRC and the frame builder are the link codec's (`src/link/modbus.ts`): one implementation for both ends. */
export { modbusCrc as crc16Modbus } from '../../src/link/modbus.js';

/** An RTU frame: `body` (unit, function, data) followed by its CRC, low octet first. */
export function rtuFrame(body: ArrayLike<number>): Uint8Array {
  return withCrc(Array.from(body, (b) => b & 0xff));
}

/** Whether `bytes[start, start + length)` ends with the CRC of what precedes it. */
function crcValid(bytes: Uint8Array, start: number, length: number): boolean {
  return crcMatches(bytes, start, start + length);
}

const MIN_FRAME = 4;
const MAX_FRAME = 256;
/** Unknown functions: octets to wait for before taking a frame with no valid CRC for noise. */
const UNKNOWN_FUNCTION_PATIENCE = 8;
const MAX_READ_REGISTERS = 125;
const MAX_READ_COILS = 2000;
const MAX_WRITE_REGISTERS = 123;
const BROADCAST = 0;
const MAX_UNIT = 247;

type Pdu = number[];

const u16 = (bytes: Uint8Array, at: number): number =>
  ((bytes[at] as number) << 8) | (bytes[at + 1] as number);

export class ModbusSlave {
  readonly stats: ModbusSlaveStats = {
    requests: 0,
    responses: 0,
    crcErrors: 0,
    exceptions: 0,
    ignored: 0,
    corrupted: 0,
    droppedBytes: 0,
  };
  /** False: a dead device. May be changed at any time (fault injection). */
  respond: boolean;
  /** Corrupt every nth response's CRC; may be changed at any time. */
  corruptEvery: number | undefined;
  private readonly units: ReadonlyMap<number, ModbusUnitProvider>;
  private readonly send: ((frame: Uint8Array) => void) | undefined;
  private buffer = new Uint8Array(512);
  private length = 0;
  /** Dropping octets after a bad frame (counted once as a CRC error). */
  private resynchronising = false;

  constructor(options: ModbusSlaveOptions) {
    for (const unit of options.units.keys()) {
      if (!Number.isInteger(unit) || unit < 1 || unit > MAX_UNIT)
        throw new RangeError(`ModbusSlave: unit ${unit} is not an address in 1..${MAX_UNIT}`);
    }
    if (options.corruptEvery !== undefined && !(options.corruptEvery >= 1))
      throw new RangeError(`ModbusSlave: corruptEvery must be >= 1, not ${options.corruptEvery}`);
    this.units = options.units;
    this.send = options.send;
    this.respond = options.respond ?? true;
    this.corruptEvery = options.corruptEvery;
  }

  /** Octets received and not yet part of a whole frame. */
  get pending(): number {
    return this.length;
  }

  /** Feeds received octets; answers every whole request among them, and returns the responses sent. */
  receive(chunk: Uint8Array): Uint8Array[] {
    this.append(chunk);
    const sent: Uint8Array[] = [];
    for (;;) {
      const size = this.frameSize();
      if (size === 'wait') break;
      if (size === 'noise' || !crcValid(this.buffer, 0, size)) {
        this.drop();
        continue;
      }
      this.resynchronising = false;
      const frame = this.buffer.slice(0, size);
      this.consume(size);
      const response = this.handle(frame);
      if (response) {
        sent.push(response);
        this.send?.(response);
      }
    }
    return sent;
  }

  /** Forgets any partial frame (a line break, a port reopened). */
  reset(): void {
    this.length = 0;
    this.resynchronising = false;
  }

  private append(chunk: Uint8Array): void {
    if (this.length + chunk.length > this.buffer.length) {
      const bigger = new Uint8Array(Math.max(this.buffer.length * 2, this.length + chunk.length));
      bigger.set(this.buffer.subarray(0, this.length));
      this.buffer = bigger;
    }
    this.buffer.set(chunk, this.length);
    this.length += chunk.length;
  }

  private consume(n: number): void {
    this.buffer.copyWithin(0, n, this.length);
    this.length -= n;
  }

  /** Drops the first octet: the frame there did not check. */
  private drop(): void {
    if (!this.resynchronising) this.stats.crcErrors += 1;
    this.resynchronising = true;
    this.stats.droppedBytes += 1;
    this.consume(1);
  }

  /** The size of the frame at the front of the buffer: octets, or wait for more, or not a frame. */
  private frameSize(): number | 'wait' | 'noise' {
    const b = this.buffer;
    if (this.length < 1) return 'wait';
    if ((b[0] as number) > MAX_UNIT) return 'noise';
    if (this.length < 2) return 'wait';
    const fn = b[1] as number;
    let size: number;
    if (fn >= 1 && fn <= 6) size = 8;
    else if (fn === 15 || fn === 16) {
      if (this.length < 7) return 'wait';
      size = 9 + (b[6] as number);
    } else {
      // A function not sized here: the first frame in the buffer that checks, if one is whole already.
      const longest = Math.min(this.length, MAX_FRAME);
      for (let n = MIN_FRAME; n <= longest; n++) if (crcValid(b, 0, n)) return n;
      return this.length < UNKNOWN_FUNCTION_PATIENCE ? 'wait' : 'noise';
    }
    return this.length < size ? 'wait' : size;
  }

  /** Answers one well-formed frame: the response, or none. */
  private handle(frame: Uint8Array): Uint8Array | undefined {
    const unit = frame[0] as number;
    const body = frame.subarray(1, frame.length - 2);
    if (unit === BROADCAST) {
      this.stats.requests += 1;
      if (!this.respond || !isWrite(body[0] as number)) return undefined;
      for (const provider of this.units.values()) this.execute(provider, body);
      return undefined;
    }
    const provider = this.units.get(unit);
    if (!provider) {
      this.stats.ignored += 1;
      return undefined;
    }
    this.stats.requests += 1;
    if (!this.respond) return undefined;
    const fn = body[0] as number;
    const result = this.execute(provider, body);
    const pdu = typeof result === 'number' ? [fn | 0x80, result] : result;
    if (typeof result === 'number') this.stats.exceptions += 1;
    const response = rtuFrame([unit, ...pdu]);
    this.stats.responses += 1;
    if (this.corruptEvery !== undefined && this.stats.responses % this.corruptEvery === 0) {
      const last = response.length - 1;
      response[last] = (response[last] as number) ^ 0xff;
      this.stats.corrupted += 1;
    }
    return response;
  }

  /** Carries out the request `body` (function and data): the response PDU, or an exception code. */
  private execute(provider: ModbusUnitProvider, body: Uint8Array): Pdu | ModbusExceptionCode {
    try {
      return executeRequest(provider, body);
    } catch {
      return ModbusExceptionCode.slaveDeviceFailure;
    }
  }
}

function isWrite(fn: number): boolean {
  return fn === 5 || fn === 6 || fn === 15 || fn === 16;
}

const E = ModbusExceptionCode;

function executeRequest(provider: ModbusUnitProvider, body: Uint8Array): Pdu | ModbusExceptionCode {
  const fn = body[0] as number;
  const address = u16(body, 1);
  const word = u16(body, 3);
  switch (fn) {
    case 1: {
      if (!provider.coils) return E.illegalFunction;
      if (word < 1 || word > MAX_READ_COILS) return E.illegalDataValue;
      if (address + word > 0x10000) return E.illegalDataAddress;
      const coils = provider.coils(address, word);
      if (isModbusException(coils)) return coils.exception;
      if (coils.length !== word) return E.slaveDeviceFailure;
      const packed = new Array<number>(Math.ceil(word / 8)).fill(0);
      coils.forEach((on, i) => {
        if (on) packed[i >> 3] = (packed[i >> 3] as number) | (1 << (i & 7));
      });
      return [fn, packed.length, ...packed];
    }
    case 3:
    case 4: {
      const read = fn === 3 ? provider.holding?.bind(provider) : provider.inputs?.bind(provider);
      if (!read) return E.illegalFunction;
      if (word < 1 || word > MAX_READ_REGISTERS) return E.illegalDataValue;
      if (address + word > 0x10000) return E.illegalDataAddress;
      const registers = read(address, word);
      if (isModbusException(registers)) return registers.exception;
      if (registers.length !== word) return E.slaveDeviceFailure;
      const data = registers.flatMap((r) => [(r >>> 8) & 0xff, r & 0xff]);
      return [fn, data.length, ...data];
    }
    case 5: {
      if (!provider.writeCoil) return E.illegalFunction;
      if (word !== 0xff00 && word !== 0x0000) return E.illegalDataValue;
      const result = provider.writeCoil(address, word === 0xff00);
      return result === 'ok' ? Array.from(body) : result.exception;
    }
    case 6: {
      if (!provider.writeHolding) return E.illegalFunction;
      const result = provider.writeHolding(address, [word]);
      return result === 'ok' ? Array.from(body) : result.exception;
    }
    case 16: {
      if (!provider.writeHolding) return E.illegalFunction;
      const byteCount = body[5] as number;
      if (word < 1 || word > MAX_WRITE_REGISTERS || byteCount !== 2 * word) return E.illegalDataValue;
      if (address + word > 0x10000) return E.illegalDataAddress;
      const values = Array.from({ length: word }, (_, i) => u16(body, 6 + 2 * i));
      const result = provider.writeHolding(address, values);
      return result === 'ok' ? [fn, ...body.subarray(1, 5)] : result.exception;
    }
    default:
      return E.illegalFunction;
  }
}
