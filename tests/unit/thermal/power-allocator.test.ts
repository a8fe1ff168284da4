import { describe, expect, it } from 'vitest';
import type { GovernorConfig } from '../../../src/thermal/governor.js';
import { governorTrips, kernelDefaults, powerAllocator } from '../../../src/thermal/power-allocator.js';
import { StepWiseGovernor } from '../../../src/thermal/step-wise.js';

const CONFIG: GovernorConfig = {
  minPowerW: 100,
  maxPowerW: 700,
  limitC: 85,
  trips: [
    { type: 'critical', celsius: 95 },
    { type: 'passive', celsius: 80 },
    { type: 'passive', celsius: 70 },
    { type: 'hot', celsius: 88 },
  ],
};

describe('power_allocator kernel defaults', () => {
  it('switch-on is the first passive trip, control the last; constants as estimate_pid_constants makes them', () => {
    const d = kernelDefaults(CONFIG);
    expect(d).toEqual({
      sustainableW: 100,
      kPo: 10,
      kPu: 20,
      kI: 0.01,
      kD: 0,
      integralCutoff: 0,
      controlC: 80,
      switchOnC: 70,
    });
    expect(kernelDefaults(CONFIG, 'mainline').kI).toBe(2);
  });

  it('one passive trip is the control temperature, with no switch-on; none falls back to the limit', () => {
    expect(governorTrips({ ...CONFIG, trips: [{ type: 'passive', celsius: 75 }] })).toEqual({
      controlC: 75,
      switchOnC: undefined,
    });
    expect(governorTrips({ ...CONFIG, trips: [] })).toEqual({ controlC: 85, switchOnC: undefined });
    // Without a switch-on trip the kernel divides by the control temperature itself.
    expect(kernelDefaults({ ...CONFIG, trips: [{ type: 'passive', celsius: 80 }] }).kPo).toBeCloseTo(
      100 / 80,
    );
  });
});

describe('power_allocator PID', () => {
  it('gives max power below switch-on, and resets its integral there', () => {
    const g = powerAllocator(CONFIG);
    expect(g.step({ timeS: 0, junctionC: 69.9, sensorOk: true })).toEqual({ allowanceW: 700, state: 'idle' });
  });

  it('output = sustainable + k_pu * err under the control temperature (no integration at err >= cutoff 0)', () => {
    const g = powerAllocator(CONFIG);
    // err = 80 - 75 = 5: 100 + 20 * 5 = 200, and again (no integral accumulates while under).
    expect(g.step({ timeS: 0, junctionC: 75, sensorOk: true }).allowanceW).toBeCloseTo(200);
    expect(g.step({ timeS: 1, junctionC: 75, sensorOk: true }).allowanceW).toBeCloseTo(200);
  });

  it('uses k_po over the control temperature and integrates the (negative) error there', () => {
    const g = powerAllocator(CONFIG, { sustainableW: 400 });
    // sustainable 400: k_po = 40, k_pu = 80, k_i = 0.01. err = -2: 400 - 80 - 0.02 = 319.98.
    expect(g.step({ timeS: 0, junctionC: 82, sensorOk: true }).allowanceW).toBeCloseTo(319.98, 6);
    expect(g.step({ timeS: 1, junctionC: 82, sensorOk: true }).allowanceW).toBeCloseTo(319.96, 6);
  });

  it('clamps to [min, max] and stops integrating when the I term would reach max power (anti-windup)', () => {
    // sustainable 600: k_po = 60, k_pu = 120. At 90 degC err = -10: the I term goes -250, -500, then -750 would
    // exceed max power (700), so it stays at -500.
    const g = powerAllocator(CONFIG, { sustainableW: 600, kI: 25 });
    let out = 0;
    for (let k = 0; k < 10; k++) out = g.step({ timeS: k, junctionC: 90, sensorOk: true }).allowanceW;
    expect(out).toBe(100);
    // Under the control temperature nothing integrates (cutoff 0): 600 + 120 * 0.5 - 500 = 160.
    expect(g.step({ timeS: 10, junctionC: 79.5, sensorOk: true }).allowanceW).toBeCloseTo(160);
    // Below switch-on the integral resets: 600 + 60 = 660.
    expect(g.step({ timeS: 11, junctionC: 60, sensorOk: true }).allowanceW).toBe(700);
    expect(g.step({ timeS: 12, junctionC: 79.5, sensorOk: true }).allowanceW).toBeCloseTo(660);
  });

  it('the derivative term acts on the error change per millisecond of period', () => {
    const g = powerAllocator(CONFIG, { sustainableW: 400, kD: 1000 });
    g.step({ timeS: 0, junctionC: 78, sensorOk: true });
    // err 2 -> 1 over 1000 ms: d = 1000 * (1 - 2) / 1000 = -1; p = 80 * 1 = 80: 400 + 80 - 1 = 479.
    expect(g.step({ timeS: 1, junctionC: 79, sensorOk: true }).allowanceW).toBeCloseTo(479);
  });
});

describe('step_wise', () => {
  it('maps states evenly from max to min power and moves one state per step with the trend', () => {
    const g = new StepWiseGovernor(CONFIG);
    expect(g.tripC).toBe(80);
    expect(g.powerOf(0)).toBe(700);
    expect(g.powerOf(10)).toBe(100);
    expect(g.powerOf(5)).toBe(400);
    expect(g.step({ timeS: 0, junctionC: 79, sensorOk: true }).allowanceW).toBe(700);
    expect(g.step({ timeS: 1, junctionC: 80, sensorOk: true }).state).toBe('state-1');
    expect(g.step({ timeS: 2, junctionC: 81, sensorOk: true }).allowanceW).toBe(580);
    // Steady over the trip: holds. Dropping but still within the hysteresis: holds.
    expect(g.step({ timeS: 3, junctionC: 81, sensorOk: true }).state).toBe('state-2');
    expect(g.step({ timeS: 4, junctionC: 78.5, sensorOk: true }).state).toBe('state-2');
    // Below trip - hysteresis (2 K) and dropping: one state down per step.
    expect(g.step({ timeS: 5, junctionC: 77.9, sensorOk: true }).state).toBe('state-1');
    expect(g.step({ timeS: 6, junctionC: 77.5, sensorOk: true }).state).toBe('state-0');
    expect(g.step({ timeS: 7, junctionC: 77, sensorOk: true }).state).toBe('state-0');
    expect(g.coolingState).toBe(0);
  });
});
