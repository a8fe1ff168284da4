/**
 * The physics of a node, as a scenario file states it: orbit, solar array, battery, accelerator, thermal network,
 * loads and limits. The plant (`plant.ts`) integrates it; the optimum (`../optimum.ts`) plans against it; the
 * controllers never see it (they see sensors). SI units throughout unless a name says otherwise.
 *
 * The model (the plant integrates it; the optimum plans with it, linearised):
 * - Orbit: r = R + h, period T = 2 pi sqrt(r^3 / mu). Cylindrical shadow: with beta* = asin(R / r), no eclipse when
 *   |beta| >= beta*, else the eclipse fraction is fe = acos(sqrt(h^2 + 2 R h) / (r cos beta)) / pi, centred on
 *   phase 0.5 (orbit midnight): in eclipse while |phase - 0.5| < fe / 2. Phase advances 1 per period.
 * - Solar array, sunlit: S * area * efficiency * pointingFactor * (1 - degradation); 0 in eclipse.
 * - Radiator heat in: earth IR, emissivity * area * F * EARTH_IR; albedo while sunlit, absorptivity * area * F *
 *   EARTH_ALBEDO * S * max(0, cos(2 pi phase) * cos(beta)); F = earthViewFactor ?? (R / r)^2.
 *   Heat out: emissivity * (1 - degradation) * area * sigma * (Tr^4 - 3^4), temperatures in kelvin.
 * - Thermal network: Cj dTj/dt = Pacc - (Tj - Tcp) / Rjc; Ccp dTcp/dt = (Tj - Tcp) / Rjc + Pbase + Pswitched -
 *   (Tcp - Tr) / Rcr; Cr dTr/dt = (Tcp - Tr) / Rcr + heat in - heat out. Every electrical load ends as heat on the
 *   cold plate (the accelerator's through its junction).
 * - Accelerator, switched on: P(f) = staticW + dynamicW * (f / maxMHz)^3; it runs at the highest f in
 *   [minMHz, maxMHz] with P(f) <= power cap and f <= frequency ceiling (at minMHz when even that exceeds the cap);
 *   compute rate = computeAtMax * f / maxMHz. Switched off: 0 W, no compute.
 * - Electrical bus: net = solar - (base + switched + accelerator). Surplus charges the battery at up to maxChargeW,
 *   stored at chargeEfficiency; the rest is shunted (also when full). A deficit is drawn from the battery, which
 *   gives up deficit / dischargeEfficiency of stored energy. Usable capacity = capacityWh * (1 - capacityFade);
 *   soc = stored / usable. OCV = seriesCells * cellOcv(soc); current = battery power / OCV; terminal V = OCV - I R.
 * - Violations: junction above junctionMaxC (integrated kelvin-seconds) and stored energy below
 *   batteryFloorSoc * usable (the deepest shortfall, Wh).
 */

export interface OrbitParams {
  /** Circular orbit altitude above the mean Earth radius, km (500..2000 for this class of node). */
  readonly altitudeKm: number;
  /** Angle between the orbit plane and the Sun vector, degrees. 0: longest eclipse; beyond beta*: none. */
  readonly betaDeg: number;
  /** Orbit phase at the start, 0..1 of a period from the subsolar point (0: local noon, 0.5: midnight). */
  readonly startPhase?: number;
}

export interface SolarArrayParams {
  readonly areaM2: number;
  /** Cell efficiency at beginning of life, 0..1. */
  readonly efficiency: number;
  /** Pointing and packing losses, 0..1 (1: sun-tracking, fully packed). Multiplies the sunlit power. */
  readonly pointingFactor?: number;
  /** Fraction of power lost to degradation, 0..1 (a fault-injection knob). */
  readonly degradation?: number;
}

