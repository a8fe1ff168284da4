import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EclipseForecast } from '../../../src/power/eclipse.js';
import { POWER_MODES } from '../../../src/power/modes.js';
import { type PhasedBudgetInput, PhasedEnergyBudget } from '../../../src/power/phased-budget.js';

const MAX_W = 300;
const FLOOR = 0.3;
const MARGIN = 0.05;
const ETA_C = 0.95;
const ETA_D = 0.95;
const USABLE_WH = 1000;
const FLOOR_WH = (FLOOR + MARGIN) * USABLE_WH;
const OTHER_W = 50;

function budget(): PhasedEnergyBudget {
  return new PhasedEnergyBudget({
    maxPowerW: MAX_W,
    floorSoc: FLOOR,
    marginSoc: MARGIN,
    chargeEfficiency: ETA_C,
    dischargeEfficiency: ETA_D,
    maxChargeW: 300,
  });
}

/** Sunlit now; the next eclipse starts in sunHours and lasts eclipseHours. */
function sunlit(nowS: number, sunHours: number, eclipseHours: number, solarW: number): EclipseForecast {
  const startS = nowS + sunHours * 3600;
  return {
    sunlitW: solarW,
    windows: [{ startS, endS: startS + eclipseHours * 3600 }],
    inEclipse: false,
    nextChangeS: startS,
    source: 'orbit',
  };
}

/** In eclipse now, sunrise in hours. */
function eclipse(nowS: number, hours: number, solarW = 400): EclipseForecast {
  const endS = nowS + hours * 3600;
  return {
    sunlitW: solarW,
    windows: [{ startS: nowS, endS }],
    inEclipse: true,
    nextChangeS: endS,
    source: 'orbit',
  };
}

function input(overrides: Partial<PhasedBudgetInput>): PhasedBudgetInput {
  return {
    nowS: 0,
    storedWh: 600,
    usableWh: USABLE_WH,
    otherLoadsW: OTHER_W,
    forecast: sunlit(0, 1, 0.6, 400),
    thermalHintW: MAX_W,
    mode: 'NOMINAL',
    ...overrides,
  };
}

