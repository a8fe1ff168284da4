/**
 * State-of-charge estimation: coulomb counting, corrected by the open-circuit voltage while the battery rests, or
 * the battery's own gauge when the board has one that can be trusted.
 *
 * Pure: no clocks, no I/O. Each update brings a battery sample and the seconds since the previous one.
 */

/**
 * Open-circuit voltage of one Li-ion NMC cell against state of charge: [soc, volts], soc ascending, volts strictly
 * ascending (so the curve can be inverted), 3.0 V empty to 4.2 V full.
 */
export const NMC_OCV_TABLE: readonly (readonly [number, number])[] = [
  [0.0, 3.0],
  [0.05, 3.3],
  [0.1, 3.45],
  [0.15, 3.53],
  [0.2, 3.58],
  [0.3, 3.64],
  [0.4, 3.69],
  [0.5, 3.74],
  [0.6, 3.8],
  [0.7, 3.88],
  [0.8, 3.96],
  [0.9, 4.06],
  [1.0, 4.2],
];

/** Nominal voltage of one NMC cell, V. */
export const NMC_NOMINAL_CELL_V = 3.7;

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function interpolate(table: readonly (readonly [number, number])[], x: number, from: 0 | 1): number {
  const to = from === 0 ? 1 : 0;
  const first = table[0];
  const last = table[table.length - 1];
  if (first === undefined || last === undefined) throw new RangeError('empty OCV table');
  if (x <= first[from]) return first[to];
  if (x >= last[from]) return last[to];
  for (let i = 1; i < table.length; i++) {
    const hi = table[i];
    const lo = table[i - 1];
    if (hi === undefined || lo === undefined) break;
    if (x <= hi[from]) {
      const span = hi[from] - lo[from];
      const t = span > 0 ? (x - lo[from]) / span : 0;
      return lo[to] + t * (hi[to] - lo[to]);
    }
  }
  return last[to];
}

/** Open-circuit voltage of one cell at a state of charge (clamped to 0..1). */
export function cellOcv(soc: number, table: readonly (readonly [number, number])[] = NMC_OCV_TABLE): number {
  return interpolate(table, clamp01(soc), 0);
}

/** State of charge (0..1) of one cell from its open-circuit voltage, clamped to the table's ends. */
export function socFromCellOcv(
  volts: number,
  table: readonly (readonly [number, number])[] = NMC_OCV_TABLE,
): number {
  return clamp01(interpolate(table, volts, 1));
}

function checkTable(table: readonly (readonly [number, number])[]): void {
  if (table.length < 2) throw new RangeError('an OCV table needs at least two points');
  for (let i = 1; i < table.length; i++) {
    const a = table[i - 1];
    const b = table[i];
    if (a === undefined || b === undefined || !(b[0] > a[0]) || !(b[1] > a[1])) {
      throw new RangeError('OCV table must be strictly ascending in both soc and volts');
    }
  }
}

export type SocMode = 'gauge' | 'coulomb';

export interface SocEstimatorOptions {
  /** Nameplate capacity, Ah. */
  readonly nominalAh: number;
  /** Cells in series (the pack's OCV is seriesCells * cellOcv). */
  readonly seriesCells: number;
  /** Pack nominal voltage for energy, V. Default seriesCells * 3.7. */
  readonly nominalVolts?: number;
  /** Fraction of capacity lost to ageing, 0..1. Default 0. */
  readonly capacityFade?: number;
  /** Where the estimate comes from. Default `coulomb`. */
  readonly mode?: SocMode;
  /** The estimate to start from, 0..1. Default: from the first sample (the gauge, else the OCV). */
  readonly initialSoc?: number;
  /** Below this current magnitude the battery is at rest, A. Default 0.5. */
  readonly restAmps?: number;
  /** Rest needed before an OCV correction, s (and between corrections while the rest lasts). Default 600. */
  readonly restS?: number;
  /** Weight of the OCV-derived value in each correction, 0..1. Default 0.2. */
  readonly ocvWeight?: number;
  /** Pack internal resistance, ohm, to take the I R drop out of the resting voltage. Default 0. */
  readonly internalResistanceOhm?: number;
  /** Fraction of charging current that is stored, 0..1. Default 1. */
  readonly coulombicEfficiency?: number;
  /** The cell OCV curve. Default NMC_OCV_TABLE. */
  readonly ocvTable?: readonly (readonly [number, number])[];
}

/** What a sample must carry: BatterySample fits. */
export interface SocSample {
  /** Positive while charging. */
  readonly amps: number;
  readonly volts: number;
  /** The battery's own gauge, 0..1, when it has one. */
  readonly stateOfCharge?: number;
}

export type SocSource = 'gauge' | 'coulomb' | 'ocv' | 'initial';

export interface SocEstimate {
  /** 0..1 of the usable capacity. */
  readonly soc: number;
  /** Stored energy, Wh: soc * usableWh. */
  readonly energyWh: number;
  readonly usableAh: number;
  readonly usableWh: number;
  /** What last set the estimate: counting, an OCV correction this step, the gauge, or the initial value. */
  readonly source: SocSource;
  /** Seconds the battery has been at rest (0 when not resting). */
  readonly restS: number;
}

