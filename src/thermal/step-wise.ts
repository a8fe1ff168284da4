/**
 * Linux's step_wise governor (`drivers/thermal/gov_step_wise.c`), as a baseline. The accelerator is a cooling
 * device with `states` + 1 cooling states: state 0 allows maxPowerW, state `states` allows minPowerW, evenly spaced
 * in power between. On each step, against one passive trip:
 * - throttling (temperature >= the trip, or, once throttling, >= trip - hysteresis) and the trend rising: one state
 *   up (less power);
 * - not throttling and the trend dropping: one state down (more power);
 * - otherwise (throttling but steady or dropping, not throttling but steady or rising) the state holds.
 * The trend is the kernel's default (`get_tz_trend`): this temperature against the previous one, strictly: a steady
 * reading neither raises nor lowers the state, as in the kernel. A failed reading skips the step (the
 * state holds), as the kernel skips an update when a temperature read fails.
 */

import { type MutableGovernorOutput, passiveTrips } from './common.js';
import type { GovernorConfig, GovernorInput, GovernorOutput, ThermalGovernor } from './governor.js';

export interface StepWiseTuning {
  /** Number of cooling states above 0 (the highest allows minPowerW); default 10. */
  readonly states?: number;
  /** The trip it throttles at, degC; default the last (highest) passive trip, else limitC - 5. */
  readonly tripC?: number;
  /** Hysteresis below the trip, K; default the trip's own hysteresis, else 2 K. */
  readonly hysteresisK?: number;
}

export class StepWiseGovernor implements ThermalGovernor {
  readonly name = 'step_wise' as const;
  readonly states: number;
  readonly tripC: number;
  readonly hysteresisK: number;
  private readonly config: GovernorConfig;
  private readonly stateNames: readonly string[];
  private readonly out: MutableGovernorOutput;
  private state = 0;
  private throttling = false;
  private prevC: number | undefined;

  constructor(config: GovernorConfig, tuning: StepWiseTuning = {}) {
    this.config = config;
    const states = Math.round(tuning.states ?? 10);
    if (!(states >= 1)) throw new RangeError(`step_wise: states must be >= 1, not ${tuning.states}`);
    this.states = states;
    const passive = passiveTrips(config.trips);
    const trip = passive[passive.length - 1];
    this.tripC = tuning.tripC ?? trip?.celsius ?? config.limitC - 5;
    this.hysteresisK =
      tuning.hysteresisK ?? (tuning.tripC === undefined ? trip?.hysteresisC : undefined) ?? 2;
    this.stateNames = Array.from({ length: states + 1 }, (_, i) => `state-${i}`);
    this.out = { allowanceW: config.maxPowerW, state: this.stateNames[0]! };
  }

  /** The allowance of a cooling state. */
  powerOf(state: number): number {
    const { minPowerW, maxPowerW } = this.config;
    return maxPowerW - ((maxPowerW - minPowerW) * state) / this.states;
  }

  step(input: GovernorInput): GovernorOutput {
    const t = input.junctionC;
    if (!input.sensorOk || t === undefined || !Number.isFinite(t)) return this.out;
    const prev = this.prevC;
    this.prevC = t;
    const trend = prev === undefined ? 0 : t - prev;
    this.throttling = t >= this.tripC || (this.throttling && t >= this.tripC - this.hysteresisK);
    if (this.throttling) {
      if (trend > 0 && this.state < this.states) this.state++;
    } else if (trend < 0 && this.state > 0) {
      this.state--;
    }
    this.out.allowanceW = this.powerOf(this.state);
    this.out.state = this.stateNames[this.state]!;
    return this.out;
  }

  /** The cooling state now, 0 (max power) .. states (min power). */
  get coolingState(): number {
    return this.state;
  }

  reset(): void {
    this.state = 0;
    this.throttling = false;
    this.prevC = undefined;
    this.out.allowanceW = this.config.maxPowerW;
    this.out.state = this.stateNames[0]!;
  }
}
