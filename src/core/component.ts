/**
 * The component model. A component declares, once and with explicit stable IDs, what the ground sees of it:
 * commands, telemetry, events and parameters. Everything else (clock, bus, logger, parameters, storage, hardware)
 * reaches it through the context given to `setup`, whose types are inferred from the declaration.
 */
import type { Observable } from 'rxjs';
import type { CommandResult, SoftwareBus } from './bus.js';
import type { MissionClock } from './clock.js';
import type { MissionDictionary } from './dictionary.js';
import type { CommandAsk } from './executive.js';
import type { Logger } from './log.js';
import type { ParameterStore } from './params.js';
import type { RecordSeries } from './persistence.js';
import type { Overrun, RateGroupStats, Tick } from './rate-group.js';
import type { DataType, ValueOf, ValuesOf } from './types.js';

export type ArgTypes = Readonly<Record<string, DataType>>;
type Empty = Record<never, never>;

export interface CommandDecl<A extends ArgTypes = ArgTypes> {
  /** Function ID of PUS TC(8,1): unique across the mission. */
  readonly opcode: number;
  /** Arguments, packed on the wire in this declaration order. */
  readonly args?: A;
  /** Runs only after an arm command within its window (see the commanding service). */
  readonly hazardous?: boolean;
  /** System modes in which the command may run (default: all); refused with failure code 7 in the others. */
  readonly modes?: readonly SystemMode[];
  readonly description?: string;
}

/**
 * The system modes every controller and the command permissions obey. BOOT while starting, SAFE after a fault
 * (left only by command), NOMINAL for operations, SURVIVAL when power is critical.
 */
export const SYSTEM_MODES = ['BOOT', 'SAFE', 'NOMINAL', 'SURVIVAL'] as const;
export type SystemMode = (typeof SYSTEM_MODES)[number];

export interface TelemetryDecl<T extends DataType = DataType> {
  readonly id: number;
  readonly type: T;
  readonly description?: string;
}

/** PUS service 5 severities: informative, then low, medium and high severity anomaly reports. */
export type Severity = 'info' | 'low' | 'medium' | 'high';
export const SEVERITY_SUBTYPE: Readonly<Record<Severity, number>> = { info: 1, low: 2, medium: 3, high: 4 };

export interface EventDecl<A extends ArgTypes = ArgTypes> {
  readonly id: number;
  readonly severity: Severity;
  readonly args?: A;
  /** Text for logs and displays; `{name}` is replaced by the argument of that name. */
  readonly message?: string;
  readonly description?: string;
}

export interface ParamDecl<T extends DataType = DataType> {
  readonly id: number;
  readonly type: T;
  readonly default: ValueOf<T>;
  readonly description?: string;
}

/** A housekeeping structure (PUS service 3): telemetry of the component packed together at an interval. */
export interface HousekeepingDecl<N extends string = string> {
  /** Structure ID, unique across the mission. */
  readonly id: number;
  /** Telemetry of this component, packed in this order. */
  readonly parameters: readonly N[];
  /** Default collection interval. */
  readonly intervalMs: number;
  /** Whether it is reported from start-up (default true); TC(3,5)/(3,6) change it. */
  readonly enabled?: boolean;
  readonly description?: string;
}

/**
 * A check on one of the component's telemetry parameters (PUS service 12 semantics): a limit pair, an expected
 * value, or a delta between consecutive samples (a stuck or jumping sensor), confirmed after `persistence` samples
 * in a row. Fault protection runs every declared monitor; the ground changes, enables and disables them by command.
 */
export interface MonitorDecl<N extends string = string> {
  /** Monitor ID, unique across the mission. */
  readonly id: number;
  /** The telemetry parameter of this component it checks. */
  readonly parameter: N;
  readonly check:
    | { readonly kind: 'limit'; readonly low: number; readonly high: number }
    | { readonly kind: 'expected'; readonly value: number | string | boolean }
    | { readonly kind: 'delta'; readonly minDelta?: number; readonly maxDelta?: number };
  /** Consecutive samples in a new state before the transition is confirmed (default 1). */
  readonly persistence?: number;
  /** Whether it runs from start-up (default true). */
  readonly enabled?: boolean;
  readonly description?: string;
}

export type CommandDecls = Readonly<Record<string, CommandDecl>>;
export type TelemetryDecls = Readonly<Record<string, TelemetryDecl>>;
export type EventDecls = Readonly<Record<string, EventDecl>>;
export type ParamDecls = Readonly<Record<string, ParamDecl>>;

type ArgsOf<D> = D extends { readonly args: infer A extends ArgTypes } ? A : Empty;

/** The typed argument values a command handler receives. */
export type CommandArgs<D> = ValuesOf<ArgsOf<D>>;
export type EventArgs<D> = ValuesOf<ArgsOf<D>>;

