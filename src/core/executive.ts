/**
 * The executive: builds the dictionary of the deployed components, gives each its context, owns the rate groups
 * and dispatches commands (validated against the dictionary) to the components' handlers. It is what
 * `skynode fsw` starts; the commanding, telemetry and FDIR services plug into its bus and dispatcher.
 */
import { BehaviorSubject, merge, Subject, Subscription } from 'rxjs';
import type { CommandResult, EventRecord } from './bus.js';
import { SoftwareBus } from './bus.js';
import type { MissionClock } from './clock.js';
import {
  type AnyComponent,
  type CommandFailure,
  type CommandHandler,
  type ComponentContext,
  type ComponentStorage,
  FailureCode,
  type HalDevices,
  renderMessage,
  type Severity,
  SYSTEM_MODES,
  type SystemMode,
} from './component.js';
import {
  buildDictionary,
  type CommandEntry,
  DEFAULT_MISSION,
  type MissionDictionary,
  type MissionInfo,
} from './dictionary.js';
import type { Logger } from './log.js';
import { ParameterStore } from './params.js';
import { readCounter, type StateStore, writeCounter } from './persistence.js';
import { RateGroup } from './rate-group.js';
import { checkValue, describeType } from './types.js';

export const DEFAULT_RATE_GROUPS: Readonly<Record<string, number>> = { '10Hz': 10, '1Hz': 1 };

export interface StackOptions {
  readonly components: readonly AnyComponent[];
  readonly clock: MissionClock;
  readonly store: StateStore;
  readonly logger: Logger;
  readonly hal?: HalDevices;
  /** Rate group name to frequency in Hz. */
  readonly rateGroups?: Readonly<Record<string, number>>;
  readonly mission?: MissionInfo;
  /** Restarts the flight software (the fsw process exits for its supervisor to start it again). */
  readonly onRestartRequest?: (reason: string) => void;
}

/** A command as asked for, before validation: by qualified name or by opcode, with raw argument values. */
export interface CommandAsk {
  readonly name?: string;
  readonly opcode?: number;
  readonly args?: Readonly<Record<string, unknown>>;
  readonly source?: string;
  readonly requestId?: number;
  /** Set by the commanding service once a hazardous command's arming has been checked. */
  readonly armed?: boolean;
}

export type CommandCheck =
  | { readonly ok: true; readonly entry: CommandEntry; readonly args: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly name: string; readonly code: FailureCode; readonly reason: string };

/** Checks a command against the dictionary: known, every argument present, of its type and in range, no extra. */
export function checkCommand(dictionary: MissionDictionary, ask: CommandAsk): CommandCheck {
  const entry =
    ask.name !== undefined
      ? dictionary.commandByName.get(ask.name)
      : dictionary.commandByOpcode.get(ask.opcode ?? -1);
  const asked = ask.name ?? `opcode 0x${(ask.opcode ?? 0).toString(16).padStart(4, '0')}`;
  if (!entry)
    return { ok: false, name: asked, code: FailureCode.unknownFunction, reason: `unknown command ${asked}` };
  const raw = ask.args ?? {};
  const args: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [arg, type] of Object.entries(entry.args)) {
    const checked = checkValue(type, raw[arg]);
    if (checked.ok) args[arg] = checked.value;
    else if (checked.error.code === 'missing') problems.push(`${arg} is missing (${describeType(type)})`);
    else problems.push(`${arg}: ${checked.error.message}`);
  }
  for (const arg of Object.keys(raw)) {
    if (!(arg in entry.args)) {
      const known = Object.keys(entry.args);
      problems.push(
        `${arg} is not an argument of ${entry.name}${known.length ? ` (it takes ${known.join(', ')})` : ''}`,
      );
    }
  }
  if (problems.length > 0) {
    return { ok: false, name: entry.name, code: FailureCode.argumentOutOfRange, reason: problems.join('; ') };
  }
  return { ok: true, entry, args };
}

