/**
 * NVIDIA data-centre and desktop GPUs through `nvidia-smi`: temperature, power, clocks, utilisation and the
 * driver's clocks-event (throttle) reasons; power caps (`-pl`) and clock ceilings (`--lock-gpu-clocks`).
 *
 * The tool rather than NVML itself: it ships with every driver, needs no native binding, and its CSV query
 * interface has been stable for a decade. Each read is one short-lived process bounded by a timeout, so a wedged
 * driver costs one slow read, never a hung rate group.
 */
import { gradedReader, type HalContext, within } from '../io.js';
import { DEFAULT_TOOL_TIMEOUT_MS, runTool } from '../tools.js';
import type {
  AcceleratorControl,
  AcceleratorLimits,
  AcceleratorSample,
  ActuationResult,
  DeviceInfo,
  ThrottleReason,
} from '../types.js';

/** Bits of NVML's nvmlClocksEventReasons (formerly nvmlClocksThrottleReasons); the values are the same in both. */
const REASON_BITS: ReadonlyArray<readonly [bigint, ThrottleReason]> = [
  [0x1n, 'idle'],
  [0x2n, 'application-clocks'],
  [0x4n, 'power-cap'],
  [0x8n, 'hw-slowdown'],
  [0x10n, 'sync-boost'],
  [0x20n, 'sw-thermal'],
  [0x40n, 'hw-thermal'],
  [0x80n, 'hw-power-brake'],
  [0x100n, 'display-clocks'],
];

/**
 * Maps nvidia-smi's `clocks_event_reasons.active` bitmask (`0x0000000000000024`) to throttle reasons. Bits NVML
 * adds later are ignored rather than guessed at; N/A gives no reasons. BigInt because the mask is 64-bit.
 */
export function throttleReasonsFromMask(mask: string | undefined): ThrottleReason[] {
  const text = present(mask);
  if (text === undefined || !/^0x[0-9a-f]+$/i.test(text)) return [];
  const bits = BigInt(text);
  return REASON_BITS.filter(([bit]) => (bits & bit) !== 0n).map(([, reason]) => reason);
}

/** nvidia-smi writes `[N/A]`, `[Not Supported]`, `[Unknown Error]` for what a GPU cannot report. */
function present(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '' || text === 'N/A' || /^\[.*\]$/.test(text)) return undefined;
  return text;
}

function numeric(value: string | undefined): number | undefined {
  const text = present(value);
  if (text === undefined) return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}

/**
 * Rows of `--format=csv,noheader,nounits` output. Values are separated by `, `; names hold spaces but never
 * commas, so a plain split is safe. A row with the wrong number of columns means output we do not understand.
 */
function csvRows(text: string, columns: number): string[][] {
  const rows = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => line.split(',').map((value) => value.trim()));
  for (const row of rows) {
    if (row.length !== columns) {
      throw new Error(`nvidia-smi: expected ${columns} values, read '${row.join(', ').slice(0, 120)}'`);
    }
  }
  return rows;
}

const REASONS_FIELD = 'clocks_event_reasons.active';
/** The name drivers before R535 use for the same bitmask. */
const OLD_REASONS_FIELD = 'clocks_throttle_reasons.active';

const READ_FIELDS = [
  'index',
  'uuid',
  'name',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'enforced.power.limit',
  'clocks.sm',
  'clocks.mem',
  'utilization.gpu',
] as const;

const LIST_FIELDS = [
  'index',
  'uuid',
  'name',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'clocks.sm',
] as const;

export interface NvidiaGpuRow {
  readonly index: number;
  readonly uuid: string;
  readonly name: string;
  readonly celsius?: number;
  readonly watts?: number;
  readonly powerCapW?: number;
  readonly coreMHz?: number;
}

function binaryHint(binary: string): string {
  return `${binary} not found on PATH: install the NVIDIA driver utilities (nvidia-utils) or give the driver the tool's full path`;
}

/** The GPUs nvidia-smi sees, for probing a board. Never rejects: an absent or failing tool gives none and why. */
export async function listNvidiaGpus(
  ctx: Pick<HalContext, 'env'>,
  binary = 'nvidia-smi',
): Promise<{ readonly gpus: readonly NvidiaGpuRow[]; readonly error?: string }> {
  const outcome = await runTool(ctx, binary, [
    `--query-gpu=${LIST_FIELDS.join(',')}`,
    '--format=csv,noheader,nounits',
  ]);
  if (!outcome.ok) return { gpus: [], error: outcome.missing ? binaryHint(binary) : outcome.error };
  try {
    const gpus = csvRows(outcome.stdout, LIST_FIELDS.length).map(
      ([index, uuid, name, celsius, watts, cap, core]): NvidiaGpuRow => ({
        index: numeric(index) ?? -1,
        uuid: present(uuid) ?? '',
        name: present(name) ?? '',
        ...optional('celsius', numeric(celsius)),
        ...optional('watts', numeric(watts)),
        ...optional('powerCapW', numeric(cap)),
        ...optional('coreMHz', numeric(core)),
      }),
    );
    return { gpus };
  } catch (error) {
    return { gpus: [], error: (error as Error).message };
  }
}

