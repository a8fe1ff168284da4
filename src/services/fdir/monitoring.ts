/**
 * On-board parameter monitoring with the semantics of PUS service 12: each monitor checks one telemetry
 * parameter against a limit pair, an expected value or a delta bound, and a new checking state is confirmed
 * only after `persistence` consecutive samples agree on it (the PUS "repetition number"). Pure and synchronous:
 * no I/O and no clock; the caller feeds samples and decides what a confirmed transition means.
 */

export type MonitorCheck =
  | { readonly kind: 'limit'; readonly low: number; readonly high: number }
  | { readonly kind: 'expected'; readonly value: number | string | boolean }
  | { readonly kind: 'delta'; readonly minDelta?: number; readonly maxDelta?: number };

export type MonitorState =
  | 'unchecked'
  | 'ok'
  /**
   * The sample is NaN, the bus's mark for a reading the component does not have (a failed sensor): per PUS
   * service 12, a parameter that is not valid is not checked, and that is no limit violation. What a missing
   * reading means is the owning component's to handle (the thermal component falls back to its safe cap).
   */
  | 'invalid'
  | 'below-low'
  | 'above-high'
  | 'unexpected'
  | 'stuck'
  | 'jump'
  | 'disabled';

export interface MonitorDefinition {
  readonly id: number;
  /** e.g. 'thermal.JUNCTION_HIGH' */
  readonly name: string;
  /** Qualified telemetry name, e.g. 'thermal.junctionC'. */
  readonly parameter: string;
  readonly check: MonitorCheck;
  /** Consecutive samples in a new state before it is confirmed (an integer >= 1). */
  readonly persistence: number;
  readonly enabled: boolean;
}

export interface MonitorTransition {
  readonly id: number;
  readonly name: string;
  readonly parameter: string;
  readonly from: MonitorState;
  readonly to: MonitorState;
  /**
   * The sample that confirmed the transition. For enable/disable, the last sample seen by the monitor, or NaN
   * when it has seen none. Values that are not a number, string or boolean are reported as text.
   */
  readonly value: number | string | boolean;
}

/** Returned by `sample()` when nothing changed: shared, so the hot path allocates nothing. */
const NO_TRANSITIONS: readonly MonitorTransition[] = Object.freeze([]);

interface Monitor {
  def: MonitorDefinition;
  state: MonitorState;
  /** The candidate state being counted towards confirmation, or undefined when none. */
  pending: MonitorState | undefined;
  count: number;
  /** Previous finite sample, for delta checks; `hasPrevious` false right after construction or enable. */
  previous: number;
  hasPrevious: boolean;
  /** Last sample seen while enabled (for enable/disable reports). */
  last: unknown;
  hasLast: boolean;
}

function isViolating(state: MonitorState): boolean {
  return state !== 'ok' && state !== 'unchecked' && state !== 'disabled' && state !== 'invalid';
}

function reportable(value: unknown): number | string | boolean {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
      return value;
    case 'object':
      if (value === null) return 'null';
      try {
        return JSON.stringify(value) ?? String(value);
      } catch {
        return String(value);
      }
    default:
      return String(value);
  }
}

