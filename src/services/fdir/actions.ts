/**
 * Event-actions with the semantics of PUS service 19, and stored command sequences. An event that matches an
 * enabled action (its name, and every key of `when` equal to the event's argument) dispatches one command or
 * starts a stored sequence, whose steps are scheduled on the injected rxjs scheduler (the mission clock's), so
 * the same code runs in real time on a board and in virtual time in tests. No I/O and no wall clock here: the
 * caller supplies `dispatch`, which sends the command through the normal command path.
 */
import type { SchedulerLike, Subscription } from 'rxjs';

export interface ActionCommand {
  readonly command: string;
  readonly args?: Readonly<Record<string, unknown>>;
}

export interface SequenceStep extends ActionCommand {
  /** Delay after the previous step's dispatch (or, for the first step, after the trigger). */
  readonly delayMs: number;
}

export interface StoredSequence {
  readonly name: string;
  readonly steps: readonly SequenceStep[];
  /**
   * Stop at the first failed step (default false: the rest of a safing sequence still runs). A sequence that
   * stops on failure waits for each step's outcome before dispatching the next one.
   */
  readonly stopOnFailure?: boolean;
}

export interface EventActionDefinition {
  readonly id: number;
  readonly name: string;
  /** Qualified event name, e.g. 'fdir.LIMIT_VIOLATED'. */
  readonly event: string;
  /** Every key must equal (===) the event's argument of that name. */
  readonly when?: Readonly<Record<string, string | number | boolean>>;
  readonly action: { readonly command: ActionCommand } | { readonly sequence: string };
  readonly enabled: boolean;
}

export interface ActionOutcome {
  /** The action's name (or, for `runSequence`, the source given). */
  readonly action: string;
  readonly command: string;
  readonly ok: boolean;
  readonly reason?: string;
  /** The step's index in its sequence; 0 for a single-command action. */
  readonly step: number;
}

export type DispatchResult = { ok: boolean; reason?: string };

export interface EventActionOptions {
  scheduler: SchedulerLike;
  dispatch: (command: ActionCommand, source: string) => Promise<DispatchResult>;
  onOutcome?: (outcome: ActionOutcome) => void;
}

interface Action {
  def: EventActionDefinition;
  readonly whenKeys: readonly string[];
}

interface Run {
  readonly sequence: StoredSequence;
  readonly source: string;
  /** Index of the next step to dispatch. */
  next: number;
  /** Mission time of the last dispatch (or of the trigger). */
  lastAt: number;
  timer: Subscription | undefined;
}

const NONE: readonly string[] = Object.freeze([]);

function validateCommand(command: ActionCommand, where: string): void {
  if (typeof command.command !== 'string' || command.command === '') {
    throw new RangeError(`${where}: command name must be a non-empty string`);
  }
}

