import { describe, expect, it } from 'vitest';
import {
  betaStarDeg,
  eclipseDurationS,
  eclipseFraction,
  inEclipseAtPhase,
  orbitGeometry,
  orbitPeriodS,
} from '../../../src/power/orbit.js';

describe('orbit geometry', () => {
  it('gives a ~5736 s period and a ~0.37 eclipse fraction at 550 km, beta 0', () => {
    const period = orbitPeriodS(550);
    expect(Math.abs(period - 5736)).toBeLessThan(10);
    expect(eclipseFraction(550, 0)).toBeCloseTo(0.372, 2);
    expect(eclipseDurationS(550, 0)).toBeCloseTo(eclipseFraction(550, 0) * period, 6);
  });

  it('has no eclipse beyond beta*, and a shorter one as beta grows', () => {
    expect(betaStarDeg(550)).toBeCloseTo(67.0, 0);
    expect(eclipseFraction(550, 75)).toBe(0);
    expect(eclipseFraction(550, -75)).toBe(0);
    expect(eclipseFraction(550, 40)).toBeLessThan(eclipseFraction(550, 0));
    expect(eclipseFraction(550, 40)).toBeGreaterThan(0);
    expect(eclipseFraction(550, 40)).toBe(eclipseFraction(550, -40));
  });

  it('sums eclipse and sunlight to the period, and centres the eclipse on midnight', () => {
    const g = orbitGeometry(550, 20);
    expect(g.eclipseS + g.sunlitS).toBeCloseTo(g.periodS, 6);
    expect(inEclipseAtPhase(0.5, g.eclipseFraction)).toBe(true);
    expect(inEclipseAtPhase(1.5, g.eclipseFraction)).toBe(true);
    expect(inEclipseAtPhase(0, g.eclipseFraction)).toBe(false);
    expect(inEclipseAtPhase(0.5 - g.eclipseFraction / 2 - 0.001, g.eclipseFraction)).toBe(false);
    expect(inEclipseAtPhase(0.5 + g.eclipseFraction / 2 - 0.001, g.eclipseFraction)).toBe(true);
  });

  it('rejects a non-positive altitude', () => {
    expect(() => orbitPeriodS(0)).toThrow(RangeError);
  });
});
