/**
 * The example node: a small orbital compute node whose physics makes the power/thermal problem worth solving.
 *
 * The trade-off, at 550 km and beta 0 (see the comments on each part and tests/unit/hil/defaults.test.ts):
 * - Flat out (400 W) the junction passes 85 degC about 16 minutes into the first sunlit pass and settles near
 *   102 degC, and the first eclipse drains the battery empty (a 0.3 floor needs <= ~240 W through the eclipse).
 * - A constant 200 W cap (1470 MHz, 74 % of the compute) stays within both: junction <= ~60 degC, state of
 *   charge >= ~0.38.
 * - Between the two the limits bind differently: the battery limits what the eclipse can carry (~240 W), the
 *   radiator what the orbit can average (~315 W), so a plan that runs harder in sunlight and softer in eclipse
 *   beats any constant cap. That is what the controllers and the optimum (`../optimum.ts`) are judged on.
 */
import type { PlantParams } from './params.js';

/** Every field optional, at any depth (arrays are replaced whole). */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { readonly [K in keyof T]?: DeepPartial<T[K]> }
    : T;

export type PlantOverrides = DeepPartial<PlantParams>;

export const EXAMPLE_NODE: PlantParams = {
  // 550 km, beta 0: a 95.5 min orbit with the longest eclipse, 37 % of it (35.5 min). Starts at local noon.
  orbit: { altitudeKm: 550, betaDeg: 0, startPhase: 0 },
  // 4 m^2 of 30 % triple-junction cells, 0.85 for pointing and packing: 1388 W sunlit, far more than the node
  // draws, so in sunlight the charger's limit and the shunt set the balance, not the array.
  solar: { areaM2: 4, efficiency: 0.3, pointingFactor: 0.85 },
  // 8s3p of 3.5 Ah NMC 18650s: 28.8 V nominal, 10.5 Ah, ~300 Wh, charged at up to 1C. Sized for the eclipse at a
  // throttled load: 35.5 min at the full 505 W takes 308 Wh from it (more than it holds); at 345 W (a ~240 W
  // accelerator) it just keeps to the 0.3 floor.
  battery: {
    capacityWh: 300,
    seriesCells: 8,
    internalResistanceOhm: 0.04,
    chargeEfficiency: 0.95,
    dischargeEfficiency: 0.97,
    maxChargeW: 300,
    initialSoc: 0.8,
  },
  // A datacentre-class part: 400 W at 1980 MHz (60 W static), 990 TFLOP/s there; 100 W at ~970 MHz under the
  // lowest cap it accepts.
  accelerator: {
    minMHz: 345,
    maxMHz: 1980,
    staticW: 60,
    dynamicW: 340,
    computeAtMax: 990,
    minPowerCapW: 100,
  },
  // The junction sits 0.06 K/W over the cold plate (24 K at 400 W), the cold plate 0.03 K/W over the radiator
  // through heat pipes (15 K at 505 W). The radiator is a 1.2 m^2 nadir-facing white panel (emissivity 0.88,
  // absorptivity 0.2): it absorbs ~212 W of Earth IR and up to ~83 W of albedo at noon, and rejects ~515 W more
  // near 60 degC. At a constant accelerator power P the junction's orbit peak settles near 16 degC + 0.215 K/W * P:
  // ~102 degC flat out, 82 at 300 W, 60 at 200 W, so the thermal limit holds the orbit average near 315 W. The
  // masses (a 4 kg cold plate, a 10 kJ/K panel) give a ~25 min time constant: the node swings ~5 K over an orbit,
  // warmest just after noon. The temperatures at the start are those of a node that has been running at ~200 W.
  thermal: {
    junction: { heatCapacityJPerK: 60, initialC: 55 },
    coldPlate: { heatCapacityJPerK: 4000, initialC: 45 },
    radiator: {
      heatCapacityJPerK: 10000,
      initialC: 35,
      areaM2: 1.2,
      emissivity: 0.88,
      absorptivity: 0.2,
    },
    junctionToColdPlateKPerW: 0.06,
    coldPlateToRadiatorKPerW: 0.03,
  },
  // 60 W of avionics plus 45 W of switched loads: the bus carries 105 W with the accelerator off.
  loads: {
    baseW: 60,
    switched: [
      { name: 'payload-heater', watts: 20, initiallyOn: true },
      { name: 'camera', watts: 15, initiallyOn: true },
      { name: 'accelerator-aux', watts: 10, initiallyOn: true },
    ],
  },
  limits: { junctionMaxC: 85, batteryFloorSoc: 0.3 },
};

/** The example node, with any fields overridden (nested objects merge; arrays replace). */
export function exampleNode(overrides: PlantOverrides = {}): PlantParams {
  const merged: Record<string, unknown> = {};
  for (const key of Object.keys(EXAMPLE_NODE) as (keyof PlantParams)[]) {
    merged[key] = mergeDeep(EXAMPLE_NODE[key], overrides[key]);
  }
  return merged as unknown as PlantParams;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function mergeDeep(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = mergeDeep(base[key], value);
  return out;
}