function errorReason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class EventActionEngine {
  private readonly actions = new Map<number, Action>();
  private readonly byEvent = new Map<string, Action[]>();
  private readonly sequences = new Map<string, StoredSequence>();
  private readonly runs = new Map<string, Run>();
  private firedCount = 0;
  private failedCount = 0;
  private disposed = false;

  constructor(
    definitions: readonly EventActionDefinition[],
    sequences: readonly StoredSequence[],
    private readonly options: EventActionOptions,
  ) {
    for (const s of sequences) {
      const where = `sequence '${s.name}'`;
      if (typeof s.name !== 'string' || s.name === '')
        throw new RangeError('sequence name must be non-empty');
      if (this.sequences.has(s.name)) throw new RangeError(`${where}: duplicate sequence name`);
      if (s.steps.length === 0) throw new RangeError(`${where}: has no steps`);
      s.steps.forEach((step, i) => {
        validateCommand(step, `${where} step ${i}`);
        if (!Number.isFinite(step.delayMs) || step.delayMs < 0) {
          throw new RangeError(
            `${where} step ${i}: delayMs must be a finite number >= 0 (got ${step.delayMs})`,
          );
        }
      });
      this.sequences.set(s.name, s);
    }
    for (const d of definitions) {
      const where = `event-action ${d.id} '${d.name}'`;
      if (!Number.isInteger(d.id)) throw new RangeError(`${where}: id must be an integer`);
      if (this.actions.has(d.id)) throw new RangeError(`${where}: duplicate event-action id ${d.id}`);
      if (typeof d.event !== 'string' || d.event === '')
        throw new RangeError(`${where}: event must be non-empty`);
      if ('sequence' in d.action) {
        if (!this.sequences.has(d.action.sequence)) {
          throw new RangeError(`${where}: unknown sequence '${d.action.sequence}'`);
        }
      } else if ('command' in d.action) {
        validateCommand(d.action.command, where);
      } else {
        throw new RangeError(`${where}: action must be { command } or { sequence }`);
      }
      const action: Action = { def: d, whenKeys: d.when === undefined ? [] : Object.keys(d.when) };
      this.actions.set(d.id, action);
      const list = this.byEvent.get(d.event);
      if (list === undefined) this.byEvent.set(d.event, [action]);
      else list.push(action);
    }
  }

  /** Actions fired since construction (a sequence trigger ignored because it is running does not count). */
  get fired(): number {
    return this.firedCount;
  }

  /** Dispatches that failed (ok false, or rejected), single commands and sequence steps alike. */
  get failed(): number {
    return this.failedCount;
  }

  /**
   * Fires every enabled action whose event and `when` match; returns the names fired. A sequence already
   * running is not started again, so an action does not pile up on a flapping event.
   */
  onEvent(event: {
    readonly name: string;
    readonly args: Readonly<Record<string, unknown>>;
  }): readonly string[] {
    if (this.disposed) return NONE;
    const list = this.byEvent.get(event.name);
    if (list === undefined) return NONE;
    let names: string[] | undefined;
    for (const a of list) {
      const d = a.def;
      if (!d.enabled || !this.matches(a, event.args)) continue;
      if ('sequence' in d.action) {
        if (!this.start(d.action.sequence, d.name)) continue;
      } else {
        this.send(d.action.command, d.name, 0, undefined);
      }
      this.firedCount += 1;
      if (names === undefined) names = [d.name];
      else names.push(d.name);
    }
    return names ?? NONE;
  }

  enable(id: number): boolean {
    return this.setEnabled(id, true);
  }

  /** Stops the action firing; a sequence it already started keeps running (use `abort`). */
  disable(id: number): boolean {
    return this.setEnabled(id, false);
  }

  /** Starts a stored sequence by command; false if it is unknown or already running. */
  runSequence(name: string, source: string): boolean {
    if (this.disposed) return false;
    return this.start(name, source);
  }

  /** Cancels a running sequence's remaining steps; false if it is not running. */
  abort(name: string): boolean {
    const run = this.runs.get(name);
    if (run === undefined) return false;
    run.timer?.unsubscribe();
    this.runs.delete(name);
    return true;
  }

  /** Names of the sequences running. */
  running(): readonly string[] {
    return [...this.runs.keys()];
  }

  /** Cancels all scheduled steps; later events, triggers and outcomes are ignored. */
  dispose(): void {
    this.disposed = true;
    for (const run of this.runs.values()) run.timer?.unsubscribe();
    this.runs.clear();
  }

  private setEnabled(id: number, enabled: boolean): boolean {
    const a = this.actions.get(id);
    if (a === undefined) return false;
    if (a.def.enabled !== enabled) a.def = { ...a.def, enabled };
    return true;
  }

  private matches(a: Action, args: Readonly<Record<string, unknown>>): boolean {
    const when = a.def.when;
    if (when === undefined) return true;
    for (const key of a.whenKeys) {
      if (args[key] !== when[key]) return false;
    }
    return true;
  }

  private start(name: string, source: string): boolean {
    const sequence = this.sequences.get(name);
    if (sequence === undefined || this.runs.has(name)) return false;
    const run: Run = { sequence, source, next: 0, lastAt: this.options.scheduler.now(), timer: undefined };
    this.runs.set(name, run);
    this.scheduleNext(run);
    return true;
  }

  /** Schedules the run's next step at its delay after the last dispatch (never in the past). */
  private scheduleNext(run: Run): void {
    const step = run.sequence.steps[run.next] as SequenceStep;
    const elapsed = this.options.scheduler.now() - run.lastAt;
    const delay = Math.max(0, step.delayMs - elapsed);
    run.timer = this.options.scheduler.schedule(() => this.step(run), delay);
  }

  private step(run: Run): void {
    run.timer = undefined;
    if (this.disposed || this.runs.get(run.sequence.name) !== run) return;
    const index = run.next;
    const step = run.sequence.steps[index] as SequenceStep;
    run.next += 1;
    run.lastAt = this.options.scheduler.now();
    const last = run.next >= run.sequence.steps.length;
    if (last) this.runs.delete(run.sequence.name);
    const command: ActionCommand =
      step.args === undefined ? { command: step.command } : { command: step.command, args: step.args };
    if (run.sequence.stopOnFailure) {
      // Wait for this step's outcome: the next step goes at its delay after this dispatch, or as soon as the
      // outcome arrives if that is later, and not at all if this step failed.
      this.send(command, run.source, index, (ok) => {
        if (last || this.disposed || this.runs.get(run.sequence.name) !== run) return;
        if (ok) this.scheduleNext(run);
        else this.runs.delete(run.sequence.name);
      });
    } else {
      this.send(command, run.source, index, undefined);
      if (!last) this.scheduleNext(run);
    }
  }

  private send(
    command: ActionCommand,
    source: string,
    step: number,
    then: ((ok: boolean) => void) | undefined,
  ): void {
    const report = (ok: boolean, reason: string | undefined): void => {
      if (this.disposed) return;
      if (!ok) this.failedCount += 1;
      const outcome: ActionOutcome =
        reason === undefined
          ? { action: source, command: command.command, ok, step }
          : { action: source, command: command.command, ok, reason, step };
      try {
        this.options.onOutcome?.(outcome);
      } finally {
        then?.(ok);
      }
    };
    let pending: Promise<DispatchResult>;
    try {
      pending = this.options.dispatch(command, source);
    } catch (error) {
      pending = Promise.reject(error);
    }
    Promise.resolve(pending).then(
      (result: DispatchResult | undefined) => report(result?.ok === true, result?.reason),
      (error: unknown) => report(false, errorReason(error)),
    );
  }
}