export interface BatteryParams {
  /** Nameplate capacity, Wh. */
  readonly capacityWh: number;
  /** Fraction of capacity lost to ageing, 0..1: usable capacity = capacityWh * (1 - capacityFade). */
  readonly capacityFade?: number;
  /** Cells in series; the open-circuit voltage is cells * cellOcv(soc) (a Li-ion NMC curve, 3.0..4.2 V). */
  readonly seriesCells: number;
  /** Internal resistance of the pack, ohm: terminal V = OCV - I * R (I > 0 discharging). */
  readonly internalResistanceOhm: number;
  /** Coulombic/energy efficiency charging and discharging, 0..1. */
  readonly chargeEfficiency: number;
  readonly dischargeEfficiency: number;
  /** Largest charge power the charger accepts, W; surplus solar beyond it (or with a full battery) is shunted. */
  readonly maxChargeW: number;
  /** State of charge at the start, 0..1. */
  readonly initialSoc: number;
}

/**
 * The accelerator: power grows with clock as P(f) = staticW + dynamicW * (f / maxMHz)^3 (voltage scales with
 * frequency, so dynamic power goes about as the cube); compute goes as f. With its load switch off it draws 0 W.
 */
export interface AcceleratorParams {
  readonly minMHz: number;
  readonly maxMHz: number;
  /** Leakage and uncore power while on, W. */
  readonly staticW: number;
  /** Dynamic power at maxMHz, W. */
  readonly dynamicW: number;
  /** Compute delivered per second at maxMHz (TFLOP/s, or any unit the scenario reports in). */
  readonly computeAtMax: number;
  /** Lowest power cap the device accepts (a real GPU refuses caps below it), W. */
  readonly minPowerCapW: number;
}

/** One lumped thermal node. */
export interface ThermalNodeParams {
  /** Heat capacity, J/K. */
  readonly heatCapacityJPerK: number;
  /** Temperature at the start, degC. */
  readonly initialC: number;
}

export interface RadiatorParams extends ThermalNodeParams {
  readonly areaM2: number;
  /** Infrared emissivity, 0..1. */
  readonly emissivity: number;
  /** Solar absorptivity, 0..1 (albedo and any direct sun it sees). */
  readonly absorptivity: number;
  /** Fraction of the radiator's view filled by the Earth (a nadir-facing plate at altitude h: (R/(R+h))^2). */
  readonly earthViewFactor?: number;
  /** Degradation of emissivity, 0..1 (a fault-injection knob: contamination, a stuck louvre). */
  readonly degradation?: number;
}

export interface ThermalParams {
  readonly junction: ThermalNodeParams;
  readonly coldPlate: ThermalNodeParams;
  readonly radiator: RadiatorParams;
  /** Junction to cold plate, K/W. */
  readonly junctionToColdPlateKPerW: number;
  /** Cold plate to radiator (heat pipes), K/W. */
  readonly coldPlateToRadiatorKPerW: number;
}

export interface LoadParams {
  /** Avionics that always run (the flight computer, radio receive), W; dissipated on the cold plate. */
  readonly baseW: number;
  /** Switched loads in the board's shedding order (first shed first), each with its draw when on, W. */
  readonly switched: readonly {
    readonly name: string;
    readonly watts: number;
    readonly initiallyOn?: boolean;
  }[];
}

export interface LimitParams {
  /** The accelerator's junction limit, degC: above it is a violation. */
  readonly junctionMaxC: number;
  /** State of charge below which the battery must never go (depth-of-discharge floor), 0..1. */
  readonly batteryFloorSoc: number;
}

export interface PlantParams {
  readonly orbit: OrbitParams;
  readonly solar: SolarArrayParams;
  readonly battery: BatteryParams;
  readonly accelerator: AcceleratorParams;
  readonly thermal: ThermalParams;
  readonly loads: LoadParams;
  readonly limits: LimitParams;
}

/** Physical constants. */
export const SOLAR_CONSTANT_W_M2 = 1361;
export const STEFAN_BOLTZMANN = 5.670374419e-8;
export const EARTH_RADIUS_KM = 6371;
export const EARTH_MU_KM3_S2 = 398600.4418;
/** Mean Earth infrared exitance seen in low orbit, W/m^2, and the mean Bond albedo. */
export const EARTH_IR_W_M2 = 237;
export const EARTH_ALBEDO = 0.3;
export const KELVIN = 273.15;
