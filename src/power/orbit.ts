/**
 * Circular-orbit geometry for power planning: period, and the eclipse in a cylindrical Earth shadow.
 *
 * The model (the same formulas the scenarios' physics documents; re-derived here, since flight code never
 * imports the plant):
 * - r = R + h, period T = 2 pi sqrt(r^3 / mu).
 * - beta* = asin(R / r): no eclipse when |beta| >= beta*; otherwise the eclipse fraction is
 *   fe = acos(sqrt(h^2 + 2 R h) / (r cos beta)) / pi, centred on phase 0.5 (orbit midnight, phase 0 being the
 *   subsolar point): in eclipse while |phase - 0.5| < fe / 2. Phase advances 1 per period.
 */

/** Mean Earth radius, km. */
export const EARTH_RADIUS_KM = 6371;
/** Earth's gravitational parameter, km^3/s^2. */
export const EARTH_MU_KM3_S2 = 398600.4418;

const DEG = Math.PI / 180;

export interface OrbitGeometry {
  readonly altitudeKm: number;
  readonly betaDeg: number;
  /** Orbit radius, km. */
  readonly radiusKm: number;
  readonly periodS: number;
  /** The beta angle beyond which the orbit sees no eclipse, degrees. */
  readonly betaStarDeg: number;
  /** Fraction of the period spent in the shadow, 0..1 (0 beyond beta*). */
  readonly eclipseFraction: number;
  readonly eclipseS: number;
  readonly sunlitS: number;
}

function checkAltitude(altitudeKm: number): void {
  if (!Number.isFinite(altitudeKm) || altitudeKm <= 0) {
    throw new RangeError(`altitude must be a positive number of km, got ${altitudeKm}`);
  }
}

/** The orbital period of a circular orbit at this altitude, s. */
export function orbitPeriodS(altitudeKm: number): number {
  checkAltitude(altitudeKm);
  const r = EARTH_RADIUS_KM + altitudeKm;
  return 2 * Math.PI * Math.sqrt((r * r * r) / EARTH_MU_KM3_S2);
}

/** The beta angle beyond which a circular orbit at this altitude is always sunlit, degrees. */
export function betaStarDeg(altitudeKm: number): number {
  checkAltitude(altitudeKm);
  return Math.asin(EARTH_RADIUS_KM / (EARTH_RADIUS_KM + altitudeKm)) / DEG;
}

/** Fraction of each orbit spent in the cylindrical shadow, 0..1. */
export function eclipseFraction(altitudeKm: number, betaDeg: number): number {
  checkAltitude(altitudeKm);
  if (!Number.isFinite(betaDeg)) throw new RangeError(`beta must be a number of degrees, got ${betaDeg}`);
  const h = altitudeKm;
  const r = EARTH_RADIUS_KM + h;
  const beta = Math.abs(betaDeg) * DEG;
  if (beta >= Math.asin(EARTH_RADIUS_KM / r)) return 0;
  const x = Math.sqrt(h * h + 2 * EARTH_RADIUS_KM * h) / (r * Math.cos(beta));
  if (x >= 1) return 0;
  return Math.acos(x) / Math.PI;
}

/** Eclipse duration per orbit, s. */
export function eclipseDurationS(altitudeKm: number, betaDeg: number): number {
  return eclipseFraction(altitudeKm, betaDeg) * orbitPeriodS(altitudeKm);
}

export function orbitGeometry(altitudeKm: number, betaDeg: number): OrbitGeometry {
  const periodS = orbitPeriodS(altitudeKm);
  const fe = eclipseFraction(altitudeKm, betaDeg);
  return {
    altitudeKm,
    betaDeg,
    radiusKm: EARTH_RADIUS_KM + altitudeKm,
    periodS,
    betaStarDeg: betaStarDeg(altitudeKm),
    eclipseFraction: fe,
    eclipseS: fe * periodS,
    sunlitS: (1 - fe) * periodS,
  };
}

/** Whether a phase (any real; only its fractional part counts) lies in an eclipse of fraction `fe`. */
export function inEclipseAtPhase(phase: number, fe: number): boolean {
  if (fe <= 0) return false;
  const frac = phase - Math.floor(phase);
  return Math.abs(frac - 0.5) < fe / 2;
}