/** PROTOCOL.md failure codes of PUS service 1. */
export const FailureCode = {
  illegalApid: 1,
  badLength: 2,
  badChecksum: 3,
  unknownService: 4,
  unknownFunction: 5,
  argumentOutOfRange: 6,
  notAllowedInMode: 7,
  hazardousNotArmed: 8,
  executionFailed: 9,
  busy: 10,
} as const;
export type FailureCode = (typeof FailureCode)[keyof typeof FailureCode];

/** What a handler returns to fail a command with a reason; returning nothing means success. */
export interface CommandFailure {
  readonly ok: false;
  readonly code?: FailureCode;
  readonly reason: string;
}

export interface CommandInvocation {
  readonly requestId: number;
  /** Who sent it: 'ground', 'schedule', 'event-action', 'demo', ... */
  readonly source: string;
  readonly log: Logger;
}

export type CommandHandler<D> = (
  args: CommandArgs<D>,
  invocation: CommandInvocation,
) => undefined | CommandFailure | Promise<undefined | CommandFailure>;

export type CommandHandlers<C extends CommandDecls> = { readonly [K in keyof C]: CommandHandler<C[K]> };

export type ComponentRuntime<C extends CommandDecls> = (keyof C extends never
  ? { readonly commands?: Empty }
  : { readonly commands: CommandHandlers<C> }) & {
  /** Called when the stack stops: release what setup acquired outside the clock (files, ports). */
  readonly stop?: () => void;
};

/** Telemetry writers: `ctx.tlm.junctionC(71.5)` publishes a sample stamped with mission time. */
export type TelemetryWriters<T extends TelemetryDecls> = {
  readonly [K in keyof T]: (value: ValueOf<T[K]['type']>) => void;
};

/** Event emitters: `ctx.events.TRIPPED({ celsius: 96 })`, or `ctx.events.BOOTED()` when it has no arguments. */
export type EventEmitters<E extends EventDecls> = {
  readonly [K in keyof E]: keyof ArgsOf<E[K]> extends never ? () => void : (args: EventArgs<E[K]>) => void;
};

export interface ParameterAccess<P extends ParamDecls> {
  get<K extends keyof P & string>(name: K): ValueOf<P[K]['type']>;
  /** Current value first, then every change. */
  watch<K extends keyof P & string>(name: K): Observable<ValueOf<P[K]['type']>>;
}

/**
 * Hardware devices a board provides. Empty here (the core knows no hardware); `src/hal` adds its device
 * interfaces to it by declaration merging, and each board fills in what it has.
 */
// biome-ignore lint/suspicious/noEmptyInterface: extended by declaration merging in src/hal
export interface HalDevices {}

export interface ComponentStats {
  readonly component: string;
  readonly runs: number;
  readonly failures: number;
  readonly totalMs: number;
}

/** Durable key-value storage private to one component, in the state directory. */
export interface ComponentStorage {
  get(key: string): Uint8Array | undefined;
  put(key: string, value: Uint8Array): void;
  delete(key: string): void;
  /** Runs `work` atomically and durably: every put in it is on disk when it returns, or none is. */
  transaction<R>(work: () => R): R;
  /**
   * A durable ordered log of records private to the component (the recorder's packet store). Appends are queued
   * and become durable together at `flush()`: flush at least once a second, and count a record as stored only
   * once the flush that wrote it has returned.
   */
  series(name: string): RecordSeries;
}

export interface SystemInfo {
  /** Number of times the flight software has started with this state directory, this start included. */
  readonly bootCount: number;
  /** Mission time at which this start began. */
  readonly startedMs: number;
  readonly rateGroups: () => ReadonlyArray<{ readonly name: string; readonly hz: number } & RateGroupStats>;
  /** Per component, all its rate-group tasks together: runs, failures, time spent (ms) since start. */
  readonly componentStats: () => ReadonlyArray<ComponentStats>;
  /** Overruns of every rate group as they happen. */
  readonly overruns$: Observable<Overrun>;
  /** The mission dictionary: what the commanding and telemetry services encode and decode against. */
  readonly dictionary: MissionDictionary;
  /** Every parameter of the mission, by qualified name or ID (PUS service 20). */
  readonly parameters: ParameterStore;
  /** Validates and runs any command of the dictionary (PUS service 8, the schedule, event-actions). */
  dispatch(ask: CommandAsk): Promise<CommandResult>;
  /** The system mode now. */
  mode(): SystemMode;
  /** The mode, then every change. */
  readonly mode$: Observable<SystemMode>;
  /** Every change of mode, with its reason. */
  readonly modeChanges$: Observable<{
    readonly from: SystemMode;
    readonly to: SystemMode;
    readonly reason: string;
  }>;
  /** Changes the system mode (kept in the state directory); `reason` is logged and reported. */
  setMode(mode: SystemMode, reason: string): void;
  /**
   * Asks the process that runs the stack to restart the flight software (after the current command completes).
   * False when this deployment has no one to do it (a test, the demo).
   */
  requestRestart(reason: string): boolean;
}

