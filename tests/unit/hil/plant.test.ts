import { describe, expect, it } from 'vitest';
import { exampleNode } from '../../../hil/plant/defaults.js';
import { eclipseWindows, orbitPeriodS, radiatorHeatIn, sunlitSolarW } from '../../../hil/plant/orbit.js';
import { KELVIN, STEFAN_BOLTZMANN } from '../../../hil/plant/params.js';
import { fastestTimeConstantS, Plant, type PlantInputs } from '../../../hil/plant/plant.js';

const flatOut: PlantInputs = { powerCapW: 400, acceleratorOn: true };
const capped = (powerCapW: number): PlantInputs => ({ powerCapW, acceleratorOn: true });

function run(plant: Plant, seconds: number, dtS: number, inputs: PlantInputs): void {
  const n = Math.round(seconds / dtS);
  for (let i = 0; i < n; i++) plant.step(dtS, inputs);
}

describe('Plant', () => {
  it('starts from the parameters and reports a consistent state', () => {
    const params = exampleNode();
    const plant = new Plant(params);
    const s = plant.state;
    expect(s).toMatchObject({
      timeS: 0,
      phase: 0,
      sunlit: true,
      soc: 0.8,
      batteryStoredWh: 240,
      junctionC: 55,
      coldPlateC: 45,
      radiatorC: 35,
      acceleratorOn: true,
      acceleratorMHz: 1980,
      acceleratorW: 400,
      computeTotal: 0,
      loads: { 'payload-heater': true, camera: true, 'accelerator-aux': true },
    });
    expect(s.busW).toBe(60 + 45 + 400);
    expect(s.solarW).toBeCloseTo(sunlitSolarW(params.solar), 9);
    expect(s.busVolts).toBe(s.batteryVolts);
    expect(s.batteryAmps).toBeGreaterThan(0);
    expect(() => plant.step(-1, flatOut)).toThrow(RangeError);
  });

  it('follows its inputs: cap, ceiling, accelerator supply and loads', () => {
    const plant = new Plant(exampleNode());
    expect(plant.step(1, capped(200)).acceleratorW).toBeCloseTo(200, 9);
    const ceiling = plant.step(1, { ...flatOut, frequencyCeilingMHz: 990 });
    expect(ceiling.acceleratorMHz).toBe(990);
    expect(ceiling.acceleratorW).toBeCloseTo(60 + 340 / 8, 9);
    expect(ceiling.computeRate).toBeCloseTo(495, 9);
    const off = plant.step(1, { powerCapW: 400, acceleratorOn: false, loads: { camera: false } });
    expect(off).toMatchObject({
      acceleratorW: 0,
      acceleratorMHz: 0,
      computeRate: 0,
      switchedW: 30,
      busW: 90,
    });
    expect(off.loads.camera).toBe(false);
  });

  it('takes about 95.5 min per orbit and spends 37 % of it in eclipse', () => {
    const params = exampleNode();
    const plant = new Plant(params);
    let dark = 0;
    const T = orbitPeriodS(params);
    for (let t = 0; t < T; t += 1) if (!plant.step(1, capped(200)).sunlit) dark += 1;
    expect(dark / T).toBeCloseTo(0.372, 2);
  });

  it('conserves energy: stored change = charge * efficiency - discharge / efficiency, and the bus balances', () => {
    const params = exampleNode({ battery: { initialSoc: 0.4 } });
    const plant = new Plant(params);
    const before = plant.state.batteryStoredWh;
    run(plant, 2 * orbitPeriodS(params), 5, capped(330));
    const s = plant.state;
    const { chargeEfficiency, dischargeEfficiency } = params.battery;
    const expected = s.energy.chargeWh * chargeEfficiency - s.energy.dischargeWh / dischargeEfficiency;
    expect(s.energy.chargeWh).toBeGreaterThan(100);
    expect(s.energy.dischargeWh).toBeGreaterThan(100);
    expect(Math.abs(s.batteryStoredWh - before - expected)).toBeLessThan(1e-3 * Math.abs(expected) + 1e-9);
    // Solar in = load carried + charge + shunt - discharge.
    const served = s.energy.loadWh - s.energy.unmetWh;
    expect(s.energy.solarWh + s.energy.dischargeWh).toBeCloseTo(
      served + s.energy.chargeWh + s.energy.shuntWh,
      6,
    );
    // The solar energy is the array's sunlit power over the sunlit time.
    const darkS = eclipseWindows(params, 0, s.timeS).reduce((sum, [a, b]) => sum + b - a, 0);
    expect(s.energy.solarWh).toBeCloseTo((sunlitSolarW(params.solar) * (s.timeS - darkS)) / 3600, -1);
  });

  it('settles the radiator at the closed-form balance for a constant load', () => {
    // No eclipse (beta beyond beta*) and no albedo: the heat in is the Earth's IR plus the bus load.
    const params = exampleNode({ orbit: { betaDeg: 80 }, thermal: { radiator: { absorptivity: 0 } } });
    const plant = new Plant(params);
    run(plant, 8 * 3600, 60, capped(250));
    const s = plant.state;
    const r = params.thermal.radiator;
    const q = s.busW + radiatorHeatIn(params, 0).totalW;
    const tr = (q / (r.emissivity * r.areaM2 * STEFAN_BOLTZMANN) + 3 ** 4) ** 0.25 - KELVIN;
    expect(s.radiatorC).toBeCloseTo(tr, 2);
    expect(s.coldPlateC).toBeCloseTo(tr + s.busW * params.thermal.coldPlateToRadiatorKPerW, 2);
    expect(s.junctionC).toBeCloseTo(s.coldPlateC + 250 * params.thermal.junctionToColdPlateKPerW, 2);
    expect(s.heatOutW).toBeCloseTo(q, 1);
  });

  it('sub-steps: a 10 s step gives what 0.1 s steps give, and stays stable for a fast junction', () => {
    const params = exampleNode();
    const coarse = new Plant(params);
    const fine = new Plant(params);
    const T = orbitPeriodS(params);
    const seconds = Math.round(T / 10) * 10;
    run(coarse, seconds, 10, flatOut);
    run(fine, seconds, 0.1, flatOut);
    const a = coarse.state;
    const b = fine.state;
    expect(a.timeS).toBeCloseTo(b.timeS, 6);
    expect(a.junctionC).toBeCloseTo(b.junctionC, 1);
    expect(a.coldPlateC).toBeCloseTo(b.coldPlateC, 1);
    expect(a.radiatorC).toBeCloseTo(b.radiatorC, 1);
    expect(Math.abs(a.soc - b.soc)).toBeLessThan(1e-3);
    expect(a.computeTotal / b.computeTotal).toBeCloseTo(1, 4);
    expect(
      Math.abs(a.violations.junctionKelvinSeconds / b.violations.junctionKelvinSeconds - 1),
    ).toBeLessThan(0.01);

    // A junction with a 0.3 s time constant: explicit Euler at 10 s would blow up; sub-stepped, it settles.
    const fast = exampleNode({ thermal: { junction: { heatCapacityJPerK: 5 } } });
    expect(fastestTimeConstantS(fast)).toBeCloseTo(0.3, 9);
    const plant = new Plant(fast);
    expect(plant.substepS).toBeLessThanOrEqual(0.03);
    run(plant, 600, 10, capped(300));
    const s = plant.state;
    expect(s.junctionC - s.coldPlateC).toBeCloseTo(300 * 0.06, 1);
  });

  it('accounts for violations: junction kelvin-seconds and peak, battery deficit and lowest charge', () => {
    const params = exampleNode();
    const plant = new Plant(params);
    let kelvinSeconds = 0;
    let peak = plant.state.junctionC;
    let deficit = 0;
    let minSoc = plant.state.soc;
    const dt = 0.25; // under the sub-step, so each step is one integration step
    for (let t = 0; t < 3600; t += dt) {
      const s = plant.step(dt, flatOut);
      kelvinSeconds += Math.max(0, s.junctionC - 85) * dt;
      peak = Math.max(peak, s.junctionC);
      deficit = Math.max(deficit, 0.3 * s.batteryUsableWh - s.batteryStoredWh);
      minSoc = Math.min(minSoc, s.soc);
    }
    const v = plant.state.violations;
    expect(v.junctionKelvinSeconds).toBeGreaterThan(0);
    expect(v.junctionKelvinSeconds).toBeCloseTo(kelvinSeconds, 6);
    expect(v.junctionMaxC).toBe(peak);
    expect(v.batteryDeficitWh).toBeCloseTo(deficit, 9);
    expect(v.batteryMinSoc).toBe(minSoc);

    const calm = new Plant(params);
    run(calm, 3600, 10, capped(150));
    expect(calm.state.violations).toMatchObject({ junctionKelvinSeconds: 0, batteryDeficitWh: 0 });
    expect(calm.state.violations.junctionMaxC).toBe(55);
  });

  it('takes faults: degraded solar array and radiator, faded battery', () => {
    const params = exampleNode();
    const plant = new Plant(params);
    const solar = plant.state.solarW;
    plant.setSolarDegradation(0.4);
    expect(plant.state.solarW).toBeCloseTo(solar * 0.6, 9);
    expect(plant.state.solarDegradation).toBe(0.4);

    const out = plant.state.heatOutW;
    plant.setRadiatorDegradation(0.5);
    expect(plant.state.heatOutW).toBeCloseTo(out / 2, 9);
    const hot = new Plant(params);
    hot.setRadiatorDegradation(0.5);
    const cool = new Plant(params);
    run(hot, 1800, 10, capped(200));
    run(cool, 1800, 10, capped(200));
    expect(hot.state.junctionC).toBeGreaterThan(cool.state.junctionC + 10);

    const fading = new Plant(params);
    expect(fading.state.batteryStoredWh).toBe(240);
    fading.setCapacityFade(0.5);
    expect(fading.state.batteryUsableWh).toBe(150);
    expect(fading.state.batteryStoredWh).toBe(150);
    expect(fading.state.soc).toBe(1);
    fading.setCapacityFade(0.9);
    expect(fading.state.batteryStoredWh).toBeCloseTo(30, 9);
    expect(fading.state.violations.batteryDeficitWh).toBe(0);
    fading.setCapacityFade(2);
    expect(fading.state.capacityFade).toBe(1);
  });
});
