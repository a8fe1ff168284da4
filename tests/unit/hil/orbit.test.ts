import { describe, expect, it } from 'vitest';
import { exampleNode } from '../../../hil/plant/defaults.js';
import {
  betaStarDeg,
  eclipseFraction,
  eclipseWindows,
  inEclipse,
  orbitPeriodS,
  phaseAt,
  radiatorHeatIn,
  solarPowerW,
  sunlitSolarW,
} from '../../../hil/plant/orbit.js';
import { EARTH_IR_W_M2, SOLAR_CONSTANT_W_M2 } from '../../../hil/plant/params.js';

const leo = { altitudeKm: 550, betaDeg: 0 };

describe('orbit', () => {
  it('has a period of about 95.5 minutes at 550 km', () => {
    expect(orbitPeriodS(leo) / 60).toBeGreaterThan(95.3);
    expect(orbitPeriodS(leo) / 60).toBeLessThan(95.8);
    // Kepler: the period grows as r^1.5.
    const high = orbitPeriodS({ altitudeKm: 2000, betaDeg: 0 });
    expect(high / orbitPeriodS(leo)).toBeCloseTo(((6371 + 2000) / (6371 + 550)) ** 1.5, 10);
  });

  it('spends about 37 % of a beta-0 orbit at 550 km in eclipse, less at higher beta, none beyond beta*', () => {
    expect(eclipseFraction(leo)).toBeCloseTo(0.372, 3);
    expect(betaStarDeg(leo)).toBeCloseTo(67.0, 1);
    expect(eclipseFraction({ altitudeKm: 550, betaDeg: 45 })).toBeLessThan(eclipseFraction(leo));
    expect(eclipseFraction({ altitudeKm: 550, betaDeg: -45 })).toBe(
      eclipseFraction({ altitudeKm: 550, betaDeg: 45 }),
    );
    expect(eclipseFraction({ altitudeKm: 550, betaDeg: 66.9 })).toBeGreaterThan(0);
    expect(eclipseFraction({ altitudeKm: 550, betaDeg: 67.1 })).toBe(0);
    expect(eclipseFraction({ altitudeKm: 550, betaDeg: 80 })).toBe(0);
    expect(eclipseWindows({ altitudeKm: 550, betaDeg: 80 }, 0, 1e5)).toEqual([]);
  });

  it('centres the eclipse on orbit midnight', () => {
    const fe = eclipseFraction(leo);
    expect(inEclipse(leo, 0.5)).toBe(true);
    expect(inEclipse(leo, 0)).toBe(false);
    expect(inEclipse(leo, 0.5 - fe / 2 + 1e-6)).toBe(true);
    expect(inEclipse(leo, 0.5 + fe / 2 - 1e-6)).toBe(true);
    expect(inEclipse(leo, 0.5 - fe / 2 - 1e-6)).toBe(false);
    expect(inEclipse(leo, 1.5)).toBe(true);
  });

  it('advances the phase one per period from the start phase', () => {
    const T = orbitPeriodS(leo);
    expect(phaseAt(leo, 0)).toBe(0);
    expect(phaseAt(leo, T / 4)).toBeCloseTo(0.25, 12);
    expect(phaseAt({ ...leo, startPhase: 0.9 }, T / 5)).toBeCloseTo(0.1, 12);
    expect(phaseAt(leo, 3 * T + T / 2)).toBeCloseTo(0.5, 9);
  });

  it('lists the eclipse windows in a time range, clipped to it', () => {
    const T = orbitPeriodS(leo);
    const fe = eclipseFraction(leo);
    const windows = eclipseWindows(leo, 0, 3 * T);
    expect(windows).toHaveLength(3);
    windows.forEach(([start, end], k) => {
      expect(start).toBeCloseTo((k + 0.5 - fe / 2) * T, 6);
      expect(end - start).toBeCloseTo(fe * T, 6);
      expect(inEclipse(leo, phaseAt(leo, (start + end) / 2))).toBe(true);
    });
    // One under way at the start of the range starts there; one under way at its end ends there.
    const clipped = eclipseWindows(leo, T / 2, T * 1.6);
    expect(clipped[0]?.[0]).toBe(T / 2);
    expect(clipped.at(-1)?.[1]).toBe(T * 1.6);
    // With a start phase in the eclipse, the first window begins at 0.
    expect(eclipseWindows({ ...leo, startPhase: 0.5 }, 0, T)[0]?.[0]).toBe(0);
    expect(eclipseWindows(leo, 100, 50)).toEqual([]);
  });

  it('gives solar power in sunlight only, less any degradation', () => {
    const p = exampleNode();
    const full = SOLAR_CONSTANT_W_M2 * 4 * 0.3 * 0.85;
    expect(sunlitSolarW(p.solar)).toBeCloseTo(full, 9);
    expect(sunlitSolarW(p.solar, 0.25)).toBeCloseTo(full * 0.75, 9);
    expect(solarPowerW(p, 0.1)).toBeCloseTo(full, 9);
    expect(solarPowerW(p, 0.5)).toBe(0);
  });

  it('heats the radiator with Earth IR always and albedo on the day side only, peaking at noon', () => {
    const p = exampleNode();
    const r = p.thermal.radiator;
    const f = (6371 / 6921) ** 2;
    const noon = radiatorHeatIn(p, 0);
    expect(noon.infraredW).toBeCloseTo(r.emissivity * r.areaM2 * f * EARTH_IR_W_M2, 9);
    expect(noon.albedoW).toBeCloseTo(r.absorptivity * r.areaM2 * f * 0.3 * SOLAR_CONSTANT_W_M2, 9);
    expect(radiatorHeatIn(p, 0.125).albedoW).toBeCloseTo(noon.albedoW * Math.cos(Math.PI / 4), 9);
    expect(radiatorHeatIn(p, 0.3).albedoW).toBe(0);
    expect(radiatorHeatIn(p, 0.5)).toEqual({ infraredW: noon.infraredW, albedoW: 0, totalW: noon.infraredW });
    const given = exampleNode({ thermal: { radiator: { earthViewFactor: 0.5 } } });
    expect(radiatorHeatIn(given, 0.5).infraredW).toBeCloseTo(
      r.emissivity * r.areaM2 * 0.5 * EARTH_IR_W_M2,
      9,
    );
  });
});
