/**
 * The optimum: the most compute any controller could deliver over a scenario without a limit violation, to
 * score controllers against. It plans with the model in `plant/params.ts`, with full knowledge of the orbit
 * ahead.
 *
 * - `upperBounds`: closed-form bounds on the average accelerator power (thermal and energy), turned into
 *   compute through the concave hull of compute(P). Cheap, and loose in places; a sanity ceiling for the LP.
 * - `optimum`: a linear programme over the discretised scenario (accelerator power, compute, battery charge
 *   and discharge, stored energy, cold plate and radiator temperatures per step), with the radiator's T^4
 *   rejection linearised by tangents (which lie under the convex curve, so the plan never relies on more
 *   rejection than physics gives) and re-linearised around each solution (sequential LP).
 * - `score`: delivered / optimum, 0 for a controller that broke a limit.
 *
 * The orbit and the accelerator are the plant's own formulas (`plant/orbit.ts`, `plant/accelerator.ts`).
 */
import highsModule from 'highs';
import { maxPowerW } from './plant/accelerator.js';
import {
  earthViewFactor,
  eclipseFraction,
  orbitPeriodS,
  sunlitSolarW as plantSunlitSolarW,
  wrapPhase,
} from './plant/orbit.js';
import {
  type AcceleratorParams,
  EARTH_ALBEDO,
  EARTH_IR_W_M2,
  KELVIN,
  type PlantParams,
  SOLAR_CONSTANT_W_M2,
  STEFAN_BOLTZMANN,
} from './plant/params.js';

// -----------------------------------------------------------------------------------------------------------
// Orbit (private; the formulas of params.ts)

/** Deep-space sink temperature of the radiation law, K. */
const SPACE_K = 3;

interface OrbitModel {
  readonly periodS: number;
  readonly eclipseFraction: number;
  readonly startPhase: number;
  readonly cosBeta: number;
}

function orbitModel(params: PlantParams): OrbitModel {
  return {
    periodS: orbitPeriodS(params),
    eclipseFraction: eclipseFraction(params),
    startPhase: params.orbit.startPhase ?? 0,
    cosBeta: Math.cos((params.orbit.betaDeg * Math.PI) / 180),
  };
}

function phaseAt(orbit: OrbitModel, timeS: number): number {
  return wrapPhase(orbit.startPhase + timeS / orbit.periodS);
}

function sunlitAt(orbit: OrbitModel, phase: number): boolean {
  return !(Math.abs(phase - 0.5) < orbit.eclipseFraction / 2);
}

/** Solar array output while sunlit, W. */
function sunlitSolarW(params: PlantParams): number {
  return plantSunlitSolarW(params.solar);
}

function viewFactor(params: PlantParams): number {
  return earthViewFactor(params.orbit, params.thermal.radiator);
}

/** Earth infrared absorbed by the radiator, W (constant), and the peak albedo (at local noon, beta 0), W. */
function environment(params: PlantParams): { infraredW: number; albedoPeakW: number } {
  const rad = params.thermal.radiator;
  const f = viewFactor(params);
  return {
    infraredW: rad.emissivity * rad.areaM2 * f * EARTH_IR_W_M2,
    albedoPeakW: rad.absorptivity * rad.areaM2 * f * EARTH_ALBEDO * SOLAR_CONSTANT_W_M2,
  };
}

/** Averages over [fromS, toS): the sunlit fraction and the albedo factor max(0, cos(2 pi phase) cos beta). */
function averages(
  orbit: OrbitModel,
  fromS: number,
  toS: number,
  samples: number,
): { sunlit: number; albedo: number } {
  let sunlit = 0;
  let albedo = 0;
  const dt = (toS - fromS) / samples;
  for (let i = 0; i < samples; i++) {
    const phase = phaseAt(orbit, fromS + (i + 0.5) * dt);
    if (!sunlitAt(orbit, phase)) continue;
    sunlit += 1;
    albedo += Math.max(0, Math.cos(2 * Math.PI * phase) * orbit.cosBeta);
  }
  return { sunlit: sunlit / samples, albedo: albedo / samples };
}