const LOG_LEVEL: Readonly<Record<Severity, 'info' | 'warn' | 'error'>> = {
  info: 'info',
  low: 'warn',
  medium: 'warn',
  high: 'error',
};

export class FlightStack {
  readonly dictionary: MissionDictionary;
  readonly bus: SoftwareBus = new SoftwareBus();
  readonly params: ParameterStore;
  readonly rateGroups: ReadonlyMap<string, RateGroup>;
  readonly bootCount: number;
  readonly startedMs: number;
  private readonly handlers = new Map<number, CommandHandler<unknown>>();
  private readonly stoppers: Array<() => void> = [];
  private readonly subscriptions = new Subscription();
  private nextRequestId = 1;
  private readonly modeSubject: BehaviorSubject<SystemMode>;
  private readonly modeChangeSubject = new Subject<{ from: SystemMode; to: SystemMode; reason: string }>();
  private stopped = false;
  private started = false;

  private constructor(private readonly options: StackOptions) {
    const { clock, logger, store } = options;
    this.dictionary = buildDictionary(options.components, options.mission ?? DEFAULT_MISSION);
    this.params = new ParameterStore(this.dictionary, store);
    for (const dropped of this.params.discarded) {
      logger.warn(
        { parameter: dropped.name, reason: dropped.reason },
        'stored parameter value discarded for its default',
      );
    }
    this.bootCount = readCounter(store, 'system', 'bootCount') + 1;
    writeCounter(store, 'system', 'bootCount', this.bootCount);
    this.startedMs = clock.now();
    const storedMode = new TextDecoder().decode(store.get('system', 'mode') ?? new Uint8Array(0));
    this.modeSubject = new BehaviorSubject<SystemMode>(
      (SYSTEM_MODES as readonly string[]).includes(storedMode) ? (storedMode as SystemMode) : 'NOMINAL',
    );

    const groups = new Map<string, RateGroup>();
    for (const [name, hz] of Object.entries(options.rateGroups ?? DEFAULT_RATE_GROUPS)) {
      const group = new RateGroup(name, hz, clock);
      this.subscriptions.add(
        group.failures$.subscribe((failure) =>
          logger.error(
            { rateGroup: failure.group, task: failure.task, err: failure.error },
            'rate group task failed',
          ),
        ),
      );
      groups.set(name, group);
    }
    this.rateGroups = groups;

    this.subscriptions.add(this.bus.events$.subscribe((event) => this.logEvent(event)));
  }

  /**
   * Builds the dictionary (throwing DictionaryError on clashes), the parameters and the bus, without starting
   * anything: subscribe to `bus` here to see everything from the first event on, then call `start()`.
   */
  static create(options: StackOptions): FlightStack {
    return new FlightStack(options);
  }

  /** `create` then `start`. */
  static start(options: StackOptions): FlightStack {
    return FlightStack.create(options).start();
  }

  /** Sets every component up, in deployment order, and starts the rate groups. */
  start(): this {
    if (this.started) throw new Error('flight stack already started');
    this.started = true;
    const { options } = this;
    try {
      for (const component of options.components) this.setUp(component);
    } catch (error) {
      this.stop();
      throw error;
    }
    for (const group of this.rateGroups.values()) group.start();
    options.logger.info(
      {
        bootCount: this.bootCount,
        components: options.components.map((c) => c.name),
        dictionaryCrc: `0x${this.dictionary.crc32.toString(16).padStart(8, '0')}`,
        rateGroups: Object.fromEntries([...this.rateGroups].map(([n, g]) => [n, g.hz])),
        state: options.store.location,
        clock: options.clock.kind,
      },
      'flight stack started',
    );
    return this;
  }

  get clock(): MissionClock {
    return this.options.clock;
  }

  get logger(): Logger {
    return this.options.logger;
  }

