/**
 * A Modbus RTU master over a byte pipe (a serial port, or a TCP/pty bridge to one). One request is on the bus at
 * a time: the others wait in a queue, in the order asked. Each waits `timeoutMs` of mission time for its answer
 * (scheduled on the clock's scheduler, so HIL runs in virtual time); a try that times out is sent again, up to
 * `retries` more times. Exceptions are answers: they are not retried.
 *
 * Every method resolves (never rejects) with the values read or written, or an error that says what happened
 * (`unit 1: no answer within 200 ms`, `unit 2: exception 02 illegal data address`). Per-unit statistics count
 * requests, tries, timeouts, CRC errors and exceptions for housekeeping and FDIR.
 */
import { type SchedulerLike, type Subscription, timer } from 'rxjs';
import {
  encodeRequest,
  exceptionText,
  type ModbusRequest,
  type ModbusResponse,
  ResponseExtractor,
} from '../../link/modbus.js';
import type { BytePipe } from '../../transport/pipe.js';

export const DEFAULT_MODBUS_TIMEOUT_MS = 200;
export const DEFAULT_MODBUS_RETRIES = 2;
const DEFAULT_MAX_QUEUED = 64;

export interface ModbusMasterOptions {
  /** Where the response timeouts are scheduled: the mission clock's scheduler. */
  readonly scheduler: SchedulerLike;
  /** How long to wait for each answer; default 200 ms. */
  readonly timeoutMs?: number;
  /** Further tries after a timeout; default 2 (three tries in all). */
  readonly retries?: number;
  /** Requests that may wait behind the one on the bus before new ones are refused; default 64. */
  readonly maxQueued?: number;
}

/** Why a request failed. */
export type ModbusFailure =
  /** No answer (or none with a good CRC) after every try. */
  | 'timeout'
  /** The unit answered with an exception. */
  | 'exception'
  /** The pipe refused the bytes (not open). */
  | 'not-open'
  /** A request that cannot be put on the wire (a count or value out of range). */
  | 'invalid'
  /** Too many requests waiting. */
  | 'queue-full'
  /** The master was closed. */
  | 'closed';

export interface ModbusError {
  readonly ok: false;
  readonly error: string;
  readonly reason: ModbusFailure;
  /** The exception code, for `exception`. */
  readonly exception?: number;
}

export type ModbusResult<T> = { readonly ok: true; readonly values: T } | ModbusError;

export interface ModbusUnitStats {
  /** Requests asked of this unit (each counted once, however many tries). */
  readonly requests: number;
  /** Requests answered normally. */
  readonly answered: number;
  /** Tries sent again after a timeout or a corrupted answer. */
  readonly retries: number;
  /** Tries that got no (good) answer in time. */
  readonly timeouts: number;
  /** Requests that failed after every try timed out. */
  readonly failed: number;
  /** Answers for this unit whose CRC failed. */
  readonly crcErrors: number;
  /** Exception answers. */
  readonly exceptions: number;
  /** Well-formed answers that did not answer the request on the bus (late answers to an earlier try). */
  readonly mismatches: number;
  /** The latest failure, if any. */
  readonly lastError?: string;
}

type MutableStats = { -readonly [K in keyof ModbusUnitStats]: ModbusUnitStats[K] };

interface Job {
  readonly request: ModbusRequest;
  readonly frame: Uint8Array;
  tries: number;
  readonly resolve: (result: ModbusResult<ModbusResponse>) => void;
}

/** The part of a byte pipe the master uses. */
export type ModbusPipe = Pick<BytePipe, 'data$' | 'write'>;

export class ModbusMaster {
  readonly timeoutMs: number;
  readonly retries: number;
  private readonly scheduler: SchedulerLike;
  private readonly maxQueued: number;
  private readonly extractor = new ResponseExtractor();
  private readonly queue: Job[] = [];
  private current: Job | undefined;
  private timeout: Subscription | undefined;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly input: Subscription;
  private readonly perUnit = new Map<number, MutableStats>();
  private closed = false;

  constructor(
    private readonly pipe: ModbusPipe,
    options: ModbusMasterOptions,
  ) {
    this.scheduler = options.scheduler;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_MODBUS_TIMEOUT_MS;
    this.retries = Math.max(0, options.retries ?? DEFAULT_MODBUS_RETRIES);
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.input = pipe.data$.subscribe({ next: (chunk) => this.receive(chunk) });
  }

