/**
 * The power mode: NOMINAL, POWER_SAVE or SURVIVAL, from the state of charge with hysteresis, and a ground
 * override. Pure: the caller brings the state of charge (and, for the records, the time).
 */

export const POWER_MODES = ['NOMINAL', 'POWER_SAVE', 'SURVIVAL'] as const;
export type PowerMode = (typeof POWER_MODES)[number];

export interface PowerModeThresholds {
  /** Enter POWER_SAVE (from NOMINAL) below this soc. Default 0.40. */
  readonly powerSaveEnter: number;
  /** Leave POWER_SAVE for NOMINAL above this soc. Default 0.50. */
  readonly powerSaveExit: number;
  /** Enter SURVIVAL below this soc. Default 0.32 (just above the 0.30 battery floor). */
  readonly survivalEnter: number;
  /** Leave SURVIVAL above this soc. Default 0.42. */
  readonly survivalExit: number;
}

export const DEFAULT_POWER_MODE_THRESHOLDS: PowerModeThresholds = {
  powerSaveEnter: 0.4,
  powerSaveExit: 0.5,
  survivalEnter: 0.32,
  survivalExit: 0.42,
};

export interface PowerModeOptions extends Partial<PowerModeThresholds> {
  /** The mode at start. Default NOMINAL (the first update moves it to where the soc says). */
  readonly initialMode?: PowerMode;
  /**
   * Whether a soc below survivalEnter ends a ground override to a less restrictive mode (the battery floor wins).
   * Default true.
   */
  readonly survivalBreaksOverride?: boolean;
}

export type PowerModeCause =
  | 'soc-low'
  | 'soc-recovered'
  | 'ground-override'
  | 'override-cleared'
  | 'override-broken';

export interface PowerModeTransition {
  readonly from: PowerMode;
  readonly to: PowerMode;
  readonly cause: PowerModeCause;
  /** For events and logs (under 120 characters). */
  readonly reason: string;
  readonly soc: number | undefined;
  readonly timeS: number | undefined;
}

const SEVERITY: Record<PowerMode, number> = { NOMINAL: 0, POWER_SAVE: 1, SURVIVAL: 2 };

function fmt(x: number): string {
  return x.toFixed(3);
}

export class PowerModeMachine {
  readonly thresholds: PowerModeThresholds;
  private readonly survivalBreaksOverride: boolean;
  /** The mode the soc alone gives (tracked through an override, so that clearing it lands right). */
  private auto: PowerMode;
  private forced: PowerMode | undefined;
  private lastSoc: number | undefined;

  constructor(options: PowerModeOptions = {}) {
    const t: PowerModeThresholds = {
      powerSaveEnter: options.powerSaveEnter ?? DEFAULT_POWER_MODE_THRESHOLDS.powerSaveEnter,
      powerSaveExit: options.powerSaveExit ?? DEFAULT_POWER_MODE_THRESHOLDS.powerSaveExit,
      survivalEnter: options.survivalEnter ?? DEFAULT_POWER_MODE_THRESHOLDS.survivalEnter,
      survivalExit: options.survivalExit ?? DEFAULT_POWER_MODE_THRESHOLDS.survivalExit,
    };
    if (!(t.powerSaveEnter < t.powerSaveExit))
      throw new RangeError('powerSaveEnter must be below powerSaveExit');
    if (!(t.survivalEnter < t.survivalExit)) throw new RangeError('survivalEnter must be below survivalExit');
    if (!(t.survivalEnter <= t.powerSaveEnter))
      throw new RangeError('survivalEnter must not exceed powerSaveEnter');
    if (!(t.survivalExit <= t.powerSaveExit))
      throw new RangeError('survivalExit must not exceed powerSaveExit');
    this.thresholds = t;
    this.survivalBreaksOverride = options.survivalBreaksOverride ?? true;
    this.auto = options.initialMode ?? 'NOMINAL';
  }

  /** The mode in force: the override when there is one, else the soc's. */
  get mode(): PowerMode {
    return this.forced ?? this.auto;
  }

  get override(): PowerMode | undefined {
    return this.forced;
  }

  /** The mode the soc alone calls for. */
  get autonomousMode(): PowerMode {
    return this.auto;
  }

  /** Takes the state of charge now; returns the transition when the mode in force changed. */
  update(soc: number, timeS?: number): PowerModeTransition | undefined {
    if (!Number.isFinite(soc)) return undefined;
    this.lastSoc = soc;
    const before = this.mode;
    const t = this.thresholds;
    let next = this.auto;
    let why = '';
    switch (this.auto) {
      case 'NOMINAL':
        if (soc < t.survivalEnter) [next, why] = ['SURVIVAL', `soc ${fmt(soc)} < ${t.survivalEnter}`];
        else if (soc < t.powerSaveEnter)
          [next, why] = ['POWER_SAVE', `soc ${fmt(soc)} < ${t.powerSaveEnter}`];
        break;
      case 'POWER_SAVE':
        if (soc < t.survivalEnter) [next, why] = ['SURVIVAL', `soc ${fmt(soc)} < ${t.survivalEnter}`];
        else if (soc > t.powerSaveExit) [next, why] = ['NOMINAL', `soc ${fmt(soc)} > ${t.powerSaveExit}`];
        break;
      case 'SURVIVAL':
        if (soc > t.survivalExit) {
          next = soc > t.powerSaveExit ? 'NOMINAL' : 'POWER_SAVE';
          why = `soc ${fmt(soc)} > ${soc > t.powerSaveExit ? t.powerSaveExit : t.survivalExit}`;
        }
        break;
    }
    const autoChanged = next !== this.auto;
    this.auto = next;

    if (this.forced !== undefined) {
      if (this.survivalBreaksOverride && this.auto === 'SURVIVAL' && this.forced !== 'SURVIVAL') {
        const from = this.forced;
        this.forced = undefined;
        return this.transition(from, 'SURVIVAL', 'override-broken', `${why}: ground override ended`, timeS);
      }
      return undefined;
    }
    if (!autoChanged || before === this.auto) return undefined;
    const cause: PowerModeCause = SEVERITY[this.auto] > SEVERITY[before] ? 'soc-low' : 'soc-recovered';
    return this.transition(before, this.auto, cause, why, timeS);
  }

  /** The ground forces a mode; it holds until cleared (or, by default, until the soc falls into SURVIVAL). */
  force(mode: PowerMode, timeS?: number): PowerModeTransition | undefined {
    const before = this.mode;
    this.forced = mode;
    if (before === mode) return undefined;
    return this.transition(before, mode, 'ground-override', `ground override to ${mode}`, timeS);
  }

  /** The ground hands the mode back to the soc; returns the transition when that changes the mode. */
  clearOverride(timeS?: number): PowerModeTransition | undefined {
    if (this.forced === undefined) return undefined;
    const before = this.forced;
    this.forced = undefined;
    if (before === this.auto) return undefined;
    return this.transition(
      before,
      this.auto,
      'override-cleared',
      `override cleared: soc gives ${this.auto}`,
      timeS,
    );
  }

  private transition(
    from: PowerMode,
    to: PowerMode,
    cause: PowerModeCause,
    reason: string,
    timeS: number | undefined,
  ): PowerModeTransition {
    return { from, to, cause, reason: reason.slice(0, 119), soc: this.lastSoc, timeS };
  }
}
