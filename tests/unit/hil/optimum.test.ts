import { beforeAll, describe, expect, it } from 'vitest';
import {
  computeHullRate,
  maxAcceleratorPowerW,
  type OptimumResult,
  optimum,
  score,
  type UpperBounds,
  upperBounds,
} from '../../../hil/optimum.js';
import {
  EARTH_MU_KM3_S2,
  EARTH_RADIUS_KM,
  KELVIN,
  type PlantParams,
  STEFAN_BOLTZMANN,
} from '../../../hil/plant/params.js';

/**
 * The example node of the brief, built here from the types so that tuning the HIL defaults does not move it.
 */
const NODE: PlantParams = {
  orbit: { altitudeKm: 550, betaDeg: 0, startPhase: 0 },
  solar: { areaM2: 4, efficiency: 0.3 },
  battery: {
    capacityWh: 1500,
    seriesCells: 8,
    internalResistanceOhm: 0.04,
    chargeEfficiency: 0.95,
    dischargeEfficiency: 0.97,
    maxChargeW: 800,
    initialSoc: 0.8,
  },
  accelerator: {
    minMHz: 345,
    maxMHz: 1980,
    staticW: 60,
    dynamicW: 340,
    computeAtMax: 990,
    minPowerCapW: 100,
  },
  thermal: {
    junction: { heatCapacityJPerK: 60, initialC: 30 },
    coldPlate: { heatCapacityJPerK: 8000, initialC: 25 },
    radiator: { heatCapacityJPerK: 30000, initialC: 15, areaM2: 2.5, emissivity: 0.88, absorptivity: 0.2 },
    junctionToColdPlateKPerW: 0.06,
    coldPlateToRadiatorKPerW: 0.03,
  },
  loads: {
    baseW: 60,
    switched: [
      { name: 'heater', watts: 20, initiallyOn: true },
      { name: 'camera', watts: 15, initiallyOn: true },
      { name: 'aux', watts: 10, initiallyOn: true },
    ],
  },
  limits: { junctionMaxC: 85, batteryFloorSoc: 0.3 },
};

function variant(patch: {
  betaDeg?: number;
  radiatorDegradation?: number;
  solarDegradation?: number;
}): PlantParams {
  return {
    ...NODE,
    orbit: { ...NODE.orbit, betaDeg: patch.betaDeg ?? NODE.orbit.betaDeg },
    solar: { ...NODE.solar, degradation: patch.solarDegradation ?? 0 },
    thermal: {
      ...NODE.thermal,
      radiator: { ...NODE.thermal.radiator, degradation: patch.radiatorDegradation ?? 0 },
    },
  };
}

const R_KM = EARTH_RADIUS_KM + NODE.orbit.altitudeKm;
const PERIOD_S = 2 * Math.PI * Math.sqrt((R_KM * R_KM * R_KM) / EARTH_MU_KM3_S2);
const DURATION_S = 3 * PERIOD_S;
const LOAD_W = 60 + 20 + 15 + 10;
/** Relative tolerance on compute comparisons (LP feasibility tolerances are 1e-7). */
const REL = 1e-6;

interface Case {
  readonly params: PlantParams;
  readonly bounds: UpperBounds;
  readonly result: OptimumResult;
}

async function solveCase(params: PlantParams): Promise<Case> {
  return { params, bounds: upperBounds(params, DURATION_S), result: await optimum(params, DURATION_S) };
}

/**
 * Backward Euler of the cold plate and radiator with the exact T^4 rejection (the LP's tangent lies under it,
 * so these temperatures are no higher than the LP's), and the quasi-static junction, from the plan's powers.
 */
function replayThermal(
  params: PlantParams,
  result: OptimumResult,
): { junctionC: number[]; radiatorC: number[] } {
  const th = params.thermal;
  const rad = th.radiator;
  const k = rad.emissivity * (1 - (rad.degradation ?? 0)) * rad.areaM2 * STEFAN_BOLTZMANN;
  const gcr = 1 / th.coldPlateToRadiatorKPerW;
  let tc = th.coldPlate.initialC;
  let tr = rad.initialC;
  const junctionC: number[] = [];
  const radiatorC: number[] = [];
  for (const step of result.perStep) {
    const cp = th.coldPlate.heatCapacityJPerK / step.durationS;
    const cr = rad.heatCapacityJPerK / step.durationS;
    const coldPlateOf = (trNew: number): number =>
      (step.powerW + LOAD_W + cp * tc + gcr * trNew) / (cp + gcr);
    const residual = (trNew: number): number =>
      (cr + gcr) * trNew -
      gcr * coldPlateOf(trNew) +
      k * ((trNew + KELVIN) ** 4 - 81) -
      step.heatInW -
      cr * tr;
    let lo = -KELVIN + 3;
    let hi = 1000;
    for (let i = 0; i < 100; i++) {
      const mid = (lo + hi) / 2;
      if (residual(mid) > 0) hi = mid;
      else lo = mid;
    }
    tr = lo;
    tc = coldPlateOf(tr);
    radiatorC.push(tr);
    junctionC.push(tc + step.powerW * th.junctionToColdPlateKPerW);
  }
  return { junctionC, radiatorC };
}