  /** Function 04. */
  async readInput(unit: number, address: number, count: number): Promise<ModbusResult<number[]>> {
    return this.registers(await this.transact({ kind: 'readInput', unit, address, count }));
  }

  /** Function 03. */
  async readHolding(unit: number, address: number, count: number): Promise<ModbusResult<number[]>> {
    return this.registers(await this.transact({ kind: 'readHolding', unit, address, count }));
  }

  /** Function 01. */
  async readCoils(unit: number, address: number, count: number): Promise<ModbusResult<boolean[]>> {
    const result = await this.transact({ kind: 'readCoils', unit, address, count });
    if (!result.ok) return result;
    return { ok: true, values: result.values.kind === 'readCoils' ? [...result.values.values] : [] };
  }

  /** Function 05; `values` is the state written. */
  async writeCoil(unit: number, address: number, on: boolean): Promise<ModbusResult<boolean[]>> {
    const result = await this.transact({ kind: 'writeCoil', unit, address, on });
    return result.ok ? { ok: true, values: [on] } : result;
  }

  /** Function 06; `values` is the value written. */
  async writeRegister(unit: number, address: number, value: number): Promise<ModbusResult<number[]>> {
    const result = await this.transact({ kind: 'writeRegister', unit, address, value });
    return result.ok ? { ok: true, values: [value] } : result;
  }

  /** Function 16; `values` are the values written. */
  async writeRegisters(
    unit: number,
    address: number,
    values: readonly number[],
  ): Promise<ModbusResult<number[]>> {
    const result = await this.transact({ kind: 'writeRegisters', unit, address, values });
    return result.ok ? { ok: true, values: [...values] } : result;
  }