  /**
   * Validates and runs a command. Never throws: every outcome, including unknown commands, bad arguments and a
   * handler that throws, comes back as a CommandResult and is published on the bus.
   */
  async dispatch(ask: CommandAsk): Promise<CommandResult> {
    const requestId = ask.requestId ?? this.nextRequestId++;
    const { clock, logger } = this.options;
    const fail = (name: string, code: FailureCode, reason: string): CommandResult => {
      const result: CommandResult = { requestId, name, ok: false, code, reason, time: clock.now() };
      logger.warn({ command: name, requestId, code, reason, source: ask.source }, 'command rejected');
      this.bus.publishResult(result);
      return result;
    };
    if (this.stopped) return fail(ask.name ?? '?', FailureCode.busy, 'flight stack is stopping');
    const check = checkCommand(this.dictionary, ask);
    if (!check.ok) return fail(check.name, check.code, check.reason);
    const { entry, args } = check;
    const mode = this.modeSubject.value;
    if (entry.modes && !entry.modes.includes(mode)) {
      return fail(
        entry.name,
        FailureCode.notAllowedInMode,
        `${entry.name} is not allowed in mode ${mode} (only ${entry.modes.join(', ')})`,
      );
    }
    if (entry.hazardous && !ask.armed) {
      return fail(entry.name, FailureCode.hazardousNotArmed, `${entry.name} is hazardous and was not armed`);
    }
    const handler = this.handlers.get(entry.opcode);
    if (!handler) return fail(entry.name, FailureCode.unknownFunction, `${entry.name} has no handler`);

    const source = ask.source ?? 'internal';
    this.bus.publishCommand({
      requestId,
      name: entry.name,
      opcode: entry.opcode,
      args,
      source,
      time: clock.now(),
    });
    let outcome: undefined | CommandFailure;
    try {
      outcome = await handler(args, {
        requestId,
        source,
        log: logger.child({ command: entry.name, requestId }),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      logger.error({ command: entry.name, requestId, err: error }, 'command handler threw');
      return fail(entry.name, FailureCode.executionFailed, reason);
    }
    if (outcome && outcome.ok === false) {
      return fail(entry.name, outcome.code ?? FailureCode.executionFailed, outcome.reason);
    }
    const result: CommandResult = { requestId, name: entry.name, ok: true, time: clock.now() };
    logger.info({ command: entry.name, requestId, args, source }, 'command executed');
    this.bus.publishResult(result);
    return result;
  }

  get mode(): SystemMode {
    return this.modeSubject.value;
  }

  /** Changes the system mode, durably first; every component sees it on `ctx.system.mode$`. */
  setMode(mode: SystemMode, reason: string): void {
    const from = this.modeSubject.value;
    if (from === mode) return;
    this.options.store.put('system', 'mode', new TextEncoder().encode(mode));
    this.options.logger.warn({ from, to: mode, reason }, 'system mode changed');
    this.modeSubject.next(mode);
    this.modeChangeSubject.next({ from, to: mode, reason });
  }

  /** Stops the rate groups and the components, and ends the bus streams. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const group of this.rateGroups.values()) group.stop();
    for (const stop of this.stoppers.reverse()) {
      try {
        stop();
      } catch (error) {
        this.options.logger.error({ err: error }, 'component stop failed');
      }
    }
    this.subscriptions.unsubscribe();
    this.params.close();
    this.bus.close();
  }

  private setUp(component: AnyComponent): void {
    const { clock, logger, store } = this.options;
    const c = component.name;
    const bus = this.bus;
    const params = this.params;
    const log = logger.child({ component: c });
    const tlm: Record<string, (value: unknown) => void> = {};
    for (const [key, decl] of Object.entries(component.telemetry as Record<string, { id: number }>)) {
      const id = decl.id;
      const name = `${c}.${key}`;
      tlm[key] = (value) => bus.publishTelemetry({ id, name, value, time: clock.now() });
    }
    const events: Record<string, (args?: Record<string, unknown>) => void> = {};
    for (const entry of this.dictionary.events.filter((e) => e.component === c)) {
      const key = entry.name.slice(c.length + 1);
      events[key] = (args = {}) =>
        bus.publishEvent({
          id: entry.id,
          name: entry.name,
          component: c,
          severity: entry.severity,
          args,
          message: renderMessage(entry.message, entry.name, args),
          time: clock.now(),
        });
    }
    const namespace = `component:${c}`;
    const storage: ComponentStorage = {
      get: (key) => store.get(namespace, key),
      put: (key, value) => store.put(namespace, key, value),
      delete: (key) => store.delete(namespace, key),
      transaction: (work) => store.transaction(work),
      series: (name) => store.series(`${namespace}/${name}`),
    };
    const groups = this.rateGroups;
    const context: ComponentContext<never, never, never> = {
      name: c,
      clock,
      log,
      bus,
      tlm: tlm as never,
      events: events as never,
      params: {
        get: (name: string) => params.get(`${c}.${name}`) as never,
        watch: (name: string) => params.watch(`${c}.${name}`) as never,
      },
      storage,
      hal: this.options.hal ?? {},
      system: {
        bootCount: this.bootCount,
        startedMs: this.startedMs,
        rateGroups: () => [...groups.values()].map((g) => ({ name: g.name, hz: g.hz, ...g.stats })),
        componentStats: () => {
          const byComponent = new Map<
            string,
            { component: string; runs: number; failures: number; totalMs: number }
          >();
          for (const group of groups.values()) {
            for (const task of group.taskStats()) {
              const entry = byComponent.get(task.name) ?? {
                component: task.name,
                runs: 0,
                failures: 0,
                totalMs: 0,
              };
              entry.runs += task.runs;
              entry.failures += task.failures;
              entry.totalMs += task.totalMs;
              byComponent.set(task.name, entry);
            }
          }
          return [...byComponent.values()];
        },
        overruns$: merge(...[...groups.values()].map((g) => g.overruns$)),
        dictionary: this.dictionary,
        parameters: params,
        dispatch: (ask) => this.dispatch(ask),
        mode: () => this.modeSubject.value,
        mode$: this.modeSubject.asObservable(),
        modeChanges$: this.modeChangeSubject.asObservable(),
        setMode: (mode, reason) => this.setMode(mode, reason),
        requestRestart: (reason) => {
          const restart = this.options.onRestartRequest;
          if (!restart) return false;
          this.options.logger.warn({ reason }, 'flight software restart requested');
          // After the current turn: the command that asked completes and is reported first.
          this.options.clock.scheduler.schedule(() => restart(reason), 100);
          return true;
        },
      },
      every(rateGroup, task) {
        const group = groups.get(rateGroup);
        if (!group) {
          throw new Error(
            `component ${c}: no rate group '${rateGroup}' (this deployment has ${[...groups.keys()].join(', ')})`,
          );
        }
        group.add(c, task);
      },
    };
    let runtime: { commands?: Record<string, CommandHandler<unknown>>; stop?: () => void };
    try {
      runtime = component.setup(context);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`component ${c} failed to start: ${reason}`, { cause: error });
    }
    for (const key of Object.keys(component.commands as object)) {
      const handler = runtime.commands?.[key];
      const entry = this.dictionary.commandByName.get(`${c}.${key}`);
      if (!handler || !entry)
        throw new Error(`component ${c} declares command ${key} but its setup returns no handler`);
      this.handlers.set(entry.opcode, handler);
    }
    if (runtime.stop) this.stoppers.push(runtime.stop);
  }

  private logEvent(event: EventRecord): void {
    this.options.logger[LOG_LEVEL[event.severity]](
      { event: event.name, eventId: event.id, severity: event.severity, args: event.args },
      event.message,
    );
  }
}
