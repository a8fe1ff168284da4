/**
 * Load shedding: which switched loads are on, from the power mode and the board's shedding order.
 *
 * - NOMINAL: every load on.
 * - POWER_SAVE: the first half (rounded up) of the sheddable loads, in shedding order, off.
 * - SURVIVAL: every sheddable load off.
 * Loads named never-shed stay on in every mode; the ground can force any load on or off, over all of this.
 * Shedding is immediate. Restoration runs in reverse shedding order (the last shed comes back first), one load per
 * restoreDelayS, so that the bus does not see every inrush at once. Pure: the caller brings the time.
 */
import type { PowerMode } from './modes.js';

export interface LoadShedderOptions {
  /** Load names in the board's shedding order: the first is shed first. */
  readonly order: readonly string[];
  /** Loads never shed by mode (the ground may still switch them). Default none. */
  readonly neverShed?: readonly string[];
  /** Seconds between two restorations. Default 30. */
  readonly restoreDelayS?: number;
  /** The loads' states at start. Default every load on. */
  readonly initiallyOn?: Readonly<Record<string, boolean>>;
}

export type LoadChangeReason = 'shed' | 'restore' | 'ground';

export interface LoadChange {
  readonly name: string;
  readonly on: boolean;
  readonly reason: LoadChangeReason;
}

export interface SheddingDecision {
  /** The state each load should be in once the pending restorations are done, in shedding order. */
  readonly target: ReadonlyMap<string, boolean>;
  /** The state each load should be in now (after this step's changes), in shedding order. */
  readonly desired: ReadonlyMap<string, boolean>;
  /** The switch commands to send this step. */
  readonly changes: readonly LoadChange[];
  /** Loads still waiting to be restored, in the order they will come back. */
  readonly pendingRestore: readonly string[];
}

export class LoadShedder {
  readonly order: readonly string[];
  readonly restoreDelayS: number;
  private readonly neverShed: ReadonlySet<string>;
  private readonly state = new Map<string, boolean>();
  private readonly ground = new Map<string, boolean>();
  private lastRestoreS = Number.NEGATIVE_INFINITY;

  constructor(options: LoadShedderOptions) {
    const seen = new Set<string>();
    for (const name of options.order) {
      if (seen.has(name)) throw new RangeError(`load ${name} appears twice in the shedding order`);
      seen.add(name);
    }
    for (const name of options.neverShed ?? []) {
      if (!seen.has(name)) throw new RangeError(`never-shed load ${name} is not in the shedding order`);
    }
    this.order = [...options.order];
    this.neverShed = new Set(options.neverShed ?? []);
    this.restoreDelayS = options.restoreDelayS ?? 30;
    if (!(this.restoreDelayS >= 0)) throw new RangeError('restoreDelayS must be >= 0');
    for (const name of this.order) this.state.set(name, options.initiallyOn?.[name] ?? true);
  }

  /** The ground forces a load on or off (`undefined` hands it back to the shedder). */
  setGround(name: string, on: boolean | undefined): void {
    this.checkName(name);
    if (on === undefined) this.ground.delete(name);
    else this.ground.set(name, on);
  }

  groundOverrides(): ReadonlyMap<string, boolean> {
    return new Map(this.ground);
  }

  /** Tells the shedder a load's actual state (a readback), so that a command that failed is sent again. */
  observe(name: string, on: boolean): void {
    this.checkName(name);
    this.state.set(name, on);
  }

  /** The state the shedder believes each load is in. */
  states(): ReadonlyMap<string, boolean> {
    return new Map(this.state);
  }

  /** The loads each mode turns off by itself (without the ground's overrides), in shedding order. */
  shedSet(mode: PowerMode): readonly string[] {
    const sheddable = this.order.filter((name) => !this.neverShed.has(name));
    switch (mode) {
      case 'NOMINAL':
        return [];
      case 'POWER_SAVE':
        return sheddable.slice(0, Math.ceil(sheddable.length / 2));
      case 'SURVIVAL':
        return sheddable;
    }
  }

  /** Decides the loads' states at timeS in this mode, and the commands to get there. */
  update(timeS: number, mode: PowerMode): SheddingDecision {
    const shed = new Set(this.shedSet(mode));
    const target = new Map<string, boolean>();
    for (const name of this.order) target.set(name, this.ground.get(name) ?? !shed.has(name));

    const changes: LoadChange[] = [];
    // Offs first (shedding and ground), all at once; ground ons at once too, as commanded.
    for (const name of this.order) {
      const want = target.get(name) === true;
      const is = this.state.get(name) === true;
      if (want === is) continue;
      const forced = this.ground.has(name);
      if (!want) {
        changes.push({ name, on: false, reason: forced ? 'ground' : 'shed' });
        this.state.set(name, false);
      } else if (forced) {
        changes.push({ name, on: true, reason: 'ground' });
        this.state.set(name, true);
        this.lastRestoreS = timeS;
      }
    }
    // Restorations: reverse shedding order, one per restoreDelayS.
    const pending = [...this.order]
      .reverse()
      .filter((name) => target.get(name) === true && !this.state.get(name));
    const first = pending[0];
    if (first !== undefined && timeS - this.lastRestoreS >= this.restoreDelayS) {
      changes.push({ name: first, on: true, reason: 'restore' });
      this.state.set(first, true);
      this.lastRestoreS = timeS;
      pending.shift();
    }
    return { target, desired: new Map(this.state), changes, pendingRestore: pending };
  }

  private checkName(name: string): void {
    if (!this.state.has(name)) throw new RangeError(`unknown load ${name}`);
  }
}
