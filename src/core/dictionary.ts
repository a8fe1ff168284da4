/**
 * The mission dictionary: every command, telemetry parameter, event and parameter of the deployed components,
 * with IDs checked for uniqueness. The on-board dispatch tables, the ground tools and the exports all derive
 * from it, and its CRC-32 lets a ground station tell that its copy matches the flight software.
 */
import {
  type AnyComponent,
  type CommandDecl,
  type EventDecl,
  type HousekeepingDecl,
  type MonitorDecl,
  type ParamDecl,
  type Severity,
  SYSTEM_MODES,
  type TelemetryDecl,
} from './component.js';
import { crc32 } from './crc32.js';
import { checkValue, type DataType, typeToJson } from './types.js';

export interface MissionInfo {
  readonly name: string;
  readonly spacecraftId: number;
  readonly apid: number;
}

export const DEFAULT_MISSION: MissionInfo = { name: 'skynode', spacecraftId: 0x2a, apid: 0x010 };

export interface CommandEntry {
  readonly opcode: number;
  readonly name: string;
  readonly component: string;
  readonly args: Readonly<Record<string, DataType>>;
  readonly hazardous: boolean;
  /** Modes in which it may run; undefined: all. */
  readonly modes: readonly string[] | undefined;
  readonly description: string;
}

export interface TelemetryEntry {
  readonly id: number;
  readonly name: string;
  readonly component: string;
  readonly type: DataType;
  readonly description: string;
}

export interface EventEntry {
  readonly id: number;
  readonly name: string;
  readonly component: string;
  readonly severity: Severity;
  readonly args: Readonly<Record<string, DataType>>;
  readonly message: string;
  readonly description: string;
}

export interface ParamEntry {
  readonly id: number;
  readonly name: string;
  readonly component: string;
  readonly type: DataType;
  readonly default: unknown;
  readonly description: string;
}

export interface HousekeepingEntry {
  readonly id: number;
  /** `component.STRUCTURE` (`component.DEFAULT` for a component that declares none). */
  readonly name: string;
  readonly component: string;
  /** Qualified telemetry names, in packing order. */
  readonly parameters: readonly string[];
  readonly intervalMs: number;
  readonly enabled: boolean;
  readonly description: string;
}

export interface MissionDictionary {
  readonly mission: MissionInfo;
  readonly components: readonly AnyComponent[];
  readonly commands: readonly CommandEntry[];
  readonly telemetry: readonly TelemetryEntry[];
  readonly events: readonly EventEntry[];
  readonly params: readonly ParamEntry[];
  readonly commandByOpcode: ReadonlyMap<number, CommandEntry>;
  readonly commandByName: ReadonlyMap<string, CommandEntry>;
  readonly telemetryById: ReadonlyMap<number, TelemetryEntry>;
  readonly telemetryByName: ReadonlyMap<string, TelemetryEntry>;
  readonly eventById: ReadonlyMap<number, EventEntry>;
  readonly eventByName: ReadonlyMap<string, EventEntry>;
  readonly paramById: ReadonlyMap<number, ParamEntry>;
  readonly paramByName: ReadonlyMap<string, ParamEntry>;
  readonly housekeeping: readonly HousekeepingEntry[];
  readonly housekeepingById: ReadonlyMap<number, HousekeepingEntry>;
  readonly monitors: readonly MonitorEntry[];
  readonly monitorById: ReadonlyMap<number, MonitorEntry>;
  /** CRC-32 of `canonicalJson`. */
  readonly crc32: number;
  /** The dictionary as canonical JSON text: keys sorted, no whitespace, entries in ID order. */
  readonly canonicalJson: string;
}

/** A monitor (limit check) with its qualified names. */
export interface MonitorEntry {
  readonly id: number;
  /** `component.NAME`. */
  readonly name: string;
  readonly component: string;
  /** The qualified telemetry name it checks. */
  readonly parameter: string;
  readonly check: MonitorDecl['check'];
  readonly persistence: number;
  readonly enabled: boolean;
  readonly description: string;
}

