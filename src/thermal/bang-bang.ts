/**
 * A bang-bang baseline (after Linux's bang_bang governor, which switches a cooling device fully on or off around a
 * trip with hysteresis): full power until the junction reaches limitC - onsetBelowLimitK; then minPowerW until it
 * falls below that threshold minus the hysteresis; then full power again. A failed reading holds the last output.
 */

import type { MutableGovernorOutput } from './common.js';
import type { GovernorConfig, GovernorInput, GovernorOutput, ThermalGovernor } from './governor.js';

export interface BangBangTuning {
  /** How far below the limit it cuts power, K; default 1. */
  readonly onsetBelowLimitK?: number;
  /** How far below the onset it restores full power, K; default 3. */
  readonly hysteresisK?: number;
}

export class BangBangGovernor implements ThermalGovernor {
  readonly name = 'bang_bang' as const;
  readonly onC: number;
  readonly offC: number;
  private readonly config: GovernorConfig;
  private readonly out: MutableGovernorOutput;
  private cooling = false;

  constructor(config: GovernorConfig, tuning: BangBangTuning = {}) {
    this.config = config;
    this.onC = config.limitC - (tuning.onsetBelowLimitK ?? 1);
    this.offC = this.onC - (tuning.hysteresisK ?? 3);
    this.out = { allowanceW: config.maxPowerW, state: 'full' };
  }

  step(input: GovernorInput): GovernorOutput {
    const t = input.junctionC;
    if (!input.sensorOk || t === undefined || !Number.isFinite(t)) return this.out;
    if (this.cooling ? t >= this.offC : t >= this.onC) {
      this.cooling = true;
      this.out.allowanceW = this.config.minPowerW;
      this.out.state = 'cooling';
    } else {
      this.cooling = false;
      this.out.allowanceW = this.config.maxPowerW;
      this.out.state = 'full';
    }
    return this.out;
  }

  reset(): void {
    this.cooling = false;
    this.out.allowanceW = this.config.maxPowerW;
    this.out.state = 'full';
  }
}