// -----------------------------------------------------------------------------------------------------------
// Accelerator: compute against power

interface HullVertex {
  readonly powerW: number;
  /** Compute rate, computeAtMax units. */
  readonly rate: number;
}

function acceleratorPowerW(acc: AcceleratorParams, x: number): number {
  return acc.staticW + acc.dynamicW * x * x * x;
}

/** The relative clock (f / maxMHz) with the most compute per watt, clamped to [min, max]. */
function mostEfficientX(acc: AcceleratorParams): number {
  const xMin = acc.minMHz / acc.maxMHz;
  const xStar = acc.dynamicW > 0 ? Math.cbrt(acc.staticW / (2 * acc.dynamicW)) : 1;
  return Math.min(1, Math.max(xMin, xStar));
}

/** Largest accelerator power, W: P(maxMHz). */
export function maxAcceleratorPowerW(acc: AcceleratorParams): number {
  return maxPowerW(acc);
}

/**
 * The concave hull of compute against average accelerator power: the most compute rate reachable at an
 * average power, time-sharing between off (0 W) and any clock in [minMHz, maxMHz]. Linear from 0 to the most
 * efficient clock, then along P(f) up to maxMHz; flat beyond P(maxMHz).
 */
export function computeHullRate(acc: AcceleratorParams, powerW: number): number {
  if (powerW <= 0) return 0;
  const x0 = mostEfficientX(acc);
  const p0 = acceleratorPowerW(acc, x0);
  if (powerW <= p0) return (acc.computeAtMax * x0 * powerW) / p0;
  if (powerW >= maxAcceleratorPowerW(acc)) return acc.computeAtMax;
  return acc.computeAtMax * Math.cbrt((powerW - acc.staticW) / acc.dynamicW);
}

/**
 * Vertices of the piecewise-linear hull the LP uses (chords under the curve): (0,0), the efficient point,
 * then `segments - 1` chords to P(max).
 */
function hullVertices(acc: AcceleratorParams, segments: number): HullVertex[] {
  const x0 = mostEfficientX(acc);
  const vertices: HullVertex[] = [
    { powerW: 0, rate: 0 },
    { powerW: acceleratorPowerW(acc, x0), rate: acc.computeAtMax * x0 },
  ];
  const curved = x0 < 1 && acc.dynamicW > 0 ? Math.max(1, segments - 1) : 0;
  for (let i = 1; i <= curved; i++) {
    const x = x0 + ((1 - x0) * i) / curved;
    vertices.push({ powerW: acceleratorPowerW(acc, x), rate: acc.computeAtMax * x });
  }
  return vertices;
}

// -----------------------------------------------------------------------------------------------------------
// Shared model pieces

/**
 * Switched loads that are on when the scenario starts, W (a load without `initiallyOn` is off, as in the
 * plant).
 */
function initialSwitchedW(params: PlantParams): number {
  return params.loads.switched.reduce((sum, load) => sum + (load.initiallyOn === true ? load.watts : 0), 0);
}

/** eps * (1 - degradation) * area * sigma: the radiator's rejection is this times (Tr^4 - 3^4), kelvin. */
function radiationCoefficient(params: PlantParams): number {
  const rad = params.thermal.radiator;
  return rad.emissivity * (1 - (rad.degradation ?? 0)) * rad.areaM2 * STEFAN_BOLTZMANN;
}

function rejectedW(k: number, radiatorK: number): number {
  return k * (radiatorK ** 4 - SPACE_K ** 4);
}

/** The radiator temperature (degC) whose rejection equals `heatW`. */
function radiatorForHeatC(k: number, heatW: number): number {
  return Math.sqrt(Math.sqrt(Math.max(0, heatW) / k + SPACE_K ** 4)) - KELVIN;
}

// -----------------------------------------------------------------------------------------------------------
// Closed-form upper bounds

