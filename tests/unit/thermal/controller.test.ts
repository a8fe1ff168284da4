import { describe, expect, it } from 'vitest';
import type { Reading } from '../../../src/hal/types.js';
import type { PowerMode } from '../../../src/power/modes.js';
import {
  defaultTrips,
  ThermalController,
  type ThermalControllerConfig,
  type ThermalDecision,
} from '../../../src/thermal/controller.js';

const LIMIT_C = 85;
/** Passive 75 and 83, hot 85, critical 90 (hysteresis 2 K). */
const TRIPS = defaultTrips(LIMIT_C);
const MIN_W = 50;
const MAX_W = 300;

function controller(overrides: Partial<ThermalControllerConfig> = {}): ThermalController {
  return new ThermalController({
    governor: 'skynode',
    minPowerW: MIN_W,
    maxPowerW: MAX_W,
    limitC: LIMIT_C,
    trips: TRIPS,
    ...overrides,
  });
}

function ok(timeS: number, celsius: number): Reading<number> {
  return { quality: 'ok', time: timeS * 1000, value: celsius };
}

interface Drive {
  /** The accelerator's power at step i (default: not given). */
  acceleratorW?: (i: number) => number;
  energyAllowanceW?: number;
  mode?: PowerMode;
  groundOff?: boolean;
}

/** Steps at 10 Hz from `fromS` through the temperatures given (one per step); returns the decisions (copied). */
function drive(
  c: ThermalController,
  fromS: number,
  temps: readonly number[],
  d: Drive = {},
): ThermalDecision[] {
  return temps.map((celsius, i) => {
    const timeS = fromS + i / 10;
    return {
      ...c.step({
        timeS,
        junction: ok(timeS, celsius),
        ...(d.acceleratorW ? { acceleratorW: d.acceleratorW(i) } : {}),
        energyAllowanceW: d.energyAllowanceW ?? Number.POSITIVE_INFINITY,
        mode: d.mode ?? 'NOMINAL',
        ...(d.groundOff !== undefined ? { groundOff: d.groundOff } : {}),
      }),
    };
  });
}

/** From a to b in steps of at most 0.5 K (5 K/s at 10 Hz, well under the plausibility limit). */
function ramp(a: number, b: number): number[] {
  const n = Math.max(1, Math.ceil(Math.abs(b - a) / 0.5));
  return Array.from({ length: n + 1 }, (_, i) => a + ((b - a) * i) / n);
}

/** Held near a value with a small ripple, so that the sensor check does not call it stuck. */
function hold(value: number, steps: number): number[] {
  return Array.from({ length: steps }, (_, i) => value + (i % 2 === 0 ? 0.01 : -0.01));
}

