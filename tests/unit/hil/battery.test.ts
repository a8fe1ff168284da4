import { describe, expect, it } from 'vitest';
import {
  batteryElectrical,
  batteryStep,
  cellOcv,
  NMC_CELL_OCV,
  packOcv,
  usableCapacityWh,
} from '../../../hil/plant/battery.js';
import { exampleNode } from '../../../hil/plant/defaults.js';

const battery = exampleNode().battery;

describe('battery', () => {
  it('follows an NMC open-circuit curve from 3.0 V empty to 4.2 V full, rising throughout', () => {
    expect(cellOcv(0)).toBe(3.0);
    expect(cellOcv(1)).toBe(4.2);
    expect(cellOcv(0.5)).toBeGreaterThan(3.6);
    expect(cellOcv(0.5)).toBeLessThan(3.85);
    expect(cellOcv(-1)).toBe(3.0);
    expect(cellOcv(2)).toBe(4.2);
    let last = 0;
    for (let soc = 0; soc <= 1.0001; soc += 0.01) {
      expect(cellOcv(soc)).toBeGreaterThan(last);
      last = cellOcv(soc);
    }
    // Steep at the bottom, flat in the middle.
    expect(cellOcv(0.05) - cellOcv(0)).toBeGreaterThan(cellOcv(0.55) - cellOcv(0.5));
    // Linear between table points.
    const [s0, v0] = NMC_CELL_OCV[5] as readonly [number, number];
    const [s1, v1] = NMC_CELL_OCV[6] as readonly [number, number];
    expect(cellOcv((s0 + s1) / 2)).toBeCloseTo((v0 + v1) / 2, 12);
    expect(packOcv(battery, 1)).toBeCloseTo(8 * 4.2, 12);
  });

  it('charges at up to maxChargeW and shunts the rest, all of it when full', () => {
    const usable = usableCapacityWh(battery);
    const charging = batteryStep(battery, 100, usable, 500, 60);
    expect(charging.chargeW).toBe(battery.maxChargeW);
    expect(charging.shuntW).toBe(500 - battery.maxChargeW);
    expect(charging.storedWh).toBeCloseTo(100 + (battery.maxChargeW * battery.chargeEfficiency) / 60, 9);
    const topping = batteryStep(battery, usable - 1, usable, 500, 3600);
    expect(topping.storedWh).toBe(usable);
    expect(topping.chargeW).toBeCloseTo(1 / battery.chargeEfficiency, 9);
    expect(topping.chargeW + topping.shuntW).toBeCloseTo(500, 9);
    const full = batteryStep(battery, usable, usable, 500, 10);
    expect(full).toMatchObject({ chargeW: 0, shuntW: 500, storedWh: usable });
  });

  it('discharges a deficit at dischargeEfficiency, and cannot go below empty', () => {
    const usable = usableCapacityWh(battery);
    const draining = batteryStep(battery, 200, usable, -97, 3600);
    expect(draining.dischargeW).toBe(97);
    expect(draining.storedWh).toBeCloseTo(200 - 97 / battery.dischargeEfficiency, 9);
    const empty = batteryStep(battery, 10, usable, -97, 3600);
    expect(empty.storedWh).toBe(0);
    expect(empty.dischargeW).toBeCloseTo(10 * battery.dischargeEfficiency, 9);
    expect(empty.unmetW).toBeCloseTo(97 - 10 * battery.dischargeEfficiency, 9);
  });

  it('loses capacity to fade and gives current and terminal voltage from the OCV', () => {
    expect(usableCapacityWh(battery, 0.2)).toBeCloseTo(battery.capacityWh * 0.8, 9);
    const ocv = packOcv(battery, 0.5);
    const discharging = batteryElectrical(battery, 0.5, -300);
    expect(discharging.amps).toBeCloseTo(-300 / ocv, 12);
    expect(discharging.volts).toBeCloseTo(ocv - (300 / ocv) * battery.internalResistanceOhm, 12);
    expect(batteryElectrical(battery, 0.5, 200).volts).toBeGreaterThan(ocv);
  });
});
