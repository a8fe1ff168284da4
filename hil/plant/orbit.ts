/**
 * The orbit as the plant sees it: a circular orbit with a cylindrical Earth shadow (the model in `params.ts`).
 * Phase is the fraction of a period from local noon (the subsolar point): 0.5 is orbit midnight, the middle of
 * the eclipse. Pure functions of the parameters and of time passed in.
 */
import {
  EARTH_ALBEDO,
  EARTH_IR_W_M2,
  EARTH_MU_KM3_S2,
  EARTH_RADIUS_KM,
  type OrbitParams,
  type RadiatorParams,
  SOLAR_CONSTANT_W_M2,
  type SolarArrayParams,
} from './params.js';

/** The orbit parameters themselves, or anything that carries them (a `PlantParams`). */
export type OrbitSource = OrbitParams | { readonly orbit: OrbitParams };

function orbitOf(source: OrbitSource): OrbitParams {
  return 'orbit' in source ? source.orbit : source;
}

const DEG = Math.PI / 180;

/** Orbit radius r = R + h, km. */
export function orbitRadiusKm(source: OrbitSource): number {
  return EARTH_RADIUS_KM + orbitOf(source).altitudeKm;
}

/** Orbital period T = 2 pi sqrt(r^3 / mu), seconds. */
export function orbitPeriodS(source: OrbitSource): number {
  const r = orbitRadiusKm(source);
  return 2 * Math.PI * Math.sqrt((r * r * r) / EARTH_MU_KM3_S2);
}

/** The beta angle beyond which the orbit never enters the shadow, beta* = asin(R / r), degrees. */
export function betaStarDeg(source: OrbitSource): number {
  return Math.asin(EARTH_RADIUS_KM / orbitRadiusKm(source)) / DEG;
}

/** Fraction of each orbit spent in eclipse, 0..~0.4: acos(sqrt(h^2 + 2Rh) / (r cos beta)) / pi below beta*. */
export function eclipseFraction(source: OrbitSource): number {
  const orbit = orbitOf(source);
  if (Math.abs(orbit.betaDeg) >= betaStarDeg(orbit)) return 0;
  const h = orbit.altitudeKm;
  const r = orbitRadiusKm(orbit);
  const x = Math.sqrt(h * h + 2 * EARTH_RADIUS_KM * h) / (r * Math.cos(orbit.betaDeg * DEG));
  return x >= 1 ? 0 : Math.acos(x) / Math.PI;
}

/** Phase reduced to [0, 1). */
export function wrapPhase(phase: number): number {
  const p = phase - Math.floor(phase);
  return p >= 1 ? 0 : p;
}

/** Orbit phase at `timeS` seconds after the start: startPhase + t / T, modulo 1. */
export function phaseAt(source: OrbitSource, timeS: number): number {
  const orbit = orbitOf(source);
  return wrapPhase((orbit.startPhase ?? 0) + timeS / orbitPeriodS(orbit));
}

/** Whether the node is in the Earth's shadow at this phase: |phase - 0.5| < fe / 2. */
export function inEclipse(source: OrbitSource, phase: number): boolean {
  return Math.abs(wrapPhase(phase) - 0.5) < eclipseFraction(source) / 2;
}

/** Solar array output while sunlit, W: S * area * efficiency * pointingFactor * (1 - degradation). */
export function sunlitSolarW(solar: SolarArrayParams, degradation = solar.degradation ?? 0): number {
  return (
    SOLAR_CONSTANT_W_M2 * solar.areaM2 * solar.efficiency * (solar.pointingFactor ?? 1) * (1 - degradation)
  );
}

/** Solar array output at this phase, W (0 in eclipse). */
export function solarPowerW(
  params: { readonly orbit: OrbitParams; readonly solar: SolarArrayParams },
  phase: number,
  degradation?: number,
): number {
  return inEclipse(params.orbit, phase) ? 0 : sunlitSolarW(params.solar, degradation);
}

/** The fraction of the radiator's view filled by the Earth: the given one, or (R / r)^2 for a nadir plate. */
export function earthViewFactor(orbit: OrbitSource, radiator: RadiatorParams): number {
  const ratio = EARTH_RADIUS_KM / orbitRadiusKm(orbit);
  return radiator.earthViewFactor ?? ratio * ratio;
}

export interface EnvironmentHeat {
  /** Earth infrared absorbed by the radiator, W (constant around the orbit). */
  readonly infraredW: number;
  /** Reflected sunlight absorbed, W: peaks at local noon, 0 in eclipse and on the night side. */
  readonly albedoW: number;
  readonly totalW: number;
}

/** Heat the radiator absorbs from the Earth at this phase. */
export function radiatorHeatIn(
  params: { readonly orbit: OrbitParams; readonly thermal: { readonly radiator: RadiatorParams } },
  phase: number,
): EnvironmentHeat {
  const radiator = params.thermal.radiator;
  const f = earthViewFactor(params.orbit, radiator);
  const infraredW = radiator.emissivity * radiator.areaM2 * f * EARTH_IR_W_M2;
  const p = wrapPhase(phase);
  const albedoW = inEclipse(params.orbit, p)
    ? 0
    : radiator.absorptivity *
      radiator.areaM2 *
      f *
      EARTH_ALBEDO *
      SOLAR_CONSTANT_W_M2 *
      Math.max(0, Math.cos(2 * Math.PI * p) * Math.cos(params.orbit.betaDeg * DEG));
  return { infraredW, albedoW, totalW: infraredW + albedoW };
}

/**
 * The eclipses between `fromS` and `toS` (seconds after the start), in order, as [start, end] in seconds, clipped
 * to the range: an eclipse under way at `fromS` starts at `fromS`, one still under way at `toS` ends there. Empty
 * above beta*.
 */
export function eclipseWindows(source: OrbitSource, fromS: number, toS: number): [number, number][] {
  const orbit = orbitOf(source);
  const fe = eclipseFraction(orbit);
  if (fe <= 0 || toS <= fromS) return [];
  const period = orbitPeriodS(orbit);
  const start0 = (0.5 - fe / 2 - (orbit.startPhase ?? 0)) * period;
  const duration = fe * period;
  const windows: [number, number][] = [];
  // The first eclipse k whose end is after fromS.
  let k = Math.floor((fromS - start0 - duration) / period);
  for (; ; k++) {
    const start = start0 + k * period;
    const end = start + duration;
    if (start >= toS) break;
    if (end <= fromS) continue;
    windows.push([Math.max(start, fromS), Math.min(end, toS)]);
  }
  return windows;
}
