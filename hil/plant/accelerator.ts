/**
 * The accelerator's power and compute against its clock (the model in `params.ts`): P(f) = staticW + dynamicW *
 * (f / maxMHz)^3, compute proportional to f. Under a power cap it runs at the highest clock whose power fits the
 * cap and the frequency ceiling, never below minMHz. Pure functions.
 */
import type { AcceleratorParams } from './params.js';

/** Power drawn at `mhz` while on, W. */
export function acceleratorPowerW(acc: AcceleratorParams, mhz: number): number {
  const x = mhz / acc.maxMHz;
  return acc.staticW + acc.dynamicW * x * x * x;
}

/** Power at the top clock: the largest cap that constrains anything (a real device's default/TDP cap). */
export function maxPowerW(acc: AcceleratorParams): number {
  return acc.staticW + acc.dynamicW;
}

/**
 * The clock the device runs at under a power cap and an optional frequency ceiling: the highest f in [minMHz,
 * maxMHz] with P(f) <= cap and f <= ceiling, or minMHz when even that is more than the cap (or the ceiling is
 * below it).
 */
export function frequencyForCap(acc: AcceleratorParams, capW: number, ceilingMHz?: number): number {
  const headroom = (capW - acc.staticW) / acc.dynamicW;
  const byCap = headroom > 0 ? acc.maxMHz * Math.cbrt(headroom) : 0;
  const top = Math.min(acc.maxMHz, ceilingMHz ?? acc.maxMHz);
  return Math.max(acc.minMHz, Math.min(byCap, top));
}

/** Compute delivered at `mhz`: computeAtMax * f / maxMHz. */
export function computeRate(acc: AcceleratorParams, mhz: number): number {
  return (acc.computeAtMax * mhz) / acc.maxMHz;
}

/** The clock at which the device draws `watts` (the inverse of P(f)), clamped to [minMHz, maxMHz]. */
export function frequencyForPower(acc: AcceleratorParams, watts: number): number {
  return frequencyForCap(acc, watts);
}

/**
 * The power cap that makes the device run at `mhz`: P(mhz), kept within what the device accepts [minPowerCapW,
 * P(maxMHz)]. Below the clock the smallest cap gives, a cap cannot get there (use a frequency ceiling).
 */
export function capForFrequency(acc: AcceleratorParams, mhz: number): number {
  const f = Math.max(acc.minMHz, Math.min(acc.maxMHz, mhz));
  return Math.max(acc.minPowerCapW, Math.min(maxPowerW(acc), acceleratorPowerW(acc, f)));
}

/** The clock that delivers `rate` of compute (the inverse of computeRate), clamped to [minMHz, maxMHz]. */
export function frequencyForCompute(acc: AcceleratorParams, rate: number): number {
  return Math.max(acc.minMHz, Math.min(acc.maxMHz, (rate / acc.computeAtMax) * acc.maxMHz));
}