/**
 * The stored energy the plan's powers allow when the battery takes every watt of surplus it can (the plant's
 * dispatch): an upper envelope of any LP dispatch, so it must clear the floor and end no lower than it
 * started.
 */
function replayEnergy(params: PlantParams, result: OptimumResult): number[] {
  const bat = params.battery;
  let stored = bat.initialSoc * bat.capacityWh;
  return result.perStep.map((step) => {
    const net = step.solarW - LOAD_W - step.powerW;
    const hours = step.durationS / 3600;
    stored +=
      net >= 0
        ? Math.min(net, bat.maxChargeW) * bat.chargeEfficiency * hours
        : (net / bat.dischargeEfficiency) * hours;
    stored = Math.min(stored, bat.capacityWh);
    return stored;
  });
}

function checkPlan(c: Case): void {
  const { params, result } = c;
  expect(result.status).toBe('Optimal');
  expect(result.perStep.length).toBe(Math.ceil(DURATION_S / 60));
  const pMax = maxAcceleratorPowerW(params.accelerator);
  let total = 0;
  let energy = 0;
  for (const step of result.perStep) {
    expect(step.powerW).toBeGreaterThanOrEqual(0);
    expect(step.powerW).toBeLessThanOrEqual(pMax + 1e-6);
    expect(step.compute).toBeLessThanOrEqual(computeHullRate(params.accelerator, step.powerW) + 1e-6);
    expect(step.junctionC).toBeLessThanOrEqual(params.limits.junctionMaxC + 1e-6);
    expect(step.chargeW).toBeLessThanOrEqual(params.battery.maxChargeW + 1e-6);
    total += step.compute * step.durationS;
    energy += step.powerW * step.durationS;
  }
  expect(result.compute).toBeCloseTo(total, 3);
  expect(result.averagePowerW).toBeCloseTo(energy / DURATION_S, 6);

  const thermal = replayThermal(params, result);
  result.perStep.forEach((step, i) => {
    expect(thermal.junctionC[i]!).toBeLessThanOrEqual(params.limits.junctionMaxC + 1e-6);
    expect(thermal.radiatorC[i]!).toBeLessThanOrEqual(step.radiatorC + 1e-6);
  });

  const usable = params.battery.capacityWh;
  const floor = params.limits.batteryFloorSoc * usable;
  const initial = params.battery.initialSoc * usable;
  const stored = replayEnergy(params, result);
  stored.forEach((wh, i) => {
    expect(wh).toBeGreaterThanOrEqual(floor - 1e-6);
    expect(wh).toBeGreaterThanOrEqual(result.perStep[i]!.storedWh - 1e-6);
  });
  expect(stored.at(-1)!).toBeGreaterThanOrEqual(initial - 1e-6);
  expect(result.perStep.at(-1)!.storedWh).toBeGreaterThanOrEqual(initial - 1e-6);
  // Each solve's plan stays feasible in the next, so the compute never falls across iterations.
  for (let i = 1; i < result.history.length; i++) {
    expect(result.history[i]!).toBeGreaterThanOrEqual(result.history[i - 1]! * (1 - REL));
  }
}

function checkBounds(c: Case): void {
  const limit = (x: number): number => x * (1 + REL) + 1e-6;
  expect(c.result.compute).toBeLessThanOrEqual(limit(c.bounds.compute));
  expect(c.result.compute).toBeLessThanOrEqual(limit(c.bounds.thermalCompute));
  expect(c.result.compute).toBeLessThanOrEqual(limit(c.bounds.energyCompute));
  expect(c.result.averagePowerW).toBeLessThanOrEqual(limit(c.bounds.energyPowerW));
  expect(c.result.averagePowerW).toBeLessThanOrEqual(limit(c.bounds.thermalPowerW));
}

