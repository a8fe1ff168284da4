/**
 * Linux's power_allocator governor (IPA, `drivers/thermal/gov_power_allocator.c`), as a baseline: a PID controller
 * on the error `control_temp - temperature`, feeding forward the zone's sustainable power.
 *
 * What it does, as the kernel does it:
 * - switch_on_temp is the first (lowest) passive trip, control_temp the last (highest); with one passive trip there
 *   is no switch-on temperature and that trip is the control temperature (with none, the last active trip, else the
 *   configured limit).
 * - Below switch_on_temp the governor resets its PID state and allows maximum power.
 * - P: `k_po * err` when at or over the control temperature (err < 0), `k_pu * err` when under.
 * - I: `k_i * err_integral`; the error is accumulated only while `err < integral_cutoff`, and only when the I term
 *   that results stays within the maximum allocatable power (the kernel's anti-windup). The kernel accumulates once
 *   per invocation (its polling period), not per second; so does this class, once per `step`.
 * - D: `k_d * (err - prev_err) / period_ms`.
 * - power = sustainable_power + p + i + d, clamped to [0, max] and then, by the cooling device's state range, to
 *   [minPowerW, maxPowerW].
 * - Defaults when a zone gives none (`estimate_pid_constants`, `estimate_sustainable_power`): sustainable_power is
 *   the sum of the cooling devices' minimum power (here `minPowerW`); with threshold = control - switch_on (or
 *   control itself when there is no switch-on trip), k_po = sustainable / threshold, k_pu = 2 * sustainable /
 *   threshold; k_d = 0, integral_cutoff = 0. For k_i the kernel has had two rules: 10/1000 originally ('legacy'),
 *   k_pu / 10 in current mainline ('mainline'). A threshold of 0 leaves the constants at 0, as the kernel gives up.
 * - A failed temperature read skips the update in the kernel: the cooling state holds. Here, `sensorOk` false holds
 *   the previous allowance (state 'hold').
 *
 * Units: the kernel works in mW and millidegrees; its constants are ratios (mW/m°C = W/K), so they carry over to W
 * and K unchanged.
 */

import { clamp, type MutableGovernorOutput, passiveTrips } from './common.js';
import type { GovernorConfig, GovernorInput, GovernorOutput, ThermalGovernor } from './governor.js';

export interface PowerAllocatorTuning {
  /** The zone's sustainable power, W; default: minPowerW (the kernel's estimate). */
  readonly sustainableW?: number;
  /** Proportional gain when over the control temperature, W/K. */
  readonly kPo?: number;
  /** Proportional gain when under the control temperature, W/K. */
  readonly kPu?: number;
  /** Integral gain, W/(K step). */
  readonly kI?: number;
  /** Derivative gain, W ms/K. */
  readonly kD?: number;
  /** Integrate only while err < integralCutoff, K. */
  readonly integralCutoff?: number;
  /** The control temperature, degC. */
  readonly controlC?: number;
  /** The switch-on temperature, degC; undefined: always on. */
  readonly switchOnC?: number;
}

/** The rule for the kernel's default k_i: 10/1000 before it changed, k_pu / 10 in current mainline. */
export type KernelKiRule = 'legacy' | 'mainline';

export interface PowerAllocatorParams {
  readonly sustainableW: number;
  readonly kPo: number;
  readonly kPu: number;
  readonly kI: number;
  readonly kD: number;
  readonly integralCutoff: number;
  readonly controlC: number;
  readonly switchOnC: number | undefined;
}

/** The trips the kernel governs by: switch-on (first passive) and control (last passive). */
export function governorTrips(config: GovernorConfig): { controlC: number; switchOnC: number | undefined } {
  const passive = passiveTrips(config.trips);
  const first = passive[0];
  const last = passive[passive.length - 1];
  if (first !== undefined && last !== undefined && passive.length >= 2) {
    return { controlC: last.celsius, switchOnC: first.celsius };
  }
  if (first !== undefined) return { controlC: first.celsius, switchOnC: undefined };
  let lastActive: number | undefined;
  for (const t of config.trips) if (t.type === 'active') lastActive = t.celsius;
  return { controlC: lastActive ?? config.limitC, switchOnC: undefined };
}