export interface UpperBounds {
  readonly durationS: number;
  /** Fraction of the scenario spent sunlit. */
  readonly sunlitFraction: number;
  /** Heat the radiator absorbs from the Earth, averaged over the scenario, W. */
  readonly absorbedHeatW: number;
  /**
   * Largest constant accelerator power whose steady state holds the junction at junctionMaxC with the average
   * absorbed heat, W (0..P(maxMHz)).
   */
  readonly thermalSteadyPowerW: number;
  /** The radiator temperature of that steady state, degC. */
  readonly steadyRadiatorC: number;
  /**
   * Heat the nodes can soak up from their initial temperatures to junctionMaxC, spread over the scenario, W.
   * A scenario that starts cold can run above the steady state until it warms, so the bound must allow it.
   */
  readonly thermalStoragePowerW: number;
  /** The thermal bound on the average accelerator power: steady + storage, capped at P(maxMHz), W. */
  readonly thermalPowerW: number;
  /**
   * The energy bound on the average accelerator power, W: the most the average energy balance sustains with
   * no net draw on the battery. Loads used while sunlit come straight off the array; only what runs in
   * eclipse pays the charge and discharge efficiencies (so the bound runs the accelerator in sunlight first,
   * which beats any constant power when energy binds).
   */
  readonly energyPowerW: number;
  /** min(thermal, energy), W. */
  readonly powerW: number;
  /**
   * Compute (computeAtMax units x seconds) at each bound: hull(P) * durationS (Jensen: no schedule beats it).
   */
  readonly thermalCompute: number;
  readonly energyCompute: number;
  readonly compute: number;
}

export function upperBounds(params: PlantParams, durationS: number): UpperBounds {
  if (!(durationS > 0)) throw new RangeError(`durationS must be positive, got ${durationS}`);
  const acc = params.accelerator;
  const pMax = maxAcceleratorPowerW(acc);
  const orbit = orbitModel(params);
  const samples = Math.min(200_000, Math.max(2000, Math.ceil(durationS)));
  const avg = averages(orbit, 0, durationS, samples);
  const env = environment(params);
  const absorbedHeatW = env.infraredW + env.albedoPeakW * avg.albedo;
  const loadW = params.loads.baseW + initialSwitchedW(params);

  // Thermal steady state: with P the accelerator power and L the other loads, everything leaves by the
  // radiator: out(Tr) = P + L + Qin; Tcp = Tr + (P + L) Rcr; Tj = Tcp + P Rjc. Tj rises with Tr: bisect
  // Tj(Tr) = Tmax.
  const th = params.thermal;
  const k = radiationCoefficient(params);
  const rcr = th.coldPlateToRadiatorKPerW;
  const rjc = th.junctionToColdPlateKPerW;
  const tMaxK = params.limits.junctionMaxC + KELVIN;
  const junctionK = (trK: number): number => {
    const through = rejectedW(k, trK) - absorbedHeatW;
    return trK + through * rcr + (through - loadW) * rjc;
  };
  let thermalSteadyPowerW = 0;
  let steadyRadiatorC = params.limits.junctionMaxC;
  if (junctionK(tMaxK) > tMaxK) {
    let lo = SPACE_K;
    let hi = tMaxK;
    for (let i = 0; i < 100; i++) {
      const mid = (lo + hi) / 2;
      if (junctionK(mid) > tMaxK) hi = mid;
      else lo = mid;
    }
    steadyRadiatorC = lo - KELVIN;
    thermalSteadyPowerW = Math.min(pMax, Math.max(0, rejectedW(k, lo) - absorbedHeatW - loadW));
  }
  const headroom = (c: number, initialC: number): number =>
    c * Math.max(0, params.limits.junctionMaxC - initialC);
  const thermalStoragePowerW =
    (headroom(th.junction.heatCapacityJPerK, th.junction.initialC) +
      headroom(th.coldPlate.heatCapacityJPerK, th.coldPlate.initialC) +
      headroom(th.radiator.heatCapacityJPerK, th.radiator.initialC)) /
    durationS;
  const thermalPowerW = Math.min(pMax, thermalSteadyPowerW + thermalStoragePowerW);

  const energyPowerW = energyBoundW(
    sunlitSolarW(params),
    avg.sunlit,
    loadW,
    params.battery.chargeEfficiency,
    params.battery.dischargeEfficiency,
    params.battery.maxChargeW,
    pMax,
  );
  const powerW = Math.min(thermalPowerW, energyPowerW);
  return {
    durationS,
    sunlitFraction: avg.sunlit,
    absorbedHeatW,
    thermalSteadyPowerW,
    steadyRadiatorC,
    thermalStoragePowerW,
    thermalPowerW,
    energyPowerW,
    powerW,
    thermalCompute: computeHullRate(acc, thermalPowerW) * durationS,
    energyCompute: computeHullRate(acc, energyPowerW) * durationS,
    compute: computeHullRate(acc, powerW) * durationS,
  };
}

