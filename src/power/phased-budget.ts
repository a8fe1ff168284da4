/**
 * The accelerator's energy allowance, planned per light phase. Sunlit energy is cheap: what the array gives beyond
 * the loads and the charger's limit is shunted anyway, and what powers the accelerator directly pays no battery
 * losses. Eclipse energy comes out of the battery, through both efficiencies. So the plan is two powers, one for
 * the rest of this sunlit pass and one for the coming eclipse, chosen to deliver the most compute (compute grows
 * about as the cube root of power, so the plan spreads power as evenly as the battery lets it) with the battery
 * full enough at sunset to carry the eclipse power down to its floor plus margin by sunrise.
 *
 * In eclipse the allowance is what the stored energy above the floor carries until sunrise.
 */
import type { EclipseForecast } from './eclipse.js';
import type { PowerMode } from './modes.js';

export type PhasedReason = 'eclipse-floor' | 'sunset-charge' | 'max' | 'survival';

export interface PhasedBudgetOptions {
  /** The accelerator's largest draw, W. */
  readonly maxPowerW: number;
  readonly floorSoc: number;
  /** Kept above the floor, against forecast and measurement error. Default 0.05. */
  readonly marginSoc?: number;
  readonly chargeEfficiency?: number;
  readonly dischargeEfficiency?: number;
  readonly maxChargeW?: number;
  /** Candidate eclipse powers tried when planning, default 24. */
  readonly planSteps?: number;
}

export interface PhasedBudgetInput {
  readonly nowS: number;
  readonly storedWh: number;
  readonly usableWh: number;
  /** Every load but the accelerator, W. */
  readonly otherLoadsW: number;
  readonly forecast: EclipseForecast;
  /**
   * What the thermal system lets the accelerator draw, W (its recent allowance): power planned above it would
   * deliver nothing, so the plan moves that energy to where it can be used.
   */
  readonly thermalHintW: number;
  readonly mode: PowerMode;
}

export interface PhasedBudgetResult {
  /** The allowance now, W. */
  readonly powerW: number;
  readonly reason: PhasedReason;
  /** The power planned for the coming (or current) eclipse, W. */
  readonly eclipsePlanW: number;
  /** The state of charge the plan expects at the next sunset (sunlit) or sunrise (eclipse). */
  readonly expectedSoc: number;
}

/** Compute per unit time at power P, up to a constant: the cube-root law of dynamic power. */
const utility = (powerW: number): number => Math.cbrt(Math.max(0, powerW));

export class PhasedEnergyBudget {
  private readonly marginSoc: number;
  private readonly chargeEfficiency: number;
  private readonly dischargeEfficiency: number;
  private readonly maxChargeW: number;
  private readonly planSteps: number;

  constructor(private readonly options: PhasedBudgetOptions) {
    this.marginSoc = options.marginSoc ?? 0.05;
    this.chargeEfficiency = options.chargeEfficiency ?? 0.95;
    this.dischargeEfficiency = options.dischargeEfficiency ?? 0.95;
    this.maxChargeW = options.maxChargeW ?? Number.POSITIVE_INFINITY;
    this.planSteps = options.planSteps ?? 24;
  }

  /** Stored energy after `hours` in sunlight with the accelerator at `powerW`. */
  private afterSun(storedWh: number, usableWh: number, hours: number, solarW: number, loadW: number): number {
    const surplus = solarW - loadW;
    if (surplus >= 0)
      return Math.min(
        usableWh,
        storedWh + Math.min(surplus, this.maxChargeW) * this.chargeEfficiency * hours,
      );
    return storedWh + (surplus / this.dischargeEfficiency) * hours;
  }

  allowance(input: PhasedBudgetInput): PhasedBudgetResult {
    const max = this.options.maxPowerW;
    const floorWh = (this.options.floorSoc + this.marginSoc) * input.usableWh;
    const soc = (wh: number) => (input.usableWh > 0 ? wh / input.usableWh : 0);
    if (input.mode === 'SURVIVAL') {
      return { powerW: 0, reason: 'survival', eclipsePlanW: 0, expectedSoc: soc(input.storedWh) };
    }
    const f = input.forecast;
    const other = input.otherLoadsW;
    const etaD = this.dischargeEfficiency;
    if (f.inEclipse) {
      const hours = Math.max(1 / 3600, (f.nextChangeS - input.nowS) / 3600);
      const power = ((input.storedWh - floorWh) * etaD) / hours - other;
      const powerW = Math.min(max, Math.max(0, power));
      return {
        powerW,
        reason: powerW >= max ? 'max' : 'eclipse-floor',
        eclipsePlanW: powerW,
        expectedSoc: soc(input.storedWh - ((powerW + other) * hours) / etaD),
      };
    }
    const next = f.windows.find((w) => w.endS > input.nowS && w.startS >= input.nowS - 1e-6);
    const solarW = f.sunlitW;
    if (!next || !Number.isFinite(f.nextChangeS)) {
      // No eclipse ahead: only the array limits the accelerator (the battery only smooths the array's dips; with
      // no eclipse to recharge after, drawing on it beyond the array would drain it through its floor).
      const powerW = Math.min(max, Math.max(0, solarW - other));
      return {
        powerW,
        reason: 'max',
        eclipsePlanW: 0,
        expectedSoc: soc(input.storedWh),
      };
    }
    const sunHours = Math.max(0, (next.startS - input.nowS) / 3600);
    const eclipseHours = Math.max(1 / 3600, (next.endS - next.startS) / 3600);
    const needAtSunset = (eclipseW: number) => floorWh + ((eclipseW + other) * eclipseHours) / etaD;
    // The sunlit power that still leaves `needWh` at sunset: stored energy at sunset falls as the power rises.
    const sunPowerFor = (needWh: number): number => {
      if (this.afterSun(input.storedWh, input.usableWh, sunHours, solarW, other + max) >= needWh) return max;
      if (this.afterSun(input.storedWh, input.usableWh, sunHours, solarW, other) < needWh) return -1;
      let lo = 0;
      let hi = max;
      for (let i = 0; i < 30; i++) {
        const mid = (lo + hi) / 2;
        if (this.afterSun(input.storedWh, input.usableWh, sunHours, solarW, other + mid) >= needWh) lo = mid;
        else hi = mid;
      }
      return lo;
    };
    const hint = Math.max(0, Math.min(max, input.thermalHintW));
    let best = { sunW: -1, eclipseW: 0, value: Number.NEGATIVE_INFINITY };
    for (let i = 0; i <= this.planSteps; i++) {
      const eclipseW = (max * i) / this.planSteps;
      const sunW = sunPowerFor(needAtSunset(eclipseW));
      if (sunW < 0) break;
      const value = sunHours * utility(Math.min(sunW, hint)) + eclipseHours * utility(eclipseW);
      if (value > best.value + 1e-12) best = { sunW, eclipseW, value };
    }
    if (best.sunW < 0) {
      // Even with the accelerator off the battery will not hold the eclipse: charge all it can.
      return {
        powerW: 0,
        reason: 'sunset-charge',
        eclipsePlanW: 0,
        expectedSoc: soc(this.afterSun(input.storedWh, input.usableWh, sunHours, solarW, other)),
      };
    }
    const powerW = best.sunW;
    return {
      powerW,
      reason: powerW >= max ? 'max' : 'sunset-charge',
      eclipsePlanW: best.eclipseW,
      expectedSoc: soc(this.afterSun(input.storedWh, input.usableWh, sunHours, solarW, other + powerW)),
    };
  }
}