describe('ThermalController', () => {
  it('cuts the supply on the critical trip until below critical - hysteresis and the lowest passive trip', () => {
    const c = controller();
    const warm = drive(c, 0, [...hold(60, 10), ...ramp(60, 91)]);
    const firstOff = warm.findIndex((d) => !d.acceleratorOn);
    expect(firstOff).toBeGreaterThan(0);
    const atTrip = warm[firstOff]!;
    expect(atTrip.binding).toBe('critical-trip');
    expect(atTrip.allowanceW).toBe(0);
    expect(atTrip.trips.some((t) => t.trip.type === 'critical' && t.event === 'entered')).toBe(true);
    // Everything before it (below 90 degC) was on.
    expect(warm.slice(0, firstOff).every((d) => d.acceleratorOn)).toBe(true);

    let t = warm.length / 10;
    // Below critical - hysteresis (88) but above the lowest passive trip (75): still off.
    const cooling = drive(c, t, [...ramp(91, 80), ...hold(80, 100), ...ramp(80, 75.2)]);
    t += cooling.length / 10;
    expect(cooling.every((d) => !d.acceleratorOn && d.binding === 'critical-trip')).toBe(true);
    // Below 75: back on.
    const cold = drive(c, t, ramp(75.2, 74));
    const back = cold.findIndex((d) => d.acceleratorOn);
    expect(back).toBeGreaterThan(0);
    expect(cold.slice(0, back).every((d) => !d.acceleratorOn)).toBe(true);
    expect(cold[back]?.binding).not.toBe('critical-trip');
    expect(cold[back]?.trips.some((x) => x.trip.type === 'critical' && x.event === 'left')).toBe(true);
    expect(c.tripMonitor.powerOff).toBe(false);
  });

  it('holds a latched critical trip through a failed sensor', () => {
    const c = controller();
    drive(c, 0, ramp(80, 91));
    const d = c.step({
      timeS: 10,
      junction: { quality: 'failed', time: 10_000, error: 'EIO' },
      energyAllowanceW: Infinity,
      mode: 'NOMINAL',
    });
    expect(d.acceleratorOn).toBe(false);
    expect(d.binding).toBe('critical-trip');
  });

  it('switches off in SURVIVAL and when the ground says so', () => {
    const c = controller();
    const survival = drive(c, 0, hold(40, 20), { mode: 'SURVIVAL' });
    expect(survival.every((d) => !d.acceleratorOn && d.binding === 'survival' && d.allowanceW === 0)).toBe(
      true,
    );
    const ground = drive(c, 2, hold(40, 20), { groundOff: true });
    expect(ground.every((d) => !d.acceleratorOn && d.binding === 'ground-off' && d.allowanceW === 0)).toBe(
      true,
    );
    // The critical trip outranks both.
    const both = drive(c, 4, ramp(40, 91), { mode: 'SURVIVAL', groundOff: true });
    expect(both.at(-1)?.binding).toBe('critical-trip');
    // Cooled below the lowest passive trip, in NOMINAL, not off from the ground: on again.
    const normal = drive(c, 100, hold(40, 5)).at(-1)!;
    expect(normal.acceleratorOn).toBe(true);
    expect(normal.binding).toBe('none');
  });

  it('duty-cycles the lowest cap when the energy allowance is below it, averaging the allowance', () => {
    for (const [allowanceW, periodS] of [
      [20, 60],
      [35, 30],
      [5, 60],
    ] as const) {
      const c = controller({ dutyPeriodS: periodS });
      // Three whole periods at 10 Hz, starting part-way into one.
      const steps = 3 * periodS * 10;
      const decisions = drive(c, 17.3, hold(40, steps), { energyAllowanceW: allowanceW });
      for (const d of decisions) {
        expect(d.capW).toBe(MIN_W);
        expect(d.allowanceW).toBe(allowanceW);
        expect(d.binding).toBe('energy');
      }
      const onFraction = decisions.filter((d) => d.acceleratorOn).length / steps;
      expect(onFraction).toBeCloseTo(allowanceW / MIN_W, 2);
      // The average power delivered is the allowance.
      expect(onFraction * MIN_W).toBeCloseTo(allowanceW, 0);
      // On in one block per period, not flickering: at most one off-to-on edge per period (plus the start).
      let edges = 0;
      for (let i = 1; i < decisions.length; i++)
        if (decisions[i]!.acceleratorOn && !decisions[i - 1]!.acceleratorOn) edges++;
      expect(edges).toBeLessThanOrEqual(3);
    }
    // A zero allowance: never on.
    const off = drive(controller(), 0, hold(40, 600), { energyAllowanceW: 0 });
    expect(off.some((d) => d.acceleratorOn)).toBe(false);
    // A negative one is taken as zero.
    const negative = drive(controller(), 0, hold(40, 10), { energyAllowanceW: -5 });
    expect(negative.every((d) => d.energyAllowanceW === 0 && !d.acceleratorOn)).toBe(true);
  });

  it("reports what binds: 'none', 'energy' or 'thermal'", () => {
    // Cool, no energy limit: full power, nothing binds.
    const cool = drive(controller(), 0, hold(40, 5)).at(-1)!;
    expect(cool).toMatchObject({ acceleratorOn: true, capW: MAX_W, allowanceW: MAX_W, binding: 'none' });
    // Cool, an energy allowance under the maximum: energy binds.
    const energy = drive(controller(), 0, hold(40, 5), { energyAllowanceW: 120 }).at(-1)!;
    expect(energy).toMatchObject({ acceleratorOn: true, capW: 120, allowanceW: 120, binding: 'energy' });
    expect(energy.thermalAllowanceW).toBe(MAX_W);
    // An energy allowance above the maximum: nothing binds.
    expect(drive(controller(), 0, hold(40, 5), { energyAllowanceW: 1000 }).at(-1)?.binding).toBe('none');
    // At the limit (within the skynode governor's guard): the thermal allowance is the lowest cap, and binds.
    const hot = drive(controller(), 0, hold(84.8, 5), { energyAllowanceW: 200 }).at(-1)!;
    expect(hot.thermalAllowanceW).toBe(MIN_W);
    expect(hot).toMatchObject({ acceleratorOn: true, capW: MIN_W, allowanceW: MIN_W, binding: 'thermal' });
    expect(hot.governorState).toBe('guard');
    // Hot, and an energy allowance lower still: energy binds, and is duty-cycled.
    const both = drive(controller(), 0, hold(84.8, 5), { energyAllowanceW: 30 }).at(-1)!;
    expect(both).toMatchObject({ capW: MIN_W, allowanceW: 30, binding: 'energy' });
  });

  it('falls back to the safe cap on a stuck sensor', () => {
    const c = controller({ safeFallbackW: 120 });
    // The reading does not move while the power climbs 1 W a step.
    const same = drive(
      c,
      0,
      Array.from({ length: 60 }, () => 60),
      { acceleratorW: (i) => 150 + i },
    );
    // Up to stuckSamples (50) identical readings are believed; after that (the power having swung by more than
    // 10 W), the sensor is stuck.
    expect(same[49]?.sensorOk).toBe(true);
    const last = same.at(-1)!;
    expect(last.sensorOk).toBe(false);
    expect(last.sensorFault).toBe('stuck');
    expect(last.binding).toBe('sensor-fallback');
    expect(last.governorState).toBe('sensor-fallback');
    expect(last.thermalAllowanceW).toBe(120);
    expect(last).toMatchObject({ acceleratorOn: true, capW: 120, allowanceW: 120 });
    expect(same.slice(50).every((d) => d.binding === 'sensor-fallback')).toBe(true);
    // A lower energy allowance still limits the cap; the binding stays the sensor's.
    const lower = drive(c, 6, [60], { energyAllowanceW: 80 }).at(-1)!;
    expect(lower).toMatchObject({ capW: 80, binding: 'sensor-fallback' });
    // Without a configured fallback the governor uses the lowest cap.
    const plain = drive(
      controller(),
      0,
      Array.from({ length: 60 }, () => 60),
      { acceleratorW: (i) => 150 + i },
    ).at(-1)!;
    expect(plain.binding).toBe('sensor-fallback');
    expect(plain.capW).toBe(MIN_W);
    // A moving reading again: back to control.
    const moving = drive(c, 7, ramp(60, 62)).at(-1)!;
    expect(moving.sensorOk).toBe(true);
    expect(moving.binding).not.toBe('sensor-fallback');
  });
});
