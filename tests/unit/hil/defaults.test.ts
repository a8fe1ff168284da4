import { describe, expect, it } from 'vitest';
import { EXAMPLE_NODE, exampleNode } from '../../../hil/plant/defaults.js';
import { eclipseWindows, orbitPeriodS } from '../../../hil/plant/orbit.js';
import { Plant, type PlantInputs, type PlantState } from '../../../hil/plant/plant.js';

/** Runs the example node at a constant input, noting when each limit is first crossed. */
function constant(inputs: PlantInputs, orbits: number) {
  const params = exampleNode();
  const plant = new Plant(params);
  let hotAt: PlantState | undefined;
  let lowAt: PlantState | undefined;
  const end = orbits * orbitPeriodS(params);
  while (plant.state.timeS < end) {
    const s = plant.step(10, inputs);
    if (!hotAt && s.junctionC > params.limits.junctionMaxC) hotAt = s;
    if (!lowAt && s.soc < params.limits.batteryFloorSoc) lowAt = s;
  }
  return { params, state: plant.state, hotAt, lowAt };
}

describe('the example node', () => {
  it('is the suggested small compute node at 550 km, beta 0', () => {
    expect(EXAMPLE_NODE.orbit).toMatchObject({ altitudeKm: 550, betaDeg: 0 });
    expect(EXAMPLE_NODE.accelerator).toMatchObject({ staticW: 60, dynamicW: 340, maxMHz: 1980, minMHz: 345 });
    expect(EXAMPLE_NODE.loads.switched.map((l) => l.name)).toEqual([
      'payload-heater',
      'camera',
      'accelerator-aux',
    ]);
    expect(EXAMPLE_NODE.limits).toEqual({ junctionMaxC: 85, batteryFloorSoc: 0.3 });
  });

  it('merges overrides at any depth, leaving the example untouched', () => {
    const p = exampleNode({ orbit: { betaDeg: 70 }, thermal: { radiator: { areaM2: 2 } } });
    expect(p.orbit).toEqual({ altitudeKm: 550, betaDeg: 70, startPhase: 0 });
    expect(p.thermal.radiator.areaM2).toBe(2);
    expect(p.thermal.radiator.emissivity).toBe(0.88);
    expect(EXAMPLE_NODE.thermal.radiator.areaM2).toBe(1.2);
    expect(exampleNode({ loads: { switched: [] } }).loads).toEqual({ baseW: 60, switched: [] });
  });

  it('flat out, overheats in the first sunlit pass and drains the battery below its floor in the first eclipse', () => {
    const { params, state, hotAt, lowAt } = constant({ powerCapW: 400, acceleratorOn: true }, 2);
    const [firstEclipse] = eclipseWindows(params, 0, state.timeS);
    expect(hotAt).toBeDefined();
    expect(hotAt?.sunlit).toBe(true);
    // Tens of minutes, inside the first 30 min of sunlight.
    expect(hotAt?.timeS).toBeGreaterThan(5 * 60);
    expect(hotAt?.timeS).toBeLessThan(firstEclipse?.[0] as number);
    expect(lowAt).toBeDefined();
    expect(lowAt?.sunlit).toBe(false);
    expect(lowAt?.timeS).toBeLessThan(firstEclipse?.[1] as number);
    expect(state.violations.junctionMaxC).toBeGreaterThan(95);
    expect(state.violations.junctionKelvinSeconds).toBeGreaterThan(1e5);
    expect(state.violations.batteryDeficitWh).toBeGreaterThan(50);
  });

  it('at a constant moderate cap (200 W), stays within both limits orbit after orbit', () => {
    const { state, hotAt, lowAt } = constant({ powerCapW: 200, acceleratorOn: true }, 4);
    expect(hotAt).toBeUndefined();
    expect(lowAt).toBeUndefined();
    expect(state.violations).toMatchObject({ junctionKelvinSeconds: 0, batteryDeficitWh: 0 });
    expect(state.violations.junctionMaxC).toBeLessThan(65);
    expect(state.violations.batteryMinSoc).toBeGreaterThan(0.35);
    // And still computes at three quarters of the top rate.
    expect(state.computeRate / EXAMPLE_NODE.accelerator.computeAtMax).toBeGreaterThan(0.7);
  });

  it('binds differently in sunlight and eclipse: 300 W is thermally fine but too much for the eclipse', () => {
    const { state, hotAt, lowAt } = constant({ powerCapW: 300, acceleratorOn: true }, 3);
    expect(hotAt).toBeUndefined();
    expect(state.violations.junctionMaxC).toBeLessThan(85);
    expect(lowAt?.sunlit).toBe(false);
  });
});