function validateCheck(check: MonitorCheck, where: string): MonitorCheck {
  switch (check.kind) {
    case 'limit':
      if (!Number.isFinite(check.low) || !Number.isFinite(check.high)) {
        throw new RangeError(
          `${where}: limit bounds must be finite numbers (low ${check.low}, high ${check.high})`,
        );
      }
      if (check.low > check.high) {
        throw new RangeError(`${where}: limit low ${check.low} is above high ${check.high}`);
      }
      return { kind: 'limit', low: check.low, high: check.high };
    case 'expected': {
      const t = typeof check.value;
      if (t !== 'number' && t !== 'string' && t !== 'boolean') {
        throw new RangeError(`${where}: expected value must be a number, string or boolean`);
      }
      if (t === 'number' && Number.isNaN(check.value)) {
        throw new RangeError(`${where}: expected value must not be NaN (it would never match)`);
      }
      return { kind: 'expected', value: check.value };
    }
    case 'delta': {
      const { minDelta, maxDelta } = check;
      if (minDelta === undefined && maxDelta === undefined) {
        throw new RangeError(`${where}: a delta check needs minDelta, maxDelta or both`);
      }
      for (const [label, bound] of [
        ['minDelta', minDelta],
        ['maxDelta', maxDelta],
      ] as const) {
        if (bound !== undefined && (!Number.isFinite(bound) || bound < 0)) {
          throw new RangeError(`${where}: ${label} must be a finite number >= 0 (got ${bound})`);
        }
      }
      if (minDelta !== undefined && maxDelta !== undefined && minDelta > maxDelta) {
        throw new RangeError(`${where}: minDelta ${minDelta} is above maxDelta ${maxDelta}`);
      }
      const out: { kind: 'delta'; minDelta?: number; maxDelta?: number } = { kind: 'delta' };
      if (minDelta !== undefined) out.minDelta = minDelta;
      if (maxDelta !== undefined) out.maxDelta = maxDelta;
      return out;
    }
    default:
      throw new RangeError(`${where}: unknown check kind '${(check as { kind: unknown }).kind}'`);
  }
}

function validatePersistence(samples: number, where: string): void {
  if (!Number.isInteger(samples) || samples < 1) {
    throw new RangeError(`${where}: persistence must be an integer >= 1 (got ${samples})`);
  }
}

export class MonitoringEngine {
  private readonly byId = new Map<number, Monitor>();
  private readonly byParameter = new Map<string, Monitor[]>();
  /** Definition order, for `states()`. */
  private readonly order: Monitor[] = [];
  private violatedCount = 0;
  private checkCount = 0;

  constructor(definitions: readonly MonitorDefinition[]) {
    for (const d of definitions) {
      const where = `monitor ${d.id} '${d.name}'`;
      if (!Number.isInteger(d.id)) throw new RangeError(`${where}: id must be an integer`);
      if (this.byId.has(d.id)) throw new RangeError(`${where}: duplicate monitor id ${d.id}`);
      if (typeof d.parameter !== 'string' || d.parameter === '') {
        throw new RangeError(`${where}: parameter must be a non-empty name`);
      }
      validatePersistence(d.persistence, where);
      const def: MonitorDefinition = Object.freeze({
        id: d.id,
        name: d.name,
        parameter: d.parameter,
        check: Object.freeze(validateCheck(d.check, where)),
        persistence: d.persistence,
        enabled: d.enabled,
      });
      const monitor: Monitor = {
        def,
        state: d.enabled ? 'unchecked' : 'disabled',
        pending: undefined,
        count: 0,
        previous: 0,
        hasPrevious: false,
        last: undefined,
        hasLast: false,
      };
      this.byId.set(d.id, monitor);
      this.order.push(monitor);
      const list = this.byParameter.get(d.parameter);
      if (list === undefined) this.byParameter.set(d.parameter, [monitor]);
      else list.push(monitor);
    }
  }

  /** Monitors currently in a violating state (not ok, unchecked or disabled). */
  get violated(): number {
    return this.violatedCount;
  }

  /** Checks performed since construction: one per enabled monitor per sample of its parameter. */
  get checks(): number {
    return this.checkCount;
  }

  /** Feeds one sample; returns the confirmed transitions (a shared empty array when none). */
  sample(parameter: string, value: unknown): readonly MonitorTransition[] {
    const list = this.byParameter.get(parameter);
    if (list === undefined) return NO_TRANSITIONS;
    let out: MonitorTransition[] | undefined;
    for (let i = 0; i < list.length; i++) {
      const m = list[i] as Monitor;
      if (m.state === 'disabled') continue;
      const t = this.evaluate(m, value);
      if (t !== undefined) {
        if (out === undefined) out = [t];
        else out.push(t);
      }
    }
    return out ?? NO_TRANSITIONS;
  }

