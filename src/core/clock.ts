/**
 * The mission clock: the one place in flight code that reads the wall clock or owns timers. Everything else
 * schedules on `clock.scheduler` (an rxjs SchedulerLike), so the same code runs in real time on a board and in
 * virtual time in tests and HIL, where an orbit passes in milliseconds.
 */
import { asyncScheduler, type SchedulerAction, type SchedulerLike, Subscription } from 'rxjs';
import { type CucTime, LEAP_SECONDS, unixMsToCuc, unixMsToTaiMs } from './time.js';

export interface MissionClock {
  readonly kind: 'real' | 'virtual';
  /** Schedules all of the flight software's work: pass it to every rxjs time operator. */
  readonly scheduler: SchedulerLike;
  /** Mission time: UTC milliseconds since the Unix epoch. */
  now(): number;
  /** A monotonic millisecond count for measuring durations (execution times, overruns). */
  monotonicMs(): number;
  /** Spacecraft time (TAI) as CUC. */
  cuc(): CucTime;
  /** TAI milliseconds since 1958-01-01. */
  taiMs(): number;
}

abstract class ClockBase {
  constructor(protected readonly leapSeconds: typeof LEAP_SECONDS) {}
  abstract now(): number;
  cuc(): CucTime {
    return unixMsToCuc(this.now(), this.leapSeconds);
  }
  taiMs(): number {
    return unixMsToTaiMs(this.now(), this.leapSeconds);
  }
}

/** Wall-clock time on rxjs' asyncScheduler (Node's timers). The clock of a real flight. */
export class RealClock extends ClockBase implements MissionClock {
  readonly kind = 'real' as const;
  readonly scheduler: SchedulerLike = asyncScheduler;
  constructor(options: { leapSeconds?: typeof LEAP_SECONDS } = {}) {
    super(options.leapSeconds ?? LEAP_SECONDS);
  }
  now(): number {
    return Date.now();
  }
  monotonicMs(): number {
    return performance.now();
  }
}

/**
 * A scheduled unit of work in virtual time. Mirrors rxjs' AsyncAction: `schedule()` from inside the work
 * reschedules the same action (that is how `interval` repeats).
 */
class VirtualAction<T> extends Subscription implements SchedulerAction<T> {
  /** Bumped on every (re)schedule so that stale queue entries are skipped. */
  generation = 0;
  queued = false;
  state: T | undefined;

  constructor(
    private readonly owner: VirtualScheduler,
    private readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super();
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.state = state;
    this.owner.enqueue(this, delay);
    return this;
  }

  run(): void {
    this.queued = false;
    try {
      this.work.call(this, this.state);
    } finally {
      // An action that did not reschedule itself is finished: release it so long runs do not accumulate them.
      if (!this.queued) this.unsubscribe();
    }
  }
}

interface Queueable {
  generation: number;
  queued: boolean;
  readonly closed: boolean;
  run(): void;
}

interface QueueEntry {
  readonly due: number;
  readonly order: number;
  readonly generation: number;
  readonly action: Queueable;
}

/**
 * An rxjs scheduler on virtual time. Time moves only when `advanceBy`/`advanceTo` is called, and actions run in
 * due order (FIFO among equal due times), so a simulated hour runs as fast as its work allows.
 */
export class VirtualScheduler implements SchedulerLike {
  private time: number;
  private readonly heap: QueueEntry[] = [];
  private order = 0;
  private running = false;

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return new VirtualAction<T>(this, work).schedule(state, delay);
  }

  /** @internal used by VirtualAction */
  enqueue(a: Queueable, delay: number): void {
    a.generation += 1;
    a.queued = true;
    const safeDelay = Number.isFinite(delay) && delay > 0 ? delay : 0;
    this.push({ due: this.time + safeDelay, order: this.order++, generation: a.generation, action: a });
  }

  /** Runs everything due up to `targetMs`, in order, then sets the time to `targetMs`. */
  advanceTo(targetMs: number): void {
    if (this.running) throw new Error('VirtualScheduler.advanceTo called from inside a scheduled action');
    this.running = true;
    try {
      for (;;) {
        const next = this.heap[0];
        if (next === undefined || next.due > targetMs) break;
        this.pop();
        const { action } = next;
        if (action.closed || action.generation !== next.generation) continue;
        if (next.due > this.time) this.time = next.due;
        action.run();
      }
      if (targetMs > this.time) this.time = targetMs;
    } finally {
      this.running = false;
    }
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.time + ms);
  }

  /**
   * Moves time forward without running anything, as if the current action computed for `ms`. Lets a test make a
   * rate-group task overrun its period.
   */
  spend(ms: number): void {
    this.time += ms;
  }

  /** Number of live actions waiting (for tests and leak checks). */
  pending(): number {
    let count = 0;
    for (const entry of this.heap) {
      if (!entry.action.closed && entry.action.generation === entry.generation) count += 1;
    }
    return count;
  }

  private push(entry: QueueEntry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent] as QueueEntry)) break;
      heap[i] = heap[parent] as QueueEntry;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && before(heap[right] as QueueEntry, heap[left] as QueueEntry) ? right : left;
      if (!before(heap[child] as QueueEntry, last)) break;
      heap[i] = heap[child] as QueueEntry;
      i = child;
    }
    heap[i] = last;
  }
}

function before(a: QueueEntry, b: QueueEntry): boolean {
  return a.due < b.due || (a.due === b.due && a.order < b.order);
}

/** Virtual mission time for tests and HIL. Durations measured on it are virtual too (see `spend`). */
export class VirtualClock extends ClockBase implements MissionClock {
  readonly kind = 'virtual' as const;
  readonly scheduler: VirtualScheduler;

  constructor(options: { startMs?: number; leapSeconds?: typeof LEAP_SECONDS } = {}) {
    super(options.leapSeconds ?? LEAP_SECONDS);
    // Default start: 2030-01-01T00:00:00Z, a fixed and recognisable epoch for reproducible runs.
    this.scheduler = new VirtualScheduler(options.startMs ?? Date.UTC(2030, 0, 1));
  }

  now(): number {
    return this.scheduler.now();
  }

  monotonicMs(): number {
    return this.scheduler.now();
  }

  advanceBy(ms: number): void {
    this.scheduler.advanceBy(ms);
  }

  advanceTo(unixMs: number): void {
    this.scheduler.advanceTo(unixMs);
  }

  spend(ms: number): void {
    this.scheduler.spend(ms);
  }
}