describe('computeHullRate', () => {
  const acc = NODE.accelerator;
  const powerAt = (mhz: number): number => acc.staticW + acc.dynamicW * (mhz / acc.maxMHz) ** 3;

  it('is 0 at 0 W, computeAtMax at P(max) and beyond, and concave in between', () => {
    expect(computeHullRate(acc, 0)).toBe(0);
    expect(maxAcceleratorPowerW(acc)).toBe(400);
    expect(computeHullRate(acc, 400)).toBeCloseTo(990, 9);
    expect(computeHullRate(acc, 1000)).toBe(990);
    for (let p = 5; p < 395; p += 5) {
      const mid = computeHullRate(acc, p);
      expect(mid).toBeGreaterThanOrEqual(
        (computeHullRate(acc, p - 5) + computeHullRate(acc, p + 5)) / 2 - 1e-9,
      );
    }
  });

  it('covers every clock, and is linear up to the most efficient one', () => {
    for (let mhz = acc.minMHz; mhz <= acc.maxMHz; mhz += 55) {
      expect(computeHullRate(acc, powerAt(mhz))).toBeGreaterThanOrEqual((990 * mhz) / acc.maxMHz - 1e-9);
    }
    // Most compute per watt where x^3 = static / (2 dynamic), so P = 1.5 * static: 90 W here.
    const perWatt = computeHullRate(acc, 90) / 90;
    expect(perWatt).toBeCloseTo((990 * Math.cbrt(60 / 680)) / 90, 9);
    expect(computeHullRate(acc, 30) / 30).toBeCloseTo(perWatt, 9);
    expect(computeHullRate(acc, 120) / 120).toBeLessThan(perWatt);
    expect(computeHullRate(acc, 300) / 300).toBeLessThan(perWatt);
  });
});

describe('upperBounds', () => {
  it('rejects a non-positive duration', () => {
    expect(() => upperBounds(NODE, 0)).toThrow(RangeError);
  });

  it('caps both bounds at P(max) for the example node, which is neither power- nor heat-limited', () => {
    const b = upperBounds(NODE, DURATION_S);
    expect(b.sunlitFraction).toBeCloseTo(1 - 0.3722, 3);
    expect(b.thermalSteadyPowerW).toBe(400);
    expect(b.energyPowerW).toBe(400);
    expect(b.compute).toBeCloseTo(990 * DURATION_S, 3);
  });

  it('finds the thermal limit with a degraded radiator, and the energy limit with degraded solar', () => {
    const hot = upperBounds(variant({ radiatorDegradation: 0.5 }), DURATION_S);
    expect(hot.thermalSteadyPowerW).toBeGreaterThan(100);
    expect(hot.thermalSteadyPowerW).toBeLessThan(300);
    // At the limit the steady junction sits at junctionMaxC: Tr + (P + L) Rcr + P Rjc.
    const tj =
      hot.steadyRadiatorC + (hot.thermalSteadyPowerW + LOAD_W) * 0.03 + hot.thermalSteadyPowerW * 0.06;
    expect(tj).toBeCloseTo(85, 6);
    expect(hot.powerW).toBe(hot.thermalPowerW);

    const dim = upperBounds(variant({ solarDegradation: 0.6 }), DURATION_S);
    expect(dim.energyPowerW).toBeGreaterThan(150);
    expect(dim.energyPowerW).toBeLessThan(350);
    expect(dim.powerW).toBe(dim.energyPowerW);
    // No eclipse above beta* (~67 deg at 550 km): nothing pays the battery's losses.
    const noEclipse = upperBounds(variant({ solarDegradation: 0.6, betaDeg: 75 }), DURATION_S);
    expect(noEclipse.sunlitFraction).toBe(1);
    expect(noEclipse.energyPowerW).toBeGreaterThan(dim.energyPowerW);
  });
});