/**
 * The most average accelerator power the energy balance sustains, W, over a schedule that is sunlit a
 * fraction `fs` of the time, with no net draw on the battery. Per unit time: in sunlight the array carries
 * the loads directly and the surplus charges the battery (up to maxCharge, stored at etaC); in eclipse every
 * watt comes from storage at etaD. A watt of accelerator power costs one watt of surplus in sunlight but 1 /
 * (etaC etaD) in eclipse, so the best schedule runs the accelerator in sunlight as hard as the eclipse loads
 * allow and gives eclipse what storage is left.
 */
function energyBoundW(
  solarW: number,
  fs: number,
  loadW: number,
  etaC: number,
  etaD: number,
  maxChargeW: number,
  pMax: number,
): number {
  if (fs <= 0) return 0;
  const margin = solarW - loadW;
  if (margin <= 0) return 0;
  const need = ((1 - fs) * loadW) / etaD;
  const stored = (p: number): number => fs * etaC * Math.min(maxChargeW, Math.max(0, margin - p));
  if (stored(0) < need) return 0;
  const pSun = Math.max(0, Math.min(pMax, margin - need / (fs * etaC)));
  const left = stored(pSun) - need;
  const pEclipse = fs < 1 ? Math.min(pMax, Math.max(0, (left * etaD) / (1 - fs))) : 0;
  return fs * pSun + (1 - fs) * pEclipse;
}

// -----------------------------------------------------------------------------------------------------------
// The LP optimum

export interface OptimumOptions {
  /** Planning step, s (default 60). The last step is shorter when the duration is not a multiple. */
  readonly stepS?: number;
  /**
   * LP solves: the first around a steady-state radiator temperature, then each around the last plan (default
   * 3).
   */
  readonly iterations?: number;
  /** Segments of the piecewise-linear compute hull (default 12). */
  readonly hullSegments?: number;
  /** Switched loads assumed on throughout, W (default: those the scenario starts with on). */
  readonly switchedW?: number;
}

export interface OptimumStep {
  /** Start of the step, s. The states below are at its end. */
  readonly timeS: number;
  readonly durationS: number;
  /** Average accelerator power over the step, W. */
  readonly powerW: number;
  /** Compute rate over the step (computeAtMax units). */
  readonly compute: number;
  readonly storedWh: number;
  /** Quasi-static junction: cold plate + P * Rjc, degC. */
  readonly junctionC: number;
  readonly coldPlateC: number;
  readonly radiatorC: number;
  /** Sunlit for at least half of the step. */
  readonly sunlit: boolean;
  readonly sunlitFraction: number;
  /** Average solar array output over the step, W. */
  readonly solarW: number;
  /** Average heat the radiator absorbs from the Earth over the step (infrared and albedo), W. */
  readonly heatInW: number;
  /** Battery charge (bus side) and discharge (onto the bus), W. */
  readonly chargeW: number;
  readonly dischargeW: number;
}

export interface OptimumResult {
  /** Total compute over the scenario, computeAtMax units x seconds (0 unless solved). */
  readonly compute: number;
  /** Average accelerator power over the scenario, W. */
  readonly averagePowerW: number;
  readonly perStep: OptimumStep[];
  /** Wall time spent in the LP solver, ms. */
  readonly solveMs: number;
  /** LP solves run. */
  readonly iterations: number;
  /** The compute of each solve, in order (non-decreasing: each solve's plan stays feasible in the next). */
  readonly history: number[];
  /** HiGHS model status of the plan returned ('Optimal'), or of the first solve that failed. */
  readonly status: string;
}