/** A dictionary that cannot be built: the message names every clash and what to change. */
export class DictionaryError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`mission dictionary is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DictionaryError';
  }
}

const COMPONENT_NAME = /^[a-z][a-zA-Z0-9]*$/;
const UPPER_NAME = /^[A-Z][A-Z0-9_]*$/;
const CAMEL_NAME = /^[a-z][a-zA-Z0-9]*$/;
const ARG_NAME = /^[a-z][a-zA-Z0-9]*$/;

const hex = (id: number) => `0x${id.toString(16).padStart(4, '0')}`;

function checkTypes(where: string, args: Readonly<Record<string, DataType>>, problems: string[]) {
  for (const [arg, type] of Object.entries(args)) {
    if (!ARG_NAME.test(arg)) problems.push(`${where}: argument name '${arg}' must be lowerCamelCase`);
    if (typeof type !== 'object' || type === null || typeof type.kind !== 'string') {
      problems.push(`${where}: argument '${arg}' has no data type (use f32(), u8(), enumOf([...]) ...)`);
    }
  }
}

/**
 * Builds the dictionary of the deployed components. Throws DictionaryError listing every problem: duplicate
 * component names, opcodes or IDs (naming both holders), bad names, IDs outside 16 bits, parameter defaults
 * outside their range.
 */
export function buildDictionary(
  components: readonly AnyComponent[],
  mission: MissionInfo = DEFAULT_MISSION,
): MissionDictionary {
  const problems: string[] = [];
  const seenComponents = new Set<string>();
  const commands: CommandEntry[] = [];
  const telemetry: TelemetryEntry[] = [];
  const events: EventEntry[] = [];
  const params: ParamEntry[] = [];
  const housekeeping: HousekeepingEntry[] = [];

  for (const component of components) {
    const c = component.name;
    if (!COMPONENT_NAME.test(c)) problems.push(`component name '${c}' must be lowerCamelCase`);
    if (seenComponents.has(c)) problems.push(`component name '${c}' is deployed twice`);
    seenComponents.add(c);
    for (const [key, decl] of Object.entries(component.commands as Record<string, CommandDecl>)) {
      if (!UPPER_NAME.test(key)) problems.push(`command ${c}.${key}: name must be UPPER_SNAKE_CASE`);
      for (const mode of decl.modes ?? []) {
        if (!(SYSTEM_MODES as readonly string[]).includes(mode)) {
          problems.push(`command ${c}.${key}: unknown mode '${mode}' (modes: ${SYSTEM_MODES.join(', ')})`);
        }
      }
      checkTypes(`command ${c}.${key}`, decl.args ?? {}, problems);
      commands.push({
        opcode: decl.opcode,
        name: `${c}.${key}`,
        component: c,
        args: decl.args ?? {},
        hazardous: decl.hazardous ?? false,
        modes: decl.modes,
        description: decl.description ?? '',
      });
    }
    for (const [key, decl] of Object.entries(component.telemetry as Record<string, TelemetryDecl>)) {
      if (!CAMEL_NAME.test(key)) problems.push(`telemetry ${c}.${key}: name must be lowerCamelCase`);
      telemetry.push({
        id: decl.id,
        name: `${c}.${key}`,
        component: c,
        type: decl.type,
        description: decl.description ?? '',
      });
    }
    for (const [key, decl] of Object.entries(component.events as Record<string, EventDecl>)) {
      if (!UPPER_NAME.test(key)) problems.push(`event ${c}.${key}: name must be UPPER_SNAKE_CASE`);
      checkTypes(`event ${c}.${key}`, decl.args ?? {}, problems);
      events.push({
        id: decl.id,
        name: `${c}.${key}`,
        component: c,
        severity: decl.severity,
        args: decl.args ?? {},
        message: decl.message ?? '',
        description: decl.description ?? '',
      });
    }
    for (const [key, decl] of Object.entries(component.params as Record<string, ParamDecl>)) {
      if (!CAMEL_NAME.test(key)) problems.push(`parameter ${c}.${key}: name must be lowerCamelCase`);
      const checked = checkValue(decl.type, decl.default);
      if (!checked.ok) problems.push(`parameter ${c}.${key}: default ${checked.error.message}`);
      params.push({
        id: decl.id,
        name: `${c}.${key}`,
        component: c,
        type: decl.type,
        default: decl.default,
        description: decl.description ?? '',
      });
    }
  }

  for (const component of components) {
    const c = component.name;
    const own = telemetry.filter((t) => t.component === c).sort((a, b) => a.id - b.id);
    const declared = Object.entries(component.housekeeping as Record<string, HousekeepingDecl>);
    if (declared.length === 0 && own.length > 0) {
      housekeeping.push({
        id: (own[0] as TelemetryEntry).id,
        name: `${c}.DEFAULT`,
        component: c,
        parameters: own.map((t) => t.name),
        intervalMs: 1000,
        enabled: true,
        description: `All telemetry of ${c}`,
      });
    }
    for (const [key, decl] of declared) {
      if (!UPPER_NAME.test(key)) problems.push(`housekeeping ${c}.${key}: name must be UPPER_SNAKE_CASE`);
      const names = decl.parameters.map((p) => `${c}.${p}`);
      for (const name of names) {
        if (!own.some((t) => t.name === name))
          problems.push(`housekeeping ${c}.${key}: ${name} is not telemetry of ${c}`);
      }
      if (!(decl.intervalMs >= 10))
        problems.push(`housekeeping ${c}.${key}: interval ${decl.intervalMs} ms < 10 ms`);
      housekeeping.push({
        id: decl.id,
        name: `${c}.${key}`,
        component: c,
        parameters: names,
        intervalMs: decl.intervalMs,
        enabled: decl.enabled ?? true,
        description: decl.description ?? '',
      });
    }
  }
  const housekeepingById = index('housekeeping structure ID', housekeeping, (e) => e.id, problems);

  const monitors: MonitorEntry[] = [];
  for (const component of components) {
    const c = component.name;
    for (const [key, decl] of Object.entries((component.monitors ?? {}) as Record<string, MonitorDecl>)) {
      const where = `monitor ${c}.${key}`;
      if (!UPPER_NAME.test(key)) problems.push(`${where}: name must be UPPER_SNAKE_CASE`);
      const parameter = `${c}.${decl.parameter}`;
      if (!telemetry.some((t) => t.name === parameter))
        problems.push(`${where}: ${parameter} is not telemetry of ${c}`);
      const persistence = decl.persistence ?? 1;
      if (!(Number.isInteger(persistence) && persistence >= 1))
        problems.push(`${where}: persistence must be an integer >= 1`);
      const check = decl.check;
      if (check.kind === 'limit' && !(check.low <= check.high))
        problems.push(`${where}: low ${check.low} > high ${check.high}`);
      if (check.kind === 'delta' && check.minDelta === undefined && check.maxDelta === undefined) {
        problems.push(`${where}: a delta check needs minDelta or maxDelta`);
      }
      monitors.push({
        id: decl.id,
        name: `${c}.${key}`,
        component: c,
        parameter,
        check,
        persistence,
        enabled: decl.enabled ?? true,
        description: decl.description ?? '',
      });
    }
  }
  const monitorById = index('monitor ID', monitors, (e) => e.id, problems);

  const commandByOpcode = index('command opcode', commands, (e) => e.opcode, problems);
  const telemetryById = index('telemetry ID', telemetry, (e) => e.id, problems);
  const eventById = index('event ID', events, (e) => e.id, problems);
  const paramById = index('parameter ID', params, (e) => e.id, problems);
  if (problems.length > 0) throw new DictionaryError(problems);

  const byId =
    <E extends { name: string }>(key: (e: E) => number) =>
    (a: E, b: E) =>
      key(a) - key(b);
  commands.sort(byId((e) => e.opcode));
  telemetry.sort(byId((e) => e.id));
  events.sort(byId((e) => e.id));
  params.sort(byId((e) => e.id));
  housekeeping.sort(byId((e) => e.id));
  monitors.sort(byId((e) => e.id));

  const content = dictionaryContent(mission, commands, telemetry, events, params, housekeeping, monitors);
  const canonicalJson = canonicalStringify(content);
  return {
    mission,
    components,
    commands,
    telemetry,
    events,
    params,
    commandByOpcode,
    commandByName: new Map(commands.map((e) => [e.name, e])),
    telemetryById,
    telemetryByName: new Map(telemetry.map((e) => [e.name, e])),
    eventById,
    eventByName: new Map(events.map((e) => [e.name, e])),
    paramById,
    paramByName: new Map(params.map((e) => [e.name, e])),
    housekeeping,
    housekeepingById,
    monitors,
    monitorById,
    crc32: crc32(new TextEncoder().encode(canonicalJson)),
    canonicalJson,
  };
}

function index<E extends { name: string }>(
  what: string,
  entries: readonly E[],
  key: (entry: E) => number,
  problems: string[],
): Map<number, E> {
  const map = new Map<number, E>();
  for (const entry of entries) {
    const id = key(entry);
    if (!Number.isInteger(id) || id < 0 || id > 0xffff) {
      problems.push(`${what} ${id} of ${entry.name} is not a 16-bit unsigned integer`);
      continue;
    }
    const holder = map.get(id);
    if (holder !== undefined) {
      problems.push(`${what} ${hex(id)} is declared twice: by ${holder.name} and by ${entry.name}`);
      continue;
    }
    map.set(id, entry);
  }
  return map;
}

function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return value;
}

function argsJson(args: Readonly<Record<string, DataType>>) {
  // Arrays, not objects: argument order is the wire order and must survive key sorting.
  return Object.entries(args).map(([name, type]) => ({ name, ...typeToJson(type) }));
}

function dictionaryContent(
  mission: MissionInfo,
  commands: readonly CommandEntry[],
  telemetry: readonly TelemetryEntry[],
  events: readonly EventEntry[],
  params: readonly ParamEntry[],
  housekeeping: readonly HousekeepingEntry[],
  monitors: readonly MonitorEntry[],
) {
  return {
    format: 'skynode-dictionary/1',
    mission: { name: mission.name, spacecraftId: mission.spacecraftId, apid: mission.apid },
    modes: [...SYSTEM_MODES],
    commands: commands.map((e) => ({
      opcode: e.opcode,
      name: e.name,
      hazardous: e.hazardous,
      ...(e.modes ? { modes: [...e.modes] } : {}),
      args: argsJson(e.args),
      description: e.description,
    })),
    telemetry: telemetry.map((e) => ({
      id: e.id,
      name: e.name,
      type: typeToJson(e.type),
      description: e.description,
    })),
    events: events.map((e) => ({
      id: e.id,
      name: e.name,
      severity: e.severity,
      args: argsJson(e.args),
      message: e.message,
      description: e.description,
    })),
    parameters: params.map((e) => ({
      id: e.id,
      name: e.name,
      type: typeToJson(e.type),
      default: jsonValue(e.default),
      description: e.description,
    })),
    housekeeping: housekeeping.map((e) => ({
      id: e.id,
      name: e.name,
      parameters: [...e.parameters],
      intervalMs: e.intervalMs,
      enabled: e.enabled,
      description: e.description,
    })),
    // Only when there are any: a mission without monitors keeps the dictionary (and its CRC) it had before.
    ...(monitors.length > 0
      ? {
          monitors: monitors.map((e) => ({
            id: e.id,
            name: e.name,
            parameter: e.parameter,
            check: { ...e.check },
            persistence: e.persistence,
            enabled: e.enabled,
            description: e.description,
          })),
        }
      : {}),
  };
}

/** JSON with object keys sorted at every level and no whitespace: the form whose CRC-32 identifies a dictionary. */
export function canonicalStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalStringify(v)}`).join(',')}}`;
}

/**
 * The dictionary as printed by `skynode dict --format json`: the canonical content plus `crc32` (hex). A ground
 * station recomputes the CRC over the canonical form of everything except `crc32` to check its copy.
 */
export function dictionaryToJson(dictionary: MissionDictionary): Record<string, unknown> {
  const content = JSON.parse(dictionary.canonicalJson) as Record<string, unknown>;
  return { ...content, crc32: `0x${dictionary.crc32.toString(16).padStart(8, '0')}` };
}

/** Housekeeping structures by ID: qualified telemetry names in packing order (what a decoder needs). */
export function housekeepingStructures(dictionary: MissionDictionary): Map<number, string[]> {
  return new Map(dictionary.housekeeping.map((e) => [e.id, [...e.parameters]]));
}
