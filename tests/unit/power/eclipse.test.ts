import { describe, expect, it } from 'vitest';
import { EclipseForecaster } from '../../../src/power/eclipse.js';
import { orbitGeometry } from '../../../src/power/orbit.js';

const ALT = 550;
const BETA = 0;
const g = orbitGeometry(ALT, BETA);
/** The model's first eclipse (start phase 0 at t = 0): phase 0.5 - fe/2 .. 0.5 + fe/2. */
const MODEL_START = (0.5 - g.eclipseFraction / 2) * g.periodS;
const SUNLIT_W = 800;

/** Solar power from an orbit whose eclipses come `shiftS` later than the model's. */
function solar(timeS: number, shiftS: number): number {
  const since = (((timeS - MODEL_START - shiftS) % g.periodS) + g.periodS) % g.periodS;
  return since < g.eclipseS ? 0 : SUNLIT_W + 20 * Math.sin(timeS / 300);
}

describe('EclipseForecaster', () => {
  it('forecasts from the orbit model before it has seen a cycle', () => {
    const f = new EclipseForecaster({ altitudeKm: ALT, betaDeg: BETA });
    const fc = f.forecast(0, g.periodS + g.eclipseS);
    expect(fc.source).toBe('orbit');
    expect(fc.inEclipse).toBe(false);
    expect(fc.windows).toHaveLength(2);
    expect(fc.windows[0]?.startS).toBeCloseTo(MODEL_START, 6);
    expect(fc.windows[0]?.endS).toBeCloseTo(MODEL_START + g.eclipseS, 6);
    expect(fc.windows[1]?.startS).toBeCloseTo(MODEL_START + g.periodS, 6);
    expect(fc.nextChangeS).toBeCloseTo(MODEL_START, 6);
    const inside = f.forecast(MODEL_START + 100, 1000);
    expect(inside.inEclipse).toBe(true);
    expect(inside.windows).toEqual([{ startS: MODEL_START + 100, endS: MODEL_START + 1100 }]);
    expect(inside.nextChangeS).toBeCloseTo(MODEL_START + g.eclipseS, 6);
  });

  it('has no windows beyond beta*', () => {
    const f = new EclipseForecaster({ altitudeKm: ALT, betaDeg: 75 });
    const fc = f.forecast(0, 3 * g.periodS);
    expect(fc.windows).toEqual([]);
    expect(fc.nextChangeS).toBe(Number.POSITIVE_INFINITY);
  });

  it('re-phases to observed transitions after one cycle (eclipse 300 s later than the model)', () => {
    const shift = 300;
    const f = new EclipseForecaster({ altitudeKm: ALT, betaDeg: BETA });
    const step = 10;
    let t = 0;
    for (; t <= MODEL_START + shift + 100; t += step) f.update(t, solar(t, shift));
    // Sunset seen, no sunrise yet: still the model, but the light now is what was observed.
    expect(f.forecast(t, 1000).source).toBe('orbit');
    expect(f.forecast(t, 1000).inEclipse).toBe(true);
    for (; t <= MODEL_START + shift + g.eclipseS + 200; t += step) f.update(t, solar(t, shift));
    const fc = f.forecast(t, g.periodS + g.eclipseS);
    expect(fc.source).toBe('observed');
    expect(fc.inEclipse).toBe(false);
    const next = fc.windows[0];
    expect(next).toBeDefined();
    expect(Math.abs((next?.startS ?? 0) - (MODEL_START + shift + g.periodS))).toBeLessThanOrEqual(step);
    expect(Math.abs((next?.endS ?? 0) - (next?.startS ?? 0) - g.eclipseS)).toBeLessThanOrEqual(step);
    expect(fc.nextChangeS).toBe(next?.startS);
    expect(fc.sunlitW).toBeGreaterThan(SUNLIT_W - 25);
    expect(fc.sunlitW).toBeLessThan(SUNLIT_W + 25);

    // A second sunset gives an observed period; the phase stays locked over further orbits.
    for (; t <= 3.2 * g.periodS; t += step) f.update(t, solar(t, shift));
    expect(Math.abs(f.periodS - g.periodS)).toBeLessThan(2 * step);
    const later = f.forecast(t, g.periodS);
    const w = later.windows.find((x) => x.startS > t);
    const expected = MODEL_START + shift + 3 * g.periodS;
    expect(w).toBeDefined();
    expect(Math.abs((w?.startS ?? 0) - expected)).toBeLessThanOrEqual(2 * step);
  });

  it('says the eclipse is still on when it runs past the model (late sunrise), until the sunrise is seen', () => {
    const shift = 300;
    const f = new EclipseForecaster({ altitudeKm: ALT, betaDeg: BETA });
    let t = 0;
    for (; t <= MODEL_START + g.eclipseS + 100; t += 10) f.update(t, solar(t, shift));
    const fc = f.forecast(t, 2000);
    expect(fc.inEclipse).toBe(true);
    expect(fc.windows[0]?.startS).toBe(t);
    expect(Math.abs(fc.nextChangeS - (MODEL_START + shift + g.eclipseS))).toBeLessThanOrEqual(10);
  });

  it('learns the sunlit power and relearns it when the array loses power for good', () => {
    const f = new EclipseForecaster({ altitudeKm: ALT, betaDeg: 75 });
    for (let t = 0; t < 1000; t += 10) f.update(t, 1000);
    expect(f.forecast(1000, 100).sunlitW).toBeCloseTo(1000, 6);
    // Degraded to 40%: looks dark at first, but far too long for an eclipse.
    let t = 1000;
    for (; t < 1000 + g.periodS * 2; t += 10) f.update(t, 400);
    const fc = f.forecast(t, 100);
    expect(fc.inEclipse).toBe(false);
    expect(fc.sunlitW).toBeCloseTo(400, 6);
  });
});