/** `{ key: value }` when the value is known, `{}` otherwise: optional fields are omitted, never undefined. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

export interface NvidiaSmiAcceleratorOptions {
  /** The GPU's index as nvidia-smi numbers it (default 0). */
  readonly index?: number;
  /** The GPU's UUID (`GPU-...`); preferred over the index when given, as indices can change across boots. */
  readonly uuid?: string;
  /** The tool to run (default `nvidia-smi`, found on the context's PATH). */
  readonly binary?: string;
  /** How long one invocation may take (default 5000 ms). */
  readonly timeoutMs?: number;
}

/** An nvidia-smi accelerator: it can always attempt both kinds of cap (the driver may still refuse them). */
export interface NvidiaSmiAccelerator extends AcceleratorControl {
  setPowerCap(watts: number): Promise<ActuationResult>;
  setFrequencyCeiling(mhz: number): Promise<ActuationResult>;
}

/** Parses `nvidia-smi -q -d TEMPERATURE`: `GPU Shutdown Temp : 92 C`, tolerating N/A. */
export function parseTemperatureLimits(text: string): { slowdownC?: number; shutdownC?: number } {
  // Anchored on the exact labels: newer drivers also print `GPU Shutdown T.Limit Temp`, a margin relative to a
  // limit they do not print, which must not be read as an absolute temperature.
  const find = (label: string): number | undefined => {
    const match = new RegExp(`^\\s*${label}\\s*:\\s*(-?\\d+(?:\\.\\d+)?)\\s*C\\s*$`, 'm').exec(text);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  };
  return {
    ...optional('slowdownC', find('GPU Slowdown Temp')),
    ...optional('shutdownC', find('GPU Shutdown Temp')),
  };
}

/** The highest of `ascending` at or below `wanted`, or the lowest when all are above it (the best we can do). */
export function snapDown(ascending: readonly number[], wanted: number): number | undefined {
  let chosen = ascending[0];
  for (const value of ascending) if (value <= wanted) chosen = value;
  return chosen;
}

