/**
 * skynode's thermal governor: a power_allocator-family PID that holds the junction just under its limit, for as
 * much compute as the radiator can carry and never a kelvin-second over.
 *
 * allowance = S + kp * err + I - slew, clamped to [minPowerW, maxPowerW], where
 * - err = setpoint - T, setpoint = limitC - marginK;
 * - S is the sustainable power, learned online while the junction is steady (|dT/dt| < learnRateKPerS), from the
 *   measured power (the allowance when none is measured), with time constant learnTimeS: within learnBandK of the
 *   set point S follows that power and the integral gives up what S takes (bumpless), so learning reshapes the
 *   gains without a step in the output; further off, a steady power below the set point is a lower bound on S (one
 *   above it an upper bound), and S moves to meet a bound it violates, so a bad first guess is outgrown;
 * - kp = S / pBandK under the set point and overGain times that over it (IPA's k_pu/k_po, inverted: near the limit
 *   we cut harder than we restore); the integral's gain is kp / integralTimeS per second;
 * - I integrates only while |err| < integralCutoffK and not while the output is saturated in the direction of the
 *   error (conditional integration), and stays within the range that keeps S + I in [min, max];
 * - slew: a feed-forward cut while the junction is within slewBandK below the limit and rising: kp times the rise
 *   expected over slewHorizonS (dT/dt from an exponential filter of the step-to-step slope), weighted by how deep
 *   into the band the junction is;
 * - guard: at or above limitC - guardK the allowance is minPowerW whatever the PID says;
 * - rise limit: the allowance falls at once but rises at most riseWPerS, so a fast junction (a small heat capacity
 *   over the cold plate) cut back by the guard or the slew term does not ring against the limit;
 * - sensor fallback: when `sensorOk` is false (or no temperature), the allowance is config.safeFallbackW (default
 *   minPowerW) and the state 'sensor-fallback'; the slope estimate restarts on recovery, the learned S is kept.
 *
 * `step` allocates nothing: it returns one reused output object.
 */

import { clamp, type MutableGovernorOutput } from './common.js';
import type { GovernorConfig, GovernorInput, GovernorOutput, ThermalGovernor } from './governor.js';

export interface SkynodeTuning {
  /** The set point's distance below the limit, K; default 1.5. Keep it above the sensor's resolution. */
  readonly marginK?: number;
  /** The initial sustainable-power estimate, W; default the middle of [minPowerW, maxPowerW]. */
  readonly sustainableW?: number;
  /** Proportional band: kp = S / pBandK, W/K; default 8 K. */
  readonly pBandK?: number;
  /** kp multiplier over the set point; default 1.5. */
  readonly overGain?: number;
  /** Integral time, s: ki = kp / integralTimeS; default 30. */
  readonly integralTimeS?: number;
  /** Integrate only while |err| is under this, K; default 3. */
  readonly integralCutoffK?: number;
  /** Within this distance of the set point S follows the steady power (further off it only meets bounds), K; default 1. */
  readonly learnBandK?: number;
  /** Learn S only while |dT/dt| is under this, K/s; default 0.02. */
  readonly learnRateKPerS?: number;
  /** Time constant of the sustainable-power estimate, s; default 120. */
  readonly learnTimeS?: number;
  /** Time constant of the dT/dt filter, s; default 4. */
  readonly rateFilterS?: number;
  /** The band below the limit where a rising junction cuts the allowance, K; default 6. */
  readonly slewBandK?: number;
  /** How far ahead the slew cut looks, s; default 5. */
  readonly slewHorizonS?: number;
  /** At or above limitC - guardK the allowance is minPowerW; default 0.4 K. */
  readonly guardK?: number;
  /** The fastest the allowance may rise, W/s (cuts are immediate); default (maxPowerW - minPowerW) / 30 per s. */
  readonly riseWPerS?: number;
}

export const SKYNODE_DEFAULTS: Required<Omit<SkynodeTuning, 'sustainableW' | 'riseWPerS'>> = {
  marginK: 1.5,
  pBandK: 8,
  overGain: 1.5,
  integralTimeS: 30,
  integralCutoffK: 3,
  learnBandK: 1,
  learnRateKPerS: 0.02,
  learnTimeS: 120,
  rateFilterS: 4,
  slewBandK: 6,
  slewHorizonS: 5,
  guardK: 0.4,
};

export type SkynodeState =
  | 'sensor-fallback'
  | 'guard'
  | 'slew-limit'
  | 'full'
  | 'rising'
  | 'floor'
  | 'tracking';

export class SkynodeGovernor implements ThermalGovernor {
  readonly name = 'skynode' as const;
  readonly tuning: Required<SkynodeTuning>;
  readonly setpointC: number;
  private readonly config: GovernorConfig;
  private readonly fallbackW: number;
  private readonly out: MutableGovernorOutput;
  private sustainable: number;
  private integral = 0;
  private rate = 0;
  private prevC: number | undefined;
  private prevTimeS: number | undefined;
  /** When the last output was given (a fallback one included), for the rise limit. */
  private outTimeS: number | undefined;