export class SocEstimator {
  readonly mode: SocMode;
  private readonly nominalAh: number;
  private readonly seriesCells: number;
  private readonly nominalVolts: number;
  private readonly restAmps: number;
  private readonly restNeededS: number;
  private readonly ocvWeight: number;
  private readonly resistance: number;
  private readonly coulombicEfficiency: number;
  private readonly table: readonly (readonly [number, number])[];
  private fade: number;
  private soc: number | undefined;
  private restedS = 0;
  /** Rest time at which the next OCV correction is due. */
  private nextCorrectionS: number;
  private source: SocSource = 'initial';

  constructor(options: SocEstimatorOptions) {
    if (!(options.nominalAh > 0)) throw new RangeError('nominalAh must be positive');
    if (!(Number.isInteger(options.seriesCells) && options.seriesCells > 0)) {
      throw new RangeError('seriesCells must be a positive integer');
    }
    this.nominalAh = options.nominalAh;
    this.seriesCells = options.seriesCells;
    this.nominalVolts = options.nominalVolts ?? options.seriesCells * NMC_NOMINAL_CELL_V;
    this.mode = options.mode ?? 'coulomb';
    this.restAmps = options.restAmps ?? 0.5;
    this.restNeededS = options.restS ?? 600;
    this.ocvWeight = clamp01(options.ocvWeight ?? 0.2);
    this.resistance = options.internalResistanceOhm ?? 0;
    this.coulombicEfficiency = clamp01(options.coulombicEfficiency ?? 1);
    this.table = options.ocvTable ?? NMC_OCV_TABLE;
    checkTable(this.table);
    this.fade = 0;
    this.setCapacityFade(options.capacityFade ?? 0);
    this.soc = options.initialSoc === undefined ? undefined : clamp01(options.initialSoc);
    this.nextCorrectionS = this.restNeededS;
  }

  /** Sets the capacity fade (0..1) from a capacity estimate or the ground; the soc fraction is kept. */
  setCapacityFade(fade: number): void {
    if (!(fade >= 0 && fade < 1)) throw new RangeError(`capacity fade must be in [0, 1), got ${fade}`);
    this.fade = fade;
  }

  get capacityFade(): number {
    return this.fade;
  }

  get usableAh(): number {
    return this.nominalAh * (1 - this.fade);
  }

  get usableWh(): number {
    return this.usableAh * this.nominalVolts;
  }

  /** Forces the estimate (a ground command, a known full charge). */
  reset(soc: number): void {
    this.soc = clamp01(soc);
    this.source = 'initial';
  }

  /** The pack's state of charge from a resting terminal voltage, 0..1. */
  socFromOcv(volts: number, amps = 0): number {
    const ocv = volts - amps * this.resistance;
    return socFromCellOcv(ocv / this.seriesCells, this.table);
  }

  /** The estimate now, without a new sample (undefined before the first sample when no initial soc was given). */
  estimate(): SocEstimate | undefined {
    return this.soc === undefined ? undefined : this.result(this.soc);
  }

  /** Takes one sample, taken dtS seconds after the previous one, and returns the estimate after it. */
  update(sample: SocSample, dtS: number): SocEstimate {
    const dt = Number.isFinite(dtS) && dtS > 0 ? dtS : 0;
    const amps = Number.isFinite(sample.amps) ? sample.amps : 0;
    const gauge =
      sample.stateOfCharge !== undefined && Number.isFinite(sample.stateOfCharge)
        ? clamp01(sample.stateOfCharge)
        : undefined;

    if (this.soc === undefined) {
      if (gauge !== undefined && this.mode === 'gauge') this.soc = gauge;
      else if (Number.isFinite(sample.volts)) this.soc = this.socFromOcv(sample.volts, amps);
      else this.soc = gauge ?? 0.5;
      this.source = 'initial';
      return this.result(this.soc);
    }

    // Coulomb counting runs in both modes, so that a gauge that drops out leaves a fallback that starts from it.
    const stored = amps > 0 ? amps * this.coulombicEfficiency : amps;
    let soc = clamp01(this.soc + (stored * dt) / 3600 / this.usableAh);
    let source: SocSource = 'coulomb';

    if (Math.abs(amps) < this.restAmps) {
      this.restedS += dt;
    } else {
      this.restedS = 0;
      this.nextCorrectionS = this.restNeededS;
    }

    if (this.mode === 'gauge' && gauge !== undefined) {
      soc = gauge;
      source = 'gauge';
    } else if (this.restedS >= this.nextCorrectionS && Number.isFinite(sample.volts)) {
      const fromOcv = this.socFromOcv(sample.volts, amps);
      soc = clamp01(soc + this.ocvWeight * (fromOcv - soc));
      source = 'ocv';
      this.nextCorrectionS = this.restedS + this.restNeededS;
    }
    this.soc = soc;
    this.source = source;
    return this.result(soc);
  }

  private result(soc: number): SocEstimate {
    const usableWh = this.usableWh;
    return {
      soc,
      energyWh: soc * usableWh,
      usableAh: this.usableAh,
      usableWh,
      source: this.source,
      restS: this.restedS,
    };
  }
}