/** The tuning the kernel would derive for this zone when it provides none. */
export function kernelDefaults(
  config: GovernorConfig,
  kiRule: KernelKiRule = 'legacy',
): PowerAllocatorParams {
  const { controlC, switchOnC } = governorTrips(config);
  const sustainableW = config.minPowerW;
  const threshold = switchOnC === undefined ? controlC : controlC - switchOnC;
  const kPo = threshold === 0 ? 0 : sustainableW / threshold;
  const kPu = threshold === 0 ? 0 : (2 * sustainableW) / threshold;
  const kI = threshold === 0 ? 0 : kiRule === 'legacy' ? 10 / 1000 : Math.max(kPu / 10, 1 / 1024);
  return { sustainableW, kPo, kPu, kI, kD: 0, integralCutoff: 0, controlC, switchOnC };
}

export class PowerAllocatorGovernor implements ThermalGovernor {
  readonly name = 'power_allocator' as const;
  readonly params: PowerAllocatorParams;
  private readonly config: GovernorConfig;
  private readonly out: MutableGovernorOutput;
  private errIntegral = 0;
  private prevErr = 0;
  private prevTimeS: number | undefined;

  constructor(config: GovernorConfig, tuning: PowerAllocatorTuning = {}, kiRule: KernelKiRule = 'legacy') {
    this.config = config;
    const defaults = kernelDefaults(config, kiRule);
    // Like the kernel, constants not given are estimated from the sustainable power actually in use.
    const sustainableW = tuning.sustainableW ?? defaults.sustainableW;
    const controlC = tuning.controlC ?? defaults.controlC;
    const switchOnC = 'switchOnC' in tuning ? tuning.switchOnC : defaults.switchOnC;
    const threshold = switchOnC === undefined ? controlC : controlC - switchOnC;
    const kPu = tuning.kPu ?? (threshold === 0 ? 0 : (2 * sustainableW) / threshold);
    this.params = {
      sustainableW,
      kPo: tuning.kPo ?? (threshold === 0 ? 0 : sustainableW / threshold),
      kPu,
      kI: tuning.kI ?? (threshold === 0 ? 0 : kiRule === 'legacy' ? 10 / 1000 : Math.max(kPu / 10, 1 / 1024)),
      kD: tuning.kD ?? defaults.kD,
      integralCutoff: tuning.integralCutoff ?? defaults.integralCutoff,
      controlC,
      switchOnC,
    };
    this.out = { allowanceW: config.maxPowerW, state: 'idle' };
  }

  step(input: GovernorInput): GovernorOutput {
    const out = this.out;
    const t = input.junctionC;
    if (!input.sensorOk || t === undefined || !Number.isFinite(t)) {
      out.state = 'hold';
      return out;
    }
    const { maxPowerW, minPowerW } = this.config;
    const p = this.params;
    const dtS = this.prevTimeS === undefined ? 0 : input.timeS - this.prevTimeS;
    this.prevTimeS = input.timeS;
    if (p.switchOnC !== undefined && t < p.switchOnC) {
      this.errIntegral = 0;
      this.prevErr = 0;
      out.allowanceW = maxPowerW;
      out.state = 'idle';
      return out;
    }
    const err = p.controlC - t;
    const prop = (err < 0 ? p.kPo : p.kPu) * err;
    let integral = p.kI * this.errIntegral;
    if (err < p.integralCutoff) {
      const next = integral + p.kI * err;
      if (Math.abs(next) < maxPowerW) {
        integral = next;
        this.errIntegral += err;
      }
    }
    const deriv = dtS > 0 ? (p.kD * (err - this.prevErr)) / (dtS * 1000) : 0;
    this.prevErr = err;
    const power = clamp(p.sustainableW + prop + integral + deriv, 0, maxPowerW);
    out.allowanceW = clamp(power, minPowerW, maxPowerW);
    out.state = 'control';
    return out;
  }

  reset(): void {
    this.errIntegral = 0;
    this.prevErr = 0;
    this.prevTimeS = undefined;
    this.out.allowanceW = this.config.maxPowerW;
    this.out.state = 'idle';
  }
}

/** The power_allocator governor; tuning not given takes the kernel's defaults for the zone. */
export function powerAllocator(
  config: GovernorConfig,
  tuning: PowerAllocatorTuning = {},
  kiRule: KernelKiRule = 'legacy',
): PowerAllocatorGovernor {
  return new PowerAllocatorGovernor(config, tuning, kiRule);
}