  /**
   * Sends any request and resolves with its answer. An exception answer is a failure (`reason: 'exception'`).
   * A write to unit 0 (broadcast) resolves once sent, as no unit answers it.
   */
  transact(request: ModbusRequest): Promise<ModbusResult<ModbusResponse>> {
    const stats = this.statsOf(request.unit);
    stats.requests += 1;
    let frame: Uint8Array;
    try {
      if (request.unit === 0 && request.kind.startsWith('read')) {
        throw new RangeError('a read cannot be broadcast (unit 0)');
      }
      frame = encodeRequest(request);
    } catch (error) {
      return Promise.resolve(
        this.failure(
          request.unit,
          'invalid',
          `unit ${request.unit}: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    }
    if (this.closed) return Promise.resolve(this.failure(request.unit, 'closed', 'Modbus master closed'));
    if (this.queue.length >= this.maxQueued) {
      return Promise.resolve(
        this.failure(
          request.unit,
          'queue-full',
          `unit ${request.unit}: ${this.queue.length} requests waiting`,
        ),
      );
    }
    return new Promise((resolve) => {
      this.queue.push({ request, frame, tries: 0, resolve });
      if (this.current === undefined) this.next();
    });
  }

  /** The counters of one unit (zeros for a unit never asked). */
  stats(unit: number): ModbusUnitStats {
    return { ...this.statsOf(unit) };
  }

  /** The counters of every unit asked so far, by unit. */
  allStats(): ReadonlyMap<number, ModbusUnitStats> {
    return new Map([...this.perUnit].map(([unit, stats]) => [unit, { ...stats }]));
  }

  /** Requests waiting, the one on the bus included. */
  get pending(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  /** Resolves when nothing is on the bus or queued (at once if so now; when closed). */
  whenIdle(): Promise<void> {
    if (this.pending === 0 || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private releaseIdle(): void {
    if (this.pending !== 0 && !this.closed) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Fails the request on the bus and those waiting, and stops listening. The pipe is the caller's to close. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.input.unsubscribe();
    this.timeout?.unsubscribe();
    const jobs = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = undefined;
    this.extractor.expect(undefined);
    for (const job of jobs) job.resolve(this.failure(job.request.unit, 'closed', 'Modbus master closed'));
    this.releaseIdle();
  }

  private registers(result: ModbusResult<ModbusResponse>): ModbusResult<number[]> {
    if (!result.ok) return result;
    const response = result.values;
    return {
      ok: true,
      values: response.kind === 'readHolding' || response.kind === 'readInput' ? [...response.values] : [],
    };
  }

  private next(): void {
    while (this.current === undefined && !this.closed) {
      const job = this.queue.shift();
      if (job === undefined) return;
      this.current = job;
      this.send(job);
    }
  }

  private send(job: Job): void {
    job.tries += 1;
    const broadcast = job.request.unit === 0;
    this.extractor.expect(broadcast ? undefined : job.request);
    if (!broadcast) {
      this.timeout = timer(this.timeoutMs, this.scheduler).subscribe(() => this.timedOut(job));
    }
    const accepted = this.pipe.write(job.frame);
    if (this.current !== job) return; // answered while writing (a pipe that answers at once)
    if (!accepted) {
      this.finish(job, this.failure(job.request.unit, 'not-open', `unit ${job.request.unit}: link not open`));
    } else if (broadcast) {
      this.finish(job, { ok: true, values: broadcastEcho(job.request) });
    }
  }

  private timedOut(job: Job): void {
    if (this.current !== job) return;
    this.statsOf(job.request.unit).timeouts += 1;
    this.retry(job, 'timeout');
  }

  /** The try in flight got no good answer: the next try, or the failure when none is left. */
  private retry(job: Job, why: 'timeout' | 'crc'): void {
    const stats = this.statsOf(job.request.unit);
    this.timeout?.unsubscribe();
    this.timeout = undefined;
    if (job.tries <= this.retries) {
      stats.retries += 1;
      this.send(job);
      return;
    }
    stats.failed += 1;
    const error =
      why === 'crc'
        ? `unit ${job.request.unit}: no answer with a good CRC in ${job.tries} tries`
        : `unit ${job.request.unit}: no answer within ${this.timeoutMs} ms`;
    this.finish(job, this.failure(job.request.unit, 'timeout', error));
  }

  private receive(chunk: Uint8Array): void {
    const job = this.current;
    for (const event of this.extractor.push(chunk)) {
      const stats = this.statsOf(event.kind === 'response' ? event.response.unit : event.unit);
      if (event.kind === 'crc-error') {
        stats.crcErrors += 1;
        // A corrupted answer to the try in flight: the good one will not come, so try again now instead of waiting
        // out the timeout (on a noisy line that is the difference between a late reading and a stale one).
        if (job !== undefined && this.current === job && event.unit === job.request.unit)
          this.retry(job, 'crc');
        continue;
      }
      if (job === undefined || this.current !== job) continue;
      if (event.kind === 'mismatch') {
        // Not the answer to this try (a late answer to an earlier one): keep waiting for it.
        stats.mismatches += 1;
        this.extractor.expect(job.request);
        continue;
      }
      const response = event.response;
      if (response.kind === 'exception') {
        stats.exceptions += 1;
        this.finish(job, {
          ...this.failure(
            job.request.unit,
            'exception',
            `unit ${response.unit}: ${exceptionText(response.code)}`,
          ),
          exception: response.code,
        });
      } else {
        stats.answered += 1;
        this.finish(job, { ok: true, values: response });
      }
    }
  }

  private finish(job: Job, result: ModbusResult<ModbusResponse>): void {
    if (this.current !== job) return;
    this.timeout?.unsubscribe();
    this.timeout = undefined;
    this.current = undefined;
    this.extractor.expect(undefined);
    job.resolve(result);
    this.next();
    this.releaseIdle();
  }

  private failure(unit: number, reason: ModbusFailure, error: string): ModbusError {
    this.statsOf(unit).lastError = error;
    return { ok: false, reason, error };
  }

  private statsOf(unit: number): MutableStats {
    let stats = this.perUnit.get(unit);
    if (stats === undefined) {
      stats = {
        requests: 0,
        answered: 0,
        retries: 0,
        timeouts: 0,
        failed: 0,
        crcErrors: 0,
        exceptions: 0,
        mismatches: 0,
      };
      this.perUnit.set(unit, stats);
    }
    return stats;
  }
}

/** What a broadcast write "answers": its own echo. */
function broadcastEcho(request: ModbusRequest): ModbusResponse {
  switch (request.kind) {
    case 'writeRegisters':
      return { kind: 'writeRegisters', unit: 0, address: request.address, count: request.values.length };
    case 'writeCoil':
    case 'writeRegister':
      return request;
    default:
      return { kind: 'exception', unit: 0, function: 0, code: 0, name: 'no answer to a broadcast' };
  }
}