export function nvidiaSmiAccelerator(
  ctx: HalContext,
  options: NvidiaSmiAcceleratorOptions = {},
): NvidiaSmiAccelerator {
  const binary = options.binary ?? 'nvidia-smi';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  const target = options.uuid ?? String(options.index ?? 0);
  let info: DeviceInfo = { source: `GPU ${target}`, driver: 'nvidia-smi' };
  // Which name this driver knows the reasons bitmask by; learned from the first query that is refused.
  let reasonsField = REASONS_FIELD;
  let knownLimits: AcceleratorLimits | undefined;

  const run = async (args: readonly string[]): Promise<string> => {
    const outcome = await runTool(ctx, binary, args, { timeoutMs });
    if (outcome.ok) return outcome.stdout;
    throw new Error(outcome.missing ? binaryHint(binary) : outcome.error);
  };

  const queryRow = async (fields: readonly string[]): Promise<string[]> => {
    const stdout = await run([
      `--query-gpu=${fields.join(',')}`,
      '--format=csv,noheader,nounits',
      '-i',
      target,
    ]);
    const [row] = csvRows(stdout, fields.length);
    if (!row) throw new Error(`nvidia-smi printed nothing for GPU ${target}`);
    return row;
  };

  const sample = async (): Promise<AcceleratorSample> => {
    let row: string[];
    try {
      row = await queryRow([...READ_FIELDS, reasonsField]);
    } catch (error) {
      const message = (error as Error).message;
      if (reasonsField === REASONS_FIELD && message.includes('is not a valid field to query')) {
        reasonsField = OLD_REASONS_FIELD;
        row = await queryRow([...READ_FIELDS, reasonsField]);
      } else throw error;
    }
    const [index, uuid, name, temperature, draw, limit, enforced, sm, mem, utilization, reasons] = row;
    const celsius = numeric(temperature);
    if (celsius === undefined) throw new Error(`GPU ${target} reports no temperature ('${temperature}')`);
    info = {
      source: `GPU ${present(index) ?? target} ${present(name) ?? 'NVIDIA GPU'}${present(uuid) ? ` (${uuid})` : ''}`,
      driver: 'nvidia-smi',
    };
    const percent = numeric(utilization);
    return {
      celsius,
      ...optional('watts', numeric(draw)),
      // The enforced limit includes caps set out of band (a BMC); the user limit is the fallback.
      ...optional('powerCapW', numeric(enforced) ?? numeric(limit)),
      ...optional('coreMHz', numeric(sm)),
      ...optional('memoryMHz', numeric(mem)),
      ...optional('utilization', percent === undefined ? undefined : percent / 100),
      throttleReasons: throttleReasonsFromMask(reasons),
    };
  };

  const read = gradedReader(ctx, sample, {
    holdLastGoodMs: 10_000,
    plausible: (value) => within(0, 130, 'degC')(value.celsius),
  });

  const supportedClocks = async (): Promise<number[] | undefined> => {
    const outcome = await runTool(
      ctx,
      binary,
      ['--query-supported-clocks=graphics', '--format=csv,noheader,nounits', '-i', target],
      { timeoutMs },
    );
    if (!outcome.ok) return undefined;
    // One row per (memory, graphics) pair, so a clock repeats for each memory clock.
    const clocks = outcome.stdout
      .split('\n')
      .map((line) => numeric(line))
      .filter((value): value is number => value !== undefined);
    return clocks.length > 0 ? [...new Set(clocks)].sort((a, b) => a - b) : undefined;
  };

  const sampleLimits = async (): Promise<AcceleratorLimits> => {
    const [min, max, fallback] = await queryRow([
      'power.min_limit',
      'power.max_limit',
      'power.default_limit',
    ]);
    // The temperatures and clocks are extras: a GPU that cannot report them still has power limits.
    const temperatures = await runTool(ctx, binary, ['-q', '-d', 'TEMPERATURE', '-i', target], { timeoutMs });
    const clocks = await supportedClocks();
    const limits: AcceleratorLimits = {
      ...optional('minPowerCapW', numeric(min)),
      ...optional('maxPowerCapW', numeric(max)),
      ...optional('defaultPowerCapW', numeric(fallback)),
      ...optional('frequenciesMHz', clocks),
      ...(temperatures.ok ? parseTemperatureLimits(temperatures.stdout) : {}),
    };
    knownLimits = limits;
    return limits;
  };

  const limits = gradedReader(ctx, sampleLimits, { holdLastGoodMs: 60_000 });

  /** Limits for validating a command: the last good ones (they do not change), else a fresh query. */
  const limitsForCommand = async (): Promise<AcceleratorLimits | undefined> => {
    if (knownLimits) return knownLimits;
    const reading = await limits();
    return reading.quality === 'failed' ? undefined : reading.value;
  };

  const command = async (args: readonly string[]): Promise<ActuationResult> => {
    const outcome = await runTool(ctx, binary, args, { timeoutMs });
    if (outcome.ok) return { ok: true };
    return { ok: false, error: outcome.missing ? binaryHint(binary) : outcome.error };
  };

  return {
    get info() {
      return info;
    },
    read,
    limits,
    async setPowerCap(watts) {
      if (!Number.isFinite(watts) || watts <= 0) return { ok: false, error: `invalid power cap ${watts} W` };
      const known = await limitsForCommand();
      const min = known?.minPowerCapW;
      const max = known?.maxPowerCapW;
      if (min !== undefined && max !== undefined && (watts < min || watts > max)) {
        return { ok: false, error: `power cap ${watts} W is outside ${min}..${max} W for GPU ${target}` };
      }
      // Without known limits the tool validates the value itself and says why it refuses.
      return command(['-i', target, '-pl', String(Math.round(watts * 100) / 100)]);
    },
    async setFrequencyCeiling(mhz) {
      if (!Number.isFinite(mhz) || mhz <= 0)
        return { ok: false, error: `invalid frequency ceiling ${mhz} MHz` };
      const known = await limitsForCommand();
      // A clock the GPU does not support is rounded by the driver in ways that differ between generations;
      // snapping down here keeps the ceiling a ceiling.
      const clocks = known?.frequenciesMHz;
      const ceiling = clocks && clocks.length > 0 ? (snapDown(clocks, mhz) ?? mhz) : Math.floor(mhz);
      return command(['-i', target, `--lock-gpu-clocks=0,${ceiling}`]);
    },
  };
}
