/**
 * The thermal governors of the AI accelerator: pure control laws that turn a junction temperature into a thermal
 * allowance for the accelerator's power. They do no I/O and read no clock: mission time comes in with each input,
 * so the same governor runs in flight, in the HIL plant and in a unit test alike.
 *
 * Four governors share one interface: `skynode` (ours), and three baselines after the Linux thermal framework:
 * `power_allocator` (IPA), `step_wise` and `bang_bang`. Each is allocation-light: `step` returns an object that the
 * governor reuses, valid until its next `step` (copy the fields to keep them).
 */
import type { TripPoint } from '../hal/types.js';
import { BangBangGovernor, type BangBangTuning } from './bang-bang.js';
import { PowerAllocatorGovernor, type PowerAllocatorTuning } from './power-allocator.js';
import { SkynodeGovernor, type SkynodeTuning } from './skynode.js';
import { StepWiseGovernor, type StepWiseTuning } from './step-wise.js';

export interface GovernorInput {
  /** Mission time, s (monotonic). */
  readonly timeS: number;
  /** Junction temperature, degC; undefined when the sensor failed. */
  readonly junctionC: number | undefined;
  /** False when the reading is stale, failed, stuck or implausible (see `sensor-check.ts`). */
  readonly sensorOk: boolean;
  /** Measured accelerator power, W, when known. */
  readonly powerW?: number;
}

export interface GovernorConfig {
  /** The lowest power the accelerator can be capped to while on, W. */
  readonly minPowerW: number;
  /** The highest power it can draw, W. */
  readonly maxPowerW: number;
  /** The junction limit, degC: above it is a violation. */
  readonly limitC: number;
  /** The zone's trip points (passive, hot, critical), in any order. */
  readonly trips: readonly TripPoint[];
  /** The cap a governor that falls back on a failed sensor applies (skynode), W; default minPowerW. */
  readonly safeFallbackW?: number;
}

export interface GovernorOutput {
  /** The thermal allowance for the accelerator's power, W, within [minPowerW, maxPowerW]. */
  readonly allowanceW: number;
  /** What the governor is doing, for telemetry ('tracking', 'sensor-fallback', ...). */
  readonly state: string;
}

export type GovernorName = 'skynode' | 'power_allocator' | 'step_wise' | 'bang_bang';

export interface ThermalGovernor {
  readonly name: GovernorName;
  /** One control step. The returned object is reused by the governor: valid until the next `step`. */
  step(input: GovernorInput): GovernorOutput;
  /** Forgets all history (integrals, trends, learned estimates return to their initial values). */
  reset(): void;
}

/** The tuning each governor accepts. */
export interface GovernorTunings {
  readonly skynode: SkynodeTuning;
  readonly power_allocator: PowerAllocatorTuning;
  readonly step_wise: StepWiseTuning;
  readonly bang_bang: BangBangTuning;
}

export const GOVERNOR_NAMES: readonly GovernorName[] = [
  'skynode',
  'power_allocator',
  'step_wise',
  'bang_bang',
];

/** Throws a RangeError when a configuration cannot be controlled against. */
export function validateConfig(config: GovernorConfig): void {
  const { minPowerW, maxPowerW, limitC } = config;
  if (!Number.isFinite(minPowerW) || !Number.isFinite(maxPowerW) || minPowerW < 0 || maxPowerW < minPowerW) {
    throw new RangeError(`thermal governor: bad power range [${minPowerW}, ${maxPowerW}] W`);
  }
  if (!Number.isFinite(limitC)) throw new RangeError(`thermal governor: bad limit ${limitC} degC`);
  const fallback = config.safeFallbackW;
  if (fallback !== undefined && !(fallback >= 0 && fallback <= maxPowerW)) {
    throw new RangeError(`thermal governor: safeFallbackW ${fallback} W outside [0, ${maxPowerW}]`);
  }
}

export function createGovernor<N extends GovernorName>(
  name: N,
  config: GovernorConfig,
  tuning?: GovernorTunings[N],
): ThermalGovernor {
  validateConfig(config);
  switch (name) {
    case 'skynode':
      return new SkynodeGovernor(config, tuning as SkynodeTuning | undefined);
    case 'power_allocator':
      return new PowerAllocatorGovernor(config, tuning as PowerAllocatorTuning | undefined);
    case 'step_wise':
      return new StepWiseGovernor(config, tuning as StepWiseTuning | undefined);
    case 'bang_bang':
      return new BangBangGovernor(config, tuning as BangBangTuning | undefined);
    default:
      throw new RangeError(`unknown thermal governor '${String(name)}'`);
  }
}