/**
 * The package ships one `types.d.ts` for both its builds, and it reads as CommonJS (`"type": "commonjs"`), so
 * under NodeNext TypeScript sees the loader at `.default`; the ESM build that Node actually imports exports
 * the loader itself as the default. Take whichever is callable.
 */
type HighsLoader = typeof highsModule.default;
type Highs = Awaited<ReturnType<HighsLoader>>;
const highsLoader: HighsLoader =
  typeof highsModule === 'function' ? (highsModule as HighsLoader) : highsModule.default;
let solver: Promise<Highs> | undefined;

function highs(): Promise<Highs> {
  if (solver === undefined) solver = highsLoader();
  return solver;
}

interface StepInput {
  readonly startS: number;
  readonly dt: number;
  readonly sunlit: number;
  readonly solarW: number;
  readonly heatInW: number;
}

/** A linear expression term: coefficient and variable name. */
type Term = readonly [number, string];

function num(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`non-finite LP coefficient ${x}`);
  return String(x);
}

function expression(terms: readonly Term[]): string {
  const parts: string[] = [];
  for (const [coef, name] of terms) {
    if (coef === 0) continue;
    const sign = coef < 0 ? '-' : '+';
    const mag = Math.abs(coef);
    const body = mag === 1 ? name : `${num(mag)} ${name}`;
    parts.push(parts.length === 0 ? (coef < 0 ? `- ${body}` : body) : `${sign} ${body}`);
  }
  const lines: string[] = [];
  for (let i = 0; i < parts.length; i += 8) lines.push(parts.slice(i, i + 8).join(' '));
  return lines.join('\n   ');
}

export async function optimum(
  params: PlantParams,
  durationS: number,
  options: OptimumOptions = {},
): Promise<OptimumResult> {
  if (!(durationS > 0)) throw new RangeError(`durationS must be positive, got ${durationS}`);
  const stepS = options.stepS ?? 60;
  if (!(stepS > 0)) throw new RangeError(`stepS must be positive, got ${stepS}`);
  const iterations = Math.max(1, Math.floor(options.iterations ?? 3));
  const acc = params.accelerator;
  const th = params.thermal;
  const bat = params.battery;
  const pMax = maxAcceleratorPowerW(acc);
  const loadW = params.loads.baseW + (options.switchedW ?? initialSwitchedW(params));
  const orbit = orbitModel(params);
  const env = environment(params);
  const solarSunlitW = sunlitSolarW(params);

  const steps: StepInput[] = [];
  const count = Math.max(1, Math.ceil(durationS / stepS - 1e-9));
  for (let i = 0; i < count; i++) {
    const startS = i * stepS;
    const dt = Math.min(stepS, durationS - startS);
    const a = averages(orbit, startS, startS + dt, Math.min(240, Math.max(8, Math.ceil(dt))));
    steps.push({
      startS,
      dt,
      sunlit: a.sunlit,
      solarW: solarSunlitW * a.sunlit,
      heatInW: env.infraredW + env.albedoPeakW * a.albedo,
    });
  }
  const n = steps.length;

  const k = radiationCoefficient(params);
  const usableWh = bat.capacityWh * (1 - (bat.capacityFade ?? 0));
  const e0 = Math.min(usableWh, bat.initialSoc * usableWh);
  // A scenario that starts below the floor may climb back to it; it cannot be asked to be there already.
  const floorWh = Math.min(params.limits.batteryFloorSoc * usableWh, e0);
  const vertices = hullVertices(acc, options.hullSegments ?? 12);

  // First linearisation: the steady radiator temperature at the bounded power, for every step.
  const bounds = upperBounds(params, durationS);
  const firstRefC = radiatorForHeatC(k, bounds.powerW + loadW + bounds.absorbedHeatW);
  let refC: number[] = steps.map(() => firstRefC);

  const solverInstance = await highs();
  let best: { plan: OptimumStep[]; compute: number; power: number } | undefined;
  const history: number[] = [];
  let status = 'Not Set';
  let solveMs = 0;
  let runs = 0;
  for (let iteration = 0; iteration < iterations; iteration++) {
    const lp = buildLp(params, steps, refC, vertices, { k, loadW, pMax, e0, floorWh, usableWh, stepS });
    const started = performance.now();
    const result = solverInstance.solve(lp, { output_flag: false });
    solveMs += performance.now() - started;
    runs++;
    if (result.Status !== 'Optimal') {
      if (best === undefined) status = result.Status;
      break;
    }
    status = result.Status;
    const col = (name: string): number => result.Columns[name]?.Primal ?? 0;
    const plan: OptimumStep[] = [];
    let compute = 0;
    let energy = 0;
    for (let i = 0; i < n; i++) {
      const s = steps[i]!;
      const powerW = Math.max(0, col(`P${i}`));
      const rate = Math.max(0, col(`z${i}`));
      const coldPlateC = col(`Tc${i + 1}`);
      compute += rate * s.dt;
      energy += powerW * s.dt;
      plan.push({
        timeS: s.startS,
        durationS: s.dt,
        powerW,
        compute: rate,
        storedWh: col(`B${i + 1}`),
        junctionC: coldPlateC + powerW * th.junctionToColdPlateKPerW,
        coldPlateC,
        radiatorC: col(`Tr${i + 1}`),
        sunlit: s.sunlit >= 0.5,
        sunlitFraction: s.sunlit,
        solarW: s.solarW,
        heatInW: s.heatInW,
        chargeW: Math.max(0, col(`c${i}`)),
        dischargeW: Math.max(0, col(`d${i}`)),
      });
    }
    history.push(compute);
    if (best === undefined || compute >= best.compute) best = { plan, compute, power: energy / durationS };
    refC = plan.map((p) => p.radiatorC);
  }
  return {
    compute: best?.compute ?? 0,
    averagePowerW: best?.power ?? 0,
    perStep: best?.plan ?? [],
    solveMs,
    iterations: runs,
    history,
    status,
  };
}