describe('optimum', () => {
  let base: Case;
  let hot: Case;
  let baseHighBeta: Case;
  let dim: Case;
  let dimHighBeta: Case;

  beforeAll(async () => {
    base = await solveCase(NODE);
    hot = await solveCase(variant({ radiatorDegradation: 0.5 }));
    baseHighBeta = await solveCase(variant({ betaDeg: 75 }));
    dim = await solveCase(variant({ solarDegradation: 0.6 }));
    dimHighBeta = await solveCase(variant({ solarDegradation: 0.6, betaDeg: 75 }));
  });

  it('solves 3 orbits at 60 s steps to Optimal within seconds', () => {
    for (const c of [base, hot, baseHighBeta, dim, dimHighBeta]) {
      expect(c.result.status).toBe('Optimal');
      expect(c.result.iterations).toBe(3);
      expect(c.result.solveMs).toBeLessThan(10_000);
    }
  });

  it('stays under every closed-form bound', () => {
    for (const c of [base, hot, baseHighBeta, dim, dimHighBeta]) checkBounds(c);
  });

  it('returns plans that respect their own constraints', () => {
    for (const c of [base, hot, baseHighBeta, dim, dimHighBeta]) checkPlan(c);
  });

  it('runs the example node flat out: neither limit binds', () => {
    expect(base.result.averagePowerW).toBeCloseTo(400, 3);
    expect(base.result.compute).toBeCloseTo(990 * DURATION_S, 0);
  });

  it('delivers less with the radiator degraded, and rides the junction limit to do it', () => {
    expect(hot.result.compute).toBeLessThan(base.result.compute * 0.9);
    const hottest = Math.max(...hot.result.perStep.map((s) => s.junctionC));
    expect(hottest).toBeCloseTo(85, 3);
    // Within a quarter of the bound: the bound's storage allowance (heating everything to junctionMaxC) is
    // loose.
    expect(hot.result.compute).toBeGreaterThan(hot.bounds.compute * 0.75);
  });

  it('comes close to the energy bound when energy binds, and rises once the eclipse goes', () => {
    expect(dim.result.compute).toBeLessThan(base.result.compute * 0.95);
    expect(dim.result.averagePowerW).toBeGreaterThan(dim.bounds.energyPowerW * 0.95);
    // The eclipse passes draw the battery down; at beta 75 there is none to pay for.
    expect(dimHighBeta.result.compute).toBeGreaterThan(dim.result.compute);
    expect(baseHighBeta.result.compute).toBeGreaterThanOrEqual(base.result.compute * (1 - REL));
  });

  it('plans in eclipse from the battery and in sunlight from the array', () => {
    const eclipse = dim.result.perStep.filter((s) => s.sunlitFraction === 0);
    const sunlit = dim.result.perStep.filter((s) => s.sunlitFraction === 1);
    expect(eclipse.length).toBeGreaterThan(0);
    for (const s of eclipse) expect(s.dischargeW).toBeGreaterThan(0);
    const mean = (xs: { powerW: number }[]): number => xs.reduce((a, s) => a + s.powerW, 0) / xs.length;
    expect(mean(sunlit)).toBeGreaterThan(mean(eclipse));
  });

  it('handles a duration that is not a whole number of steps', async () => {
    const r = await optimum(NODE, 1000, { stepS: 60, iterations: 1 });
    expect(r.status).toBe('Optimal');
    expect(r.perStep.length).toBe(17);
    expect(r.perStep.at(-1)!.durationS).toBeCloseTo(40, 9);
    expect(r.compute).toBeCloseTo(990 * 1000, 0);
  });
});

describe('optimum without a plan', () => {
  it('reports a scenario that cannot even carry its base loads, with no compute', async () => {
    const dark: PlantParams = { ...NODE, solar: { ...NODE.solar, areaM2: 0 } };
    const r = await optimum(dark, 1200, { iterations: 2 });
    expect(r.status).toBe('Infeasible');
    expect(r.compute).toBe(0);
    expect(r.perStep).toEqual([]);
    expect(r.iterations).toBe(1);
  });

  it('rejects a non-positive duration or step', async () => {
    await expect(optimum(NODE, 0)).rejects.toThrow(RangeError);
    await expect(optimum(NODE, 600, { stepS: 0 })).rejects.toThrow(RangeError);
  });
});

describe('score', () => {
  const clean = { junctionKelvinSeconds: 0, batteryDeficitWh: 0 };

  it('is delivered / optimum with no violations', () => {
    expect(score(50, 100, clean)).toBe(0.5);
    expect(score(100, 100, clean)).toBe(1);
    expect(score(0, 100, clean)).toBe(0);
  });

  it('is 0 for any violation beyond the tolerance, and ignores rounding noise', () => {
    expect(score(90, 100, { junctionKelvinSeconds: 0.01, batteryDeficitWh: 0 })).toBe(0);
    expect(score(90, 100, { junctionKelvinSeconds: 0, batteryDeficitWh: 0.001 })).toBe(0);
    expect(score(90, 100, { junctionKelvinSeconds: 1e-12, batteryDeficitWh: 1e-12 })).toBeCloseTo(0.9, 12);
  });

  it('is 0 against a non-positive optimum', () => {
    expect(score(10, 0, clean)).toBe(0);
  });
});