  /** disabled -> unchecked. Undefined for an unknown id or a monitor already enabled. */
  enable(id: number): MonitorTransition | undefined {
    const m = this.byId.get(id);
    if (m === undefined || m.state !== 'disabled') return undefined;
    m.def = Object.freeze({ ...m.def, enabled: true });
    m.hasPrevious = false;
    return this.confirm(m, 'unchecked', m.hasLast ? m.last : Number.NaN);
  }

  /** any -> disabled. Undefined for an unknown id or a monitor already disabled. */
  disable(id: number): MonitorTransition | undefined {
    const m = this.byId.get(id);
    if (m === undefined || m.state === 'disabled') return undefined;
    m.def = Object.freeze({ ...m.def, enabled: false });
    m.hasPrevious = false;
    return this.confirm(m, 'disabled', m.hasLast ? m.last : Number.NaN);
  }

  /** Replaces a monitor's check (validated); the confirmed state stays, the persistence count restarts. */
  setCheck(id: number, check: MonitorCheck): void {
    const m = this.require(id);
    const validated = Object.freeze(validateCheck(check, `monitor ${id} '${m.def.name}'`));
    m.def = Object.freeze({ ...m.def, check: validated });
    m.pending = undefined;
    m.count = 0;
  }

  setPersistence(id: number, samples: number): void {
    const m = this.require(id);
    validatePersistence(samples, `monitor ${id} '${m.def.name}'`);
    m.def = Object.freeze({ ...m.def, persistence: samples });
  }

  /** The current definition (after enable/disable/setCheck/setPersistence). */
  definition(id: number): MonitorDefinition | undefined {
    return this.byId.get(id)?.def;
  }

  states(): ReadonlyArray<{ id: number; name: string; state: MonitorState; enabled: boolean }> {
    return this.order.map((m) => ({
      id: m.def.id,
      name: m.def.name,
      state: m.state,
      enabled: m.def.enabled,
    }));
  }

  private require(id: number): Monitor {
    const m = this.byId.get(id);
    if (m === undefined) throw new RangeError(`unknown monitor id ${id}`);
    return m;
  }

  private evaluate(m: Monitor, value: unknown): MonitorTransition | undefined {
    m.last = value;
    m.hasLast = true;
    const check = m.def.check;
    let candidate: MonitorState;
    switch (check.kind) {
      case 'limit':
        if (Number.isNaN(value)) candidate = 'invalid';
        else if (typeof value !== 'number' || !Number.isFinite(value)) candidate = 'unexpected';
        else if (value < check.low) candidate = 'below-low';
        else if (value > check.high) candidate = 'above-high';
        else candidate = 'ok';
        break;
      case 'expected':
        candidate = value === check.value ? 'ok' : 'unexpected';
        break;
      case 'delta': {
        if (Number.isNaN(value)) {
          // No reading: nothing to compare the next one with either.
          m.hasPrevious = false;
          candidate = 'invalid';
          break;
        }
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          candidate = 'unexpected';
          break;
        }
        if (!m.hasPrevious) {
          // The first sample after enable only primes the previous value: nothing to compare it with.
          m.previous = value;
          m.hasPrevious = true;
          return undefined;
        }
        const delta = Math.abs(value - m.previous);
        m.previous = value;
        if (check.minDelta !== undefined && delta < check.minDelta) candidate = 'stuck';
        else if (check.maxDelta !== undefined && delta > check.maxDelta) candidate = 'jump';
        else candidate = 'ok';
        break;
      }
    }
    this.checkCount += 1;
    if (candidate === m.state) {
      m.pending = undefined;
      m.count = 0;
      return undefined;
    }
    if (candidate === m.pending) {
      m.count += 1;
    } else {
      m.pending = candidate;
      m.count = 1;
    }
    if (m.count < m.def.persistence) return undefined;
    return this.confirm(m, candidate, value);
  }

  private confirm(m: Monitor, to: MonitorState, value: unknown): MonitorTransition {
    const from = m.state;
    if (isViolating(from)) this.violatedCount -= 1;
    if (isViolating(to)) this.violatedCount += 1;
    m.state = to;
    m.pending = undefined;
    m.count = 0;
    const { id, name, parameter } = m.def;
    return { id, name, parameter, from, to, value: reportable(value) };
  }
}