  constructor(config: GovernorConfig, tuning: SkynodeTuning = {}) {
    this.config = config;
    const t: Required<SkynodeTuning> = {
      ...SKYNODE_DEFAULTS,
      sustainableW: (config.minPowerW + config.maxPowerW) / 2,
      riseWPerS: (config.maxPowerW - config.minPowerW) / 30,
      ...definedOnly(tuning),
    };
    for (const key of ['pBandK', 'integralTimeS', 'learnTimeS', 'slewBandK', 'riseWPerS'] as const) {
      if (!(t[key] > 0)) throw new RangeError(`skynode governor: ${key} must be > 0, not ${t[key]}`);
    }
    for (const key of [
      'marginK',
      'overGain',
      'integralCutoffK',
      'rateFilterS',
      'slewHorizonS',
      'guardK',
    ] as const) {
      if (!(t[key] >= 0)) throw new RangeError(`skynode governor: ${key} must be >= 0, not ${t[key]}`);
    }
    this.tuning = t;
    this.setpointC = config.limitC - t.marginK;
    this.fallbackW = config.safeFallbackW ?? config.minPowerW;
    this.sustainable = clamp(t.sustainableW, config.minPowerW, config.maxPowerW);
    this.out = { allowanceW: config.maxPowerW, state: 'full' };
  }

  /** The learned sustainable power, W. */
  get sustainableW(): number {
    return this.sustainable;
  }

  step(input: GovernorInput): GovernorOutput {
    const out = this.out;
    const { minPowerW, maxPowerW, limitC } = this.config;
    const tn = this.tuning;
    const temp = input.junctionC;
    if (!input.sensorOk || temp === undefined || !Number.isFinite(temp)) {
      this.prevC = undefined;
      this.prevTimeS = undefined;
      this.rate = 0;
      this.outTimeS = input.timeS;
      out.allowanceW = this.fallbackW;
      out.state = 'sensor-fallback';
      return out;
    }

    const dt = this.prevTimeS === undefined ? 0 : input.timeS - this.prevTimeS;
    if (dt > 0 && this.prevC !== undefined) {
      const raw = (temp - this.prevC) / dt;
      this.rate += (raw - this.rate) * (dt / (tn.rateFilterS + dt));
    }
    if (this.prevTimeS === undefined || dt > 0) {
      this.prevC = temp;
      this.prevTimeS = input.timeS;
    }

    // Learn the sustainable power S* (the power that holds the set point) from a steady junction. Near the set point
    // S follows the power that holds it there, the integral giving up what S takes (bumpless). Further off, steady
    // points still bound S*: a power that holds the junction steady below the set point is less than S*, one that
    // holds it above is more; S moves toward such a bound when it is on the wrong side of it.
    const err = this.setpointC - temp;
    if (dt > 0 && Math.abs(this.rate) < tn.learnRateKPerS) {
      const measured =
        input.powerW !== undefined && Number.isFinite(input.powerW) ? input.powerW : out.allowanceW;
      const gain = dt / (tn.learnTimeS + dt);
      const s0 = this.sustainable;
      if (Math.abs(err) < tn.learnBandK) {
        const next = clamp(s0 + (measured - s0) * gain, minPowerW, maxPowerW);
        this.integral -= next - s0;
        this.sustainable = next;
      } else if ((err > 0 && measured > s0) || (err < 0 && measured < s0)) {
        this.sustainable = clamp(s0 + (measured - s0) * gain, minPowerW, maxPowerW);
      }
    }

    const s = this.sustainable;
    const kp = s / tn.pBandK;
    const prop = (err < 0 ? kp * tn.overGain : kp) * err;
    const bandLow = limitC - tn.slewBandK;
    let slew = 0;
    if (temp > bandLow && this.rate > 0) {
      const depth = Math.min(1, (temp - bandLow) / tn.slewBandK);
      slew = kp * this.rate * tn.slewHorizonS * depth;
    }

    // The allowance may fall at once but rises at most riseWPerS: a fast junction cut back by the guard or the slew
    // term then climbs back gently instead of ringing against the limit.
    const prevOut = out.allowanceW;
    const outDt =
      this.outTimeS === undefined ? Number.POSITIVE_INFINITY : Math.max(0, input.timeS - this.outTimeS);
    this.outTimeS = input.timeS;
    const ceiling = Math.min(maxPowerW, prevOut + tn.riseWPerS * outDt);

    // Conditional integration: not while saturated (or rise-limited) in the error's direction, not far away.
    const before = s + prop + this.integral - slew;
    if (dt > 0 && Math.abs(err) < tn.integralCutoffK && !(before >= ceiling && err > 0)) {
      if (!(before <= minPowerW && err < 0)) {
        this.integral = clamp(
          this.integral + (kp / tn.integralTimeS) * err * dt,
          minPowerW - s,
          maxPowerW - s,
        );
      }
    }
    const u = s + prop + this.integral - slew;

    if (temp >= limitC - tn.guardK) {
      out.allowanceW = minPowerW;
      out.state = 'guard';
    } else if (u >= ceiling) {
      out.allowanceW = ceiling;
      out.state = ceiling >= maxPowerW ? 'full' : 'rising';
    } else if (u <= minPowerW) {
      out.allowanceW = minPowerW;
      out.state = slew > 0 ? 'slew-limit' : 'floor';
    } else {
      out.allowanceW = u;
      out.state = slew > 0.02 * s ? 'slew-limit' : 'tracking';
    }
    return out;
  }

  reset(): void {
    this.sustainable = clamp(this.tuning.sustainableW, this.config.minPowerW, this.config.maxPowerW);
    this.integral = 0;
    this.rate = 0;
    this.prevC = undefined;
    this.prevTimeS = undefined;
    this.outTimeS = undefined;
    this.out.allowanceW = this.config.maxPowerW;
    this.out.state = 'full';
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const r: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  return r;
}
