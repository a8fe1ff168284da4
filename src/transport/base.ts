/**
 * What every pipe shares: the data and state subjects, the counters, and reconnecting with exponential back-off
 * on the caller's scheduler.
 */
import { BehaviorSubject, type Observable, type SchedulerLike, Subject, type Subscription } from 'rxjs';
import type { BackoffOptions, BytePipe, PipeState, PipeStats } from './pipe.js';

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialDelayMs: 100, maxDelayMs: 5000, factor: 2 };
export const DEFAULT_MAX_BUFFERED_BYTES = 1 << 20;

/** Delays of successive attempts: initial, initial*factor, ... capped at max. */
export class Backoff {
  private readonly options: Required<BackoffOptions>;
  private attempts = 0;

  constructor(options: BackoffOptions = {}) {
    this.options = { ...DEFAULT_BACKOFF, ...options };
  }

  /** The attempt number (1-based) and delay of the next attempt. */
  next(): { attempt: number; delayMs: number } {
    const { initialDelayMs, maxDelayMs, factor } = this.options;
    const delayMs = Math.min(maxDelayMs, initialDelayMs * factor ** this.attempts);
    this.attempts += 1;
    return { attempt: this.attempts, delayMs };
  }

  reset(): void {
    this.attempts = 0;
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A view of received bytes as a plain Uint8Array (not a Node Buffer), sharing the memory. */
export function asBytes(chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

interface Counters {
  bytesIn: number;
  chunksIn: number;
  bytesOut: number;
  chunksOut: number;
  writesRefused: number;
  bytesRefused: number;
  reconnects: number;
  reconnectAttempts: number;
  errors: number;
  lastError?: string;
}

export abstract class PipeBase implements BytePipe {
  readonly data$: Observable<Uint8Array>;
  readonly state$: Observable<PipeState>;
  protected readonly counters: Counters = {
    bytesIn: 0,
    chunksIn: 0,
    bytesOut: 0,
    chunksOut: 0,
    writesRefused: 0,
    bytesRefused: 0,
    reconnects: 0,
    reconnectAttempts: 0,
    errors: 0,
  };
  /** True once close() was called: no more retries, no more state changes but 'closed'. */
  protected closing = false;
  private readonly dataSubject = new Subject<Uint8Array>();
  private readonly stateSubject: BehaviorSubject<PipeState>;
  private readonly backoff: Backoff;
  private retryTimer: Subscription | undefined;
  private everOpen = false;
  private closed: Promise<void> | undefined;

  protected constructor(
    readonly name: string,
    protected readonly scheduler: SchedulerLike,
    backoff: BackoffOptions | undefined,
  ) {
    this.stateSubject = new BehaviorSubject<PipeState>({ kind: 'connecting' });
    this.data$ = this.dataSubject.asObservable();
    this.state$ = this.stateSubject.asObservable();
    this.backoff = new Backoff(backoff);
  }

  get state(): PipeState {
    return this.stateSubject.getValue();
  }

  get stats(): PipeStats {
    return { ...this.counters };
  }

  abstract write(bytes: Uint8Array): boolean;

  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      this.retryTimer?.unsubscribe();
      this.retryTimer = undefined;
      this.closed = this.release()
        .catch((error: unknown) => {
          this.noteError(error);
        })
        .then(() => {
          this.stateSubject.next({ kind: 'closed' });
          this.stateSubject.complete();
          this.dataSubject.complete();
        });
    }
    return this.closed;
  }

  /** Releases the port or socket (for close()). Must not reject, but a rejection is counted, not thrown. */
  protected abstract release(): Promise<void>;

  protected setState(state: PipeState): void {
    if (this.closing) return;
    const current = this.stateSubject.getValue();
    if (JSON.stringify(current) === JSON.stringify(state)) return;
    this.stateSubject.next(state);
  }

  /** The pipe is open: reset the back-off, count a reconnect if it had been open before. */
  protected opened(peer?: string): void {
    if (this.closing) return;
    this.backoff.reset();
    if (this.everOpen) this.counters.reconnects += 1;
    this.everOpen = true;
    this.setState(peer === undefined ? { kind: 'open' } : { kind: 'open', peer });
  }

  /** Emits a received chunk. */
  protected received(chunk: Uint8Array): void {
    if (this.closing || chunk.byteLength === 0) return;
    this.counters.bytesIn += chunk.byteLength;
    this.counters.chunksIn += 1;
    this.dataSubject.next(asBytes(chunk));
  }

  protected countOut(bytes: number): void {
    this.counters.bytesOut += bytes;
    this.counters.chunksOut += 1;
  }

  protected refuse(bytes: Uint8Array): false {
    this.counters.writesRefused += 1;
    this.counters.bytesRefused += bytes.byteLength;
    return false;
  }

  protected noteError(error: unknown): string {
    const message = errorMessage(error);
    this.counters.errors += 1;
    this.counters.lastError = message;
    return message;
  }

  /** Reports 'reconnecting' and runs `attempt` after the next back-off delay (unless closed first). */
  protected retry(reason: string, attempt: () => void): void {
    if (this.closing) return;
    this.retryTimer?.unsubscribe();
    const next = this.backoff.next();
    this.counters.reconnectAttempts += 1;
    this.setState({ kind: 'reconnecting', attempt: next.attempt, delayMs: next.delayMs, reason });
    this.retryTimer = this.scheduler.schedule(() => {
      this.retryTimer = undefined;
      if (!this.closing) attempt();
    }, next.delayMs);
  }
}