export interface ComponentContext<T extends TelemetryDecls, E extends EventDecls, P extends ParamDecls> {
  readonly name: string;
  readonly clock: MissionClock;
  readonly log: Logger;
  readonly bus: SoftwareBus;
  readonly tlm: TelemetryWriters<T>;
  readonly events: EventEmitters<E>;
  readonly params: ParameterAccess<P>;
  readonly storage: ComponentStorage;
  readonly hal: HalDevices;
  readonly system: SystemInfo;
  /** Runs `task` on every tick of the named rate group (for example '1Hz'). */
  every(rateGroup: string, task: (tick: Tick) => void): void;
}

export interface ComponentDeclaration<
  C extends CommandDecls,
  T extends TelemetryDecls,
  E extends EventDecls,
  P extends ParamDecls,
> {
  /** lowerCamelCase; prefixes every qualified name (`thermal.SET_LIMIT`). */
  readonly name: string;
  readonly description?: string;
  readonly commands?: C;
  readonly telemetry?: T;
  readonly events?: E;
  readonly params?: P & { readonly [K in keyof P]: { readonly default: ValueOf<P[K]['type']> } };
  /**
   * Housekeeping structures. Without any, the component's telemetry goes down as one structure, all of it, once
   * a second, its ID the component's lowest telemetry ID.
   */
  readonly housekeeping?: Readonly<Record<string, HousekeepingDecl<Extract<keyof T, string>>>>;
  /** Checks on this component's telemetry, run by fault protection (`src/services/fdir`). */
  readonly monitors?: Readonly<Record<string, MonitorDecl<Extract<keyof T, string>>>>;
  readonly setup: (ctx: ComponentContext<T, E, P>) => ComponentRuntime<C>;
}

/** A reference to one declared item, with its mission-wide qualified name: what ground tools and other
 * components use to address it (`bus.telemetryOf(thermal.tlm.junctionC)`). */
export interface TelemetryRef<T extends DataType = DataType> {
  readonly id: number;
  readonly name: string;
  readonly type: T;
}
export interface CommandRef<D extends CommandDecl = CommandDecl> {
  readonly opcode: number;
  readonly name: string;
  readonly decl: D;
}

export interface Component<
  C extends CommandDecls = CommandDecls,
  T extends TelemetryDecls = TelemetryDecls,
  E extends EventDecls = EventDecls,
  P extends ParamDecls = ParamDecls,
> {
  readonly name: string;
  readonly description: string;
  readonly commands: C;
  readonly telemetry: T;
  readonly events: E;
  readonly params: P;
  readonly housekeeping: Readonly<Record<string, HousekeepingDecl>>;
  readonly monitors: Readonly<Record<string, MonitorDecl>>;
  readonly setup: (ctx: ComponentContext<T, E, P>) => ComponentRuntime<C>;
  readonly tlm: { readonly [K in keyof T]: TelemetryRef<T[K]['type']> };
  readonly cmd: { readonly [K in keyof C]: CommandRef<C[K]> };
}

/** Any component, whatever its declarations: what a deployment lists. */
// biome-ignore lint/suspicious/noExplicitAny: erased component type; each component is fully typed where defined
export type AnyComponent = Component<any, any, any, any>;

export function defineComponent<
  C extends CommandDecls = Empty,
  T extends TelemetryDecls = Empty,
  E extends EventDecls = Empty,
  P extends ParamDecls = Empty,
>(declaration: ComponentDeclaration<C, T, E, P>): Component<C, T, E, P> {
  const commands = (declaration.commands ?? {}) as C;
  const telemetry = (declaration.telemetry ?? {}) as T;
  const name = declaration.name;
  const tlm = Object.fromEntries(
    Object.entries(telemetry).map(([key, decl]) => [
      key,
      { id: decl.id, name: `${name}.${key}`, type: decl.type },
    ]),
  ) as Component<C, T, E, P>['tlm'];
  const cmd = Object.fromEntries(
    Object.entries(commands).map(([key, decl]) => [
      key,
      { opcode: decl.opcode, name: `${name}.${key}`, decl },
    ]),
  ) as Component<C, T, E, P>['cmd'];
  return {
    name,
    description: declaration.description ?? '',
    commands,
    telemetry,
    events: (declaration.events ?? {}) as E,
    params: (declaration.params ?? {}) as P,
    housekeeping: declaration.housekeeping ?? {},
    monitors: declaration.monitors ?? {},
    setup: declaration.setup,
    tlm,
    cmd,
  };
}

/** Renders an event message template with its arguments. */
export function renderMessage(
  template: string | undefined,
  name: string,
  args: Readonly<Record<string, unknown>>,
) {
  if (!template) return name;
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in args ? formatValue(args[key]) : whole,
  );
}

export function formatValue(value: unknown): string {
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return String(value);
}
