/**
 * Rate groups: fixed-cadence execution of tasks on the mission clock, as in F Prime's rate groups or cFS's
 * scheduler table. Ticks stay on the grid `start + n * period` (no drift); a tick whose tasks run longer than the
 * period is an overrun, and grid slots that had already passed when the group got the processor back are skipped
 * and counted, never run late in a burst.
 */
import { type Observable, Subject, type Subscription } from 'rxjs';
import type { MissionClock } from './clock.js';

export interface Tick {
  /** Index of the tick on the grid since the group started (skipped slots count). */
  readonly index: number;
  /** Mission time the tick was due. */
  readonly dueMs: number;
  /** Mission time the tick started. */
  readonly startedMs: number;
}

export type RateGroupTask = (tick: Tick) => void;

export interface Overrun {
  readonly group: string;
  readonly tick: number;
  readonly durationMs: number;
  readonly periodMs: number;
}

export interface TaskFailure {
  readonly group: string;
  readonly task: string;
  readonly error: unknown;
}

export interface RateGroupStats {
  readonly ticks: number;
  readonly overruns: number;
  readonly skipped: number;
  readonly taskFailures: number;
  readonly lastDurationMs: number;
  readonly maxDurationMs: number;
}

export class RateGroup {
  readonly periodMs: number;
  private readonly tasks: {
    name: string;
    run: RateGroupTask;
    runs: number;
    failures: number;
    totalMs: number;
  }[] = [];
  private readonly overrunSubject = new Subject<Overrun>();
  private readonly failureSubject = new Subject<TaskFailure>();
  private readonly tickSubject = new Subject<Tick>();
  /** Overruns as they happen: a tick whose tasks took longer than the period. */
  readonly overruns$: Observable<Overrun> = this.overrunSubject.asObservable();
  /** Tasks that threw: the group carries on with the next task. */
  readonly failures$: Observable<TaskFailure> = this.failureSubject.asObservable();
  /** Every completed tick (after its tasks ran). */
  readonly ticks$: Observable<Tick> = this.tickSubject.asObservable();

  private subscription: Subscription | undefined;
  private startMs = 0;
  private counters = {
    ticks: 0,
    overruns: 0,
    skipped: 0,
    taskFailures: 0,
    lastDurationMs: 0,
    maxDurationMs: 0,
  };

  constructor(
    readonly name: string,
    readonly hz: number,
    private readonly clock: MissionClock,
  ) {
    if (!(hz > 0 && hz <= 1000)) throw new RangeError(`rate group ${name}: ${hz} Hz is not in (0, 1000]`);
    this.periodMs = 1000 / hz;
  }

  /** Per task (named by its component): runs, failures and time spent since start. */
  taskStats(): ReadonlyArray<{
    readonly name: string;
    readonly runs: number;
    readonly failures: number;
    readonly totalMs: number;
  }> {
    return this.tasks.map(({ name, runs, failures, totalMs }) => ({ name, runs, failures, totalMs }));
  }

  /** Adds a task, run in the order added on every tick. Returns a function that removes it. */
  add(name: string, run: RateGroupTask): () => void {
    const entry = { name, run, runs: 0, failures: 0, totalMs: 0 };
    this.tasks.push(entry);
    return () => {
      const at = this.tasks.indexOf(entry);
      if (at >= 0) this.tasks.splice(at, 1);
    };
  }

  get stats(): RateGroupStats {
    return { ...this.counters };
  }

  get running(): boolean {
    return this.subscription !== undefined;
  }

  /** Starts the grid now: tick 0 runs at once, tick n at start + n periods. */
  start(): void {
    if (this.subscription) return;
    this.startMs = this.clock.now();
    const group = this;
    this.subscription = this.clock.scheduler.schedule<number>(
      function (index) {
        const next = group.runTick(index ?? 0);
        this.schedule(next.index, next.delayMs);
      },
      0,
      0,
    );
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  private runTick(index: number): { index: number; delayMs: number } {
    const dueMs = this.startMs + index * this.periodMs;
    const startedMs = this.clock.now();
    const tick: Tick = { index, dueMs, startedMs };
    const began = this.clock.monotonicMs();
    for (const task of [...this.tasks]) {
      const taskBegan = this.clock.monotonicMs();
      try {
        task.run(tick);
      } catch (error) {
        this.counters.taskFailures += 1;
        task.failures += 1;
        this.failureSubject.next({ group: this.name, task: task.name, error });
      }
      task.runs += 1;
      task.totalMs += this.clock.monotonicMs() - taskBegan;
    }
    const durationMs = this.clock.monotonicMs() - began;
    const c = this.counters;
    c.ticks += 1;
    c.lastDurationMs = durationMs;
    if (durationMs > c.maxDurationMs) c.maxDurationMs = durationMs;
    if (durationMs > this.periodMs) {
      c.overruns += 1;
      this.overrunSubject.next({ group: this.name, tick: index, durationMs, periodMs: this.periodMs });
    }
    this.tickSubject.next(tick);

    // A late group runs the most recent slot that is already due at once; older slots are skipped, not burst.
    const now = this.clock.now();
    let nextIndex = index + 1;
    const nextDue = this.startMs + nextIndex * this.periodMs;
    if (now >= nextDue) {
      const behind = Math.floor((now - nextDue) / this.periodMs);
      c.skipped += behind;
      nextIndex += behind;
    }
    return { index: nextIndex, delayMs: Math.max(0, this.startMs + nextIndex * this.periodMs - now) };
  }
}

/**
 * A rate-group task for asynchronous work (a device read, a tool run): a tick that finds the previous run still in
 * flight is skipped rather than stacked, so a hung device cannot pile up work behind it.
 */
export function exclusive(work: () => Promise<void>): RateGroupTask {
  let running = false;
  return () => {
    if (running) return;
    running = true;
    void work().finally(() => {
      running = false;
    });
  };
}