describe('PhasedEnergyBudget', () => {
  it('in eclipse, spends the stored energy above floor + margin exactly by sunrise', () => {
    // 600 Wh stored, floor + margin 350 Wh: 250 Wh above it, 237.5 Wh delivered through 0.95 over the 0.5 h to
    // sunrise: 475 W for all the loads, 425 W of it for the accelerator (a 1 kW one, so that no cap applies).
    const big = new PhasedEnergyBudget({
      maxPowerW: 1000,
      floorSoc: FLOOR,
      marginSoc: MARGIN,
      dischargeEfficiency: ETA_D,
    });
    const r = big.allowance(input({ nowS: 1000, forecast: eclipse(1000, 0.5) }));
    expect(r.powerW).toBeCloseTo(425, 9);
    expect(r.reason).toBe('eclipse-floor');
    expect(r.eclipsePlanW).toBeCloseTo(425, 9);
    // At sunrise: 600 - (425 + 50) W * 0.5 h / 0.95 = 350 Wh = floor + margin.
    expect(r.expectedSoc).toBeCloseTo(FLOOR + MARGIN, 12);
    const atSunriseWh = 600 - ((r.powerW + OTHER_W) * 0.5) / ETA_D;
    expect(atSunriseWh).toBeCloseTo(FLOOR_WH, 9);

    // The same battery with the 300 W accelerator: it can run flat out, and ends above the floor.
    const capped = budget().allowance(input({ nowS: 1000, forecast: eclipse(1000, 0.5) }));
    expect(capped.powerW).toBe(MAX_W);
    expect(capped.reason).toBe('max');
    expect(capped.expectedSoc).toBeGreaterThan(FLOOR + MARGIN);

    // At or below the floor: nothing.
    const low = budget().allowance(input({ storedWh: 340, forecast: eclipse(0, 0.5) }));
    expect(low.powerW).toBe(0);
    expect(low.reason).toBe('eclipse-floor');
  });

  it('in sunlight with a large surplus and a full battery, allows the maximum', () => {
    const r = budget().allowance(input({ storedWh: USABLE_WH, forecast: sunlit(0, 1, 0.5, 2000) }));
    expect(r.powerW).toBe(MAX_W);
    expect(r.reason).toBe('max');
    expect(r.eclipsePlanW).toBe(MAX_W);
  });

  it('late in the pass with a nearly empty battery, cuts back to charge for the eclipse', () => {
    const b = budget();
    const eclipseHours = 0.5;
    // A quarter of an hour to sunset, 360 Wh stored (10 Wh over floor + margin).
    const r = b.allowance(input({ storedWh: 360, forecast: sunlit(0, 0.25, eclipseHours, 400) }));
    expect(r.reason).toBe('sunset-charge');
    expect(r.powerW).toBeGreaterThan(0);
    expect(r.powerW).toBeLessThan(MAX_W);
    // What the plan expects at sunset carries the planned eclipse power down to floor + margin, no further.
    const needWh = FLOOR_WH + ((r.eclipsePlanW + OTHER_W) * eclipseHours) / ETA_D;
    expect(r.expectedSoc * USABLE_WH).toBeGreaterThanOrEqual(needWh - 1e-9);
    // And the sunlit power is what gets it there: charging at 400 - 50 - P W through 0.95 for 0.25 h.
    const atSunsetWh = 360 + (400 - OTHER_W - r.powerW) * ETA_C * 0.25;
    expect(atSunsetWh).toBeCloseTo(r.expectedSoc * USABLE_WH, 6);
    expect(atSunsetWh).toBeCloseTo(needWh, 3);

    // The same moment with a full battery: flat out.
    expect(
      b.allowance(input({ storedWh: USABLE_WH, forecast: sunlit(0, 0.25, eclipseHours, 400) })).reason,
    ).toBe('max');

    // Even with the accelerator off the battery will not hold the eclipse: 0, charging all it can.
    const hopeless = b.allowance(input({ storedWh: 300, forecast: sunlit(0, 0.1, eclipseHours, 400) }));
    expect(hopeless.powerW).toBe(0);
    expect(hopeless.reason).toBe('sunset-charge');
    expect(hopeless.eclipsePlanW).toBe(0);
    // 350 W of surplus, 300 W of it through the charger's limit, for 0.1 h.
    expect(hopeless.expectedSoc).toBeCloseTo((300 + 300 * ETA_C * 0.1) / USABLE_WH, 9);
  });

  it('moves energy into the eclipse when the thermal hint says sunlit power would be wasted', () => {
    const b = budget();
    const at = (hint: number) =>
      b.allowance(input({ storedWh: 360, thermalHintW: hint, forecast: sunlit(0, 1, 0.6, 400) }));
    const cool = at(MAX_W);
    const hot = at(50);
    expect(hot.eclipsePlanW).toBeGreaterThan(cool.eclipsePlanW);
    // The energy comes from the sunlit pass: less allowed now, more stored by sunset.
    expect(hot.powerW).toBeLessThan(cool.powerW);
    expect(hot.expectedSoc).toBeGreaterThan(cool.expectedSoc);
    // Monotone in between.
    expect(at(150).eclipsePlanW).toBeGreaterThanOrEqual(cool.eclipsePlanW);
    expect(at(150).eclipsePlanW).toBeLessThanOrEqual(hot.eclipsePlanW);
  });

  it('gives 0 in SURVIVAL, sunlit or not', () => {
    const b = budget();
    for (const forecast of [sunlit(0, 1, 0.5, 2000), eclipse(0, 0.5)]) {
      const r = b.allowance(input({ storedWh: USABLE_WH, forecast, mode: 'SURVIVAL' }));
      expect(r).toMatchObject({ powerW: 0, reason: 'survival', eclipsePlanW: 0 });
      expect(r.expectedSoc).toBe(1);
    }
  });

  it('with no eclipse ahead (a high beta), is limited only by the array', () => {
    const b = budget();
    const noEclipse = (solarW: number): EclipseForecast => ({
      sunlitW: solarW,
      windows: [],
      inEclipse: false,
      nextChangeS: Number.POSITIVE_INFINITY,
      source: 'orbit',
    });
    // 200 W of array, 50 W of other loads: 150 W for the accelerator, whatever the battery or the thermal hint.
    for (const storedWh of [360, 600, USABLE_WH]) {
      for (const thermalHintW of [0, 100, MAX_W]) {
        const r = b.allowance(input({ storedWh, thermalHintW, forecast: noEclipse(200) }));
        expect(r.powerW).toBeCloseTo(150, 9);
        expect(r.eclipsePlanW).toBe(0);
      }
    }
    // A large array: the accelerator's maximum.
    expect(b.allowance(input({ forecast: noEclipse(2000) })).powerW).toBe(MAX_W);
    // No array at all (not learned yet, or lost): nothing.
    expect(b.allowance(input({ forecast: noEclipse(0) })).powerW).toBe(0);
  });

  it('with no eclipse ahead, never drains the battery through its floor', () => {
    // Step a battery along with the allowance for ten hours: an array that cannot carry the loads and the
    // thermal hint must not be topped up from the battery forever.
    const b = budget();
    const solarW = 200;
    let storedWh = 600;
    for (let t = 0; t < 10 * 3600; t += 60) {
      const r = b.allowance(
        input({
          nowS: t,
          storedWh,
          thermalHintW: MAX_W,
          forecast: {
            sunlitW: solarW,
            windows: [],
            inEclipse: false,
            nextChangeS: Infinity,
            source: 'orbit',
          },
        }),
      );
      const surplus = solarW - OTHER_W - r.powerW;
      storedWh += (surplus >= 0 ? surplus * ETA_C : surplus / ETA_D) / 60;
      storedWh = Math.min(USABLE_WH, storedWh);
    }
    expect(storedWh).toBeGreaterThanOrEqual(FLOOR_WH);
  });

  it('handles odd inputs: no usable energy, more stored than usable, now past the forecast', () => {
    const b = budget();
    const zero = b.allowance(input({ storedWh: 0, usableWh: 0, forecast: eclipse(0, 0.5) }));
    expect(zero.powerW).toBe(0);
    expect(zero.expectedSoc).toBe(0);
    const zeroSun = b.allowance(input({ storedWh: 0, usableWh: 0, forecast: sunlit(0, 1, 0.5, 400) }));
    expect(Number.isFinite(zeroSun.powerW)).toBe(true);
    expect(zeroSun.expectedSoc).toBe(0);

    const over = b.allowance(input({ storedWh: 2 * USABLE_WH, forecast: sunlit(0, 1, 0.5, 400) }));
    expect(over.powerW).toBe(MAX_W);
    expect(Number.isFinite(over.expectedSoc)).toBe(true);

    // The forecast describes a window that is already over, light unknown (a stale forecast).
    const stale: EclipseForecast = {
      sunlitW: 400,
      windows: [{ startS: 0, endS: 600 }],
      inEclipse: false,
      nextChangeS: 0,
      source: 'orbit',
    };
    const late = b.allowance(input({ nowS: 5000, forecast: stale }));
    expect(late.powerW).toBeGreaterThanOrEqual(0);
    expect(late.powerW).toBeLessThanOrEqual(MAX_W);
    // In eclipse with sunrise already past: a one-second horizon, bounded.
    const overdue = b.allowance(input({ nowS: 5000, forecast: { ...eclipse(0, 0.5), nextChangeS: 1800 } }));
    expect(overdue.powerW).toBe(MAX_W);
    expect(b.allowance(input({ nowS: 5000, storedWh: 100, forecast: eclipse(0, 0.5) })).powerW).toBe(0);
  });

  it('is never negative, never above max, never NaN (property)', () => {
    const b = budget();
    const arbForecast = fc.oneof(
      fc
        .record({
          sunH: fc.double({ min: 0, max: 3, noNaN: true }),
          eclH: fc.double({ min: 0, max: 1.5, noNaN: true }),
          solarW: fc.double({ min: 0, max: 5000, noNaN: true }),
          skew: fc.double({ min: -10_000, max: 10_000, noNaN: true }),
        })
        .map(({ sunH, eclH, solarW, skew }) => ({ forecast: sunlit(0, sunH, eclH, solarW), skew })),
      fc
        .record({
          h: fc.double({ min: 0, max: 1.5, noNaN: true }),
          skew: fc.double({ min: -10_000, max: 10_000, noNaN: true }),
        })
        .map(({ h, skew }) => ({ forecast: eclipse(0, h), skew })),
      fc
        .record({
          solarW: fc.double({ min: 0, max: 5000, noNaN: true }),
          skew: fc.double({ min: -10_000, max: 10_000, noNaN: true }),
        })
        .map(({ solarW, skew }) => ({
          forecast: {
            sunlitW: solarW,
            windows: [],
            inEclipse: false,
            nextChangeS: Number.POSITIVE_INFINITY,
            source: 'orbit' as const,
          },
          skew,
        })),
    );
    fc.assert(
      fc.property(
        arbForecast,
        fc.double({ min: 0, max: 5000, noNaN: true }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        fc.double({ min: 0, max: 2000, noNaN: true }),
        fc.double({ min: -100, max: 1000, noNaN: true }),
        fc.constantFrom(...POWER_MODES),
        ({ forecast, skew }, usableWh, storedFraction, otherLoadsW, thermalHintW, mode) => {
          const r = b.allowance({
            nowS: skew,
            storedWh: storedFraction * usableWh,
            usableWh,
            otherLoadsW,
            forecast,
            thermalHintW,
            mode,
          });
          expect(r.powerW).toBeGreaterThanOrEqual(0);
          expect(r.powerW).toBeLessThanOrEqual(MAX_W);
          expect(Number.isNaN(r.powerW)).toBe(false);
          expect(r.eclipsePlanW).toBeGreaterThanOrEqual(0);
          expect(r.eclipsePlanW).toBeLessThanOrEqual(MAX_W);
          expect(Number.isNaN(r.expectedSoc)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});