interface LpConstants {
  readonly k: number;
  readonly loadW: number;
  readonly pMax: number;
  readonly e0: number;
  readonly floorWh: number;
  readonly usableWh: number;
  readonly stepS: number;
}

/**
 * The LP in CPLEX LP format. Per step i (states indexed at the step's end, i + 1):
 *   z_i <= each hull chord at P_i;  bus: P_i + c_i - d_i <= solar_i - L (the shunt takes the slack);
 *   B_{i+1} = B_i + dt/3600 (etaC c_i - d_i / etaD), floor <= B <= usable, B_N >= B_0;
 *   backward Euler: Ccp (Tc_{i+1} - Tc_i)/dt = P_i + L - (Tc_{i+1} - Tr_{i+1})/Rcr,
 *                   Cr (Tr_{i+1} - Tr_i)/dt = (Tc_{i+1} - Tr_{i+1})/Rcr + Qin_i - (a_i + b_i Tr_{i+1}),
 *   where a_i + b_i T (degC) is the tangent of k (T^4 - 3^4) at the reference;
 *   quasi-static junction: Tc_{i+1} + Rjc P_i <= Tmax.
 * Names avoid a leading e/E (the LP format reads those as exponents).
 */
function buildLp(
  params: PlantParams,
  steps: readonly StepInput[],
  refC: readonly number[],
  vertices: readonly HullVertex[],
  c: LpConstants,
): string {
  const th = params.thermal;
  const bat = params.battery;
  const ccp = th.coldPlate.heatCapacityJPerK;
  const cr = th.radiator.heatCapacityJPerK;
  const gcr = 1 / th.coldPlateToRadiatorKPerW;
  const rjc = th.junctionToColdPlateKPerW;
  const objective: Term[] = [];
  const rows: string[] = [];
  const bounds: string[] = [];
  steps.forEach((s, i) => {
    const P = `P${i}`;
    const z = `z${i}`;
    objective.push([s.dt / c.stepS, z]);
    for (let j = 0; j + 1 < vertices.length; j++) {
      const a = vertices[j]!;
      const b = vertices[j + 1]!;
      if (b.powerW <= a.powerW) continue;
      const slope = (b.rate - a.rate) / (b.powerW - a.powerW);
      rows.push(
        ` h${i}_${j}: ${expression([
          [1, z],
          [-slope, P],
        ])} <= ${num(a.rate - slope * a.powerW)}`,
      );
    }
    rows.push(
      ` bus${i}: ${expression([
        [1, P],
        [1, `c${i}`],
        [-1, `d${i}`],
      ])} <= ${num(s.solarW - c.loadW)}`,
    );
    const hours = s.dt / 3600;
    const battery: Term[] = [
      [1, `B${i + 1}`],
      [-hours * bat.chargeEfficiency, `c${i}`],
      [hours / bat.dischargeEfficiency, `d${i}`],
    ];
    if (i > 0) battery.push([-1, `B${i}`]);
    rows.push(` bat${i}: ${expression(battery)} = ${num(i > 0 ? 0 : c.e0)}`);

    const refK = (refC[i] ?? 0) + KELVIN;
    const slopeW = 4 * c.k * refK ** 3; // W/K
    const interceptW = c.k * (refK ** 4 - SPACE_K ** 4) - slopeW * (refK - KELVIN); // at 0 degC
    const cpDt = ccp / s.dt;
    const crDt = cr / s.dt;
    const coldPlate: Term[] = [
      [cpDt + gcr, `Tc${i + 1}`],
      [-gcr, `Tr${i + 1}`],
      [-1, P],
    ];
    const radiator: Term[] = [
      [crDt + gcr + slopeW, `Tr${i + 1}`],
      [-gcr, `Tc${i + 1}`],
    ];
    let cpRhs = c.loadW;
    let rdRhs = s.heatInW - interceptW;
    if (i > 0) {
      coldPlate.push([-cpDt, `Tc${i}`]);
      radiator.push([-crDt, `Tr${i}`]);
    } else {
      cpRhs += cpDt * th.coldPlate.initialC;
      rdRhs += crDt * th.radiator.initialC;
    }
    rows.push(` cp${i}: ${expression(coldPlate)} = ${num(cpRhs)}`);
    rows.push(` rd${i}: ${expression(radiator)} = ${num(rdRhs)}`);
    rows.push(
      ` jn${i}: ${expression([
        [1, `Tc${i + 1}`],
        [rjc, P],
      ])} <= ${num(params.limits.junctionMaxC)}`,
    );

    bounds.push(` 0 <= ${P} <= ${num(c.pMax)}`);
    bounds.push(` 0 <= c${i} <= ${num(bat.maxChargeW)}`);
    const last = i === steps.length - 1;
    bounds.push(` ${num(last ? Math.max(c.floorWh, c.e0) : c.floorWh)} <= B${i + 1} <= ${num(c.usableWh)}`);
    bounds.push(` Tc${i + 1} free`, ` Tr${i + 1} free`);
  });
  return [
    'Maximize',
    ` obj: ${expression(objective)}`,
    'Subject To',
    ...rows,
    'Bounds',
    ...bounds,
    'End',
    '',
  ].join('\n');
}

// -----------------------------------------------------------------------------------------------------------
// Score

export interface ScoreViolations {
  /** Integral of the junction's excess over its limit, K s. */
  readonly junctionKelvinSeconds: number;
  /** Deepest shortfall below the battery floor, Wh. */
  readonly batteryDeficitWh: number;
}

/** Tolerance on violations, so rounding noise in an integrator does not zero a score. */
const VIOLATION_EPSILON = 1e-9;

/** Delivered compute as a fraction of the optimum; 0 for any limit violation (or a non-positive optimum). */
export function score(delivered: number, optimum: number, violations: ScoreViolations): number {
  if (violations.junctionKelvinSeconds > VIOLATION_EPSILON || violations.batteryDeficitWh > VIOLATION_EPSILON)
    return 0;
  if (!(optimum > 0)) return 0;
  return Math.max(0, delivered) / optimum;
}
