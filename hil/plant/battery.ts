/**
 * The battery: a Li-ion NMC pack as an energy store with charge and discharge efficiencies, a charger limit and a
 * shunt, and an open-circuit voltage from a cell curve (the model in `params.ts`). Pure functions.
 */
import type { BatteryParams } from './params.js';

/**
 * Open-circuit voltage of one NMC cell against state of charge, rested, at room temperature: [soc, volts]. The
 * usual shape: a steep knee below ~10 %, a long gently rising plateau through the middle, steepening towards the
 * 4.2 V top of charge.
 */
export const NMC_CELL_OCV: readonly (readonly [number, number])[] = [
  [0, 3.0],
  [0.02, 3.25],
  [0.05, 3.4],
  [0.1, 3.5],
  [0.2, 3.58],
  [0.3, 3.64],
  [0.4, 3.69],
  [0.5, 3.75],
  [0.6, 3.83],
  [0.7, 3.92],
  [0.8, 4.0],
  [0.9, 4.08],
  [1.0, 4.2],
];

/** One cell's open-circuit voltage at `soc` (clamped to 0..1), by linear interpolation in `NMC_CELL_OCV`. */
export function cellOcv(soc: number): number {
  const table = NMC_CELL_OCV;
  const s = Math.min(1, Math.max(0, Number.isFinite(soc) ? soc : 0));
  for (let i = 1; i < table.length; i++) {
    const [s1, v1] = table[i] as readonly [number, number];
    if (s <= s1) {
      const [s0, v0] = table[i - 1] as readonly [number, number];
      return v0 + ((v1 - v0) * (s - s0)) / (s1 - s0);
    }
  }
  return (table[table.length - 1] as readonly [number, number])[1];
}

/** The pack's open-circuit voltage: seriesCells * cellOcv(soc). */
export function packOcv(battery: BatteryParams, soc: number): number {
  return battery.seriesCells * cellOcv(soc);
}

/** Usable capacity, Wh: capacityWh * (1 - capacityFade). */
export function usableCapacityWh(battery: BatteryParams, capacityFade = battery.capacityFade ?? 0): number {
  return battery.capacityWh * (1 - Math.min(1, Math.max(0, capacityFade)));
}

/** Where the bus's net power went over one step. All powers are on the bus side, W, and non-negative. */
export interface BatteryFlow {
  /** Into the charger (stored at chargeEfficiency). */
  readonly chargeW: number;
  /** Out of the battery onto the bus (it gives up dischargeW / dischargeEfficiency of stored energy). */
  readonly dischargeW: number;
  /** Surplus burned in the shunt: beyond maxChargeW, or with the battery full. */
  readonly shuntW: number;
  /** Load the battery could not carry because it is empty (a brown-out; 0 otherwise). */
  readonly unmetW: number;
  /** Stored energy after the step, Wh. */
  readonly storedWh: number;
}

/**
 * Applies the bus's net power (solar minus loads) to the battery for `dtS` seconds: a surplus charges it at up
 * to maxChargeW and the rest is shunted (all of it when full); a deficit discharges it.
 */
export function batteryStep(
  battery: BatteryParams,
  storedWh: number,
  usableWh: number,
  netW: number,
  dtS: number,
): BatteryFlow {
  const hours = dtS / 3600;
  if (netW >= 0) {
    const roomWh = Math.max(0, usableWh - storedWh);
    const roomW = hours > 0 ? roomWh / (battery.chargeEfficiency * hours) : 0;
    const chargeW = Math.min(netW, battery.maxChargeW, roomW);
    const storedAfter =
      chargeW === roomW
        ? Math.max(storedWh, usableWh)
        : storedWh + chargeW * battery.chargeEfficiency * hours;
    return { chargeW, dischargeW: 0, shuntW: netW - chargeW, unmetW: 0, storedWh: storedAfter };
  }
  const deficitW = -netW;
  const availableW = hours > 0 ? (Math.max(0, storedWh) * battery.dischargeEfficiency) / hours : 0;
  const dischargeW = Math.min(deficitW, availableW);
  const storedAfter =
    dischargeW === availableW
      ? Math.min(storedWh, 0)
      : storedWh - (dischargeW / battery.dischargeEfficiency) * hours;
  return { chargeW: 0, dischargeW, shuntW: 0, unmetW: deficitW - dischargeW, storedWh: storedAfter };
}

export interface BatteryElectrical {
  readonly ocv: number;
  /** Positive charging, A. */
  readonly amps: number;
  /** Terminal voltage, V: OCV - I R with I positive discharging (so above OCV while charging). */
  readonly volts: number;
}

/** Current and terminal voltage for a battery power (positive charging, W) at `soc`. */
export function batteryElectrical(battery: BatteryParams, soc: number, batteryW: number): BatteryElectrical {
  const ocv = packOcv(battery, soc);
  const amps = batteryW / ocv;
  return { ocv, amps, volts: ocv + amps * battery.internalResistanceOhm };
}
