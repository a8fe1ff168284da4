import { describe, expect, it } from 'vitest';
import {
  type MonitorCheck,
  type MonitorDefinition,
  MonitoringEngine,
} from '../../../src/services/fdir/monitoring.js';

function limit(persistence: number, overrides: Partial<MonitorDefinition> = {}): MonitorDefinition {
  return {
    id: 1,
    name: 'thermal.JUNCTION_HIGH',
    parameter: 'thermal.junctionC',
    check: { kind: 'limit', low: -20, high: 85 },
    persistence,
    enabled: true,
    ...overrides,
  };
}

/** Feeds the values in turn and returns every transition as 'from->to'. */
function feed(engine: MonitoringEngine, parameter: string, values: readonly unknown[]): string[] {
  return values.flatMap((v) => engine.sample(parameter, v).map((t) => `${t.from}->${t.to}`));
}

describe('MonitoringEngine: limit checks and persistence', () => {
  it('confirms ok from unchecked after N samples, then ignores N-1 violations followed by an ok one', () => {
    const e = new MonitoringEngine([limit(3)]);
    expect(feed(e, 'thermal.junctionC', [20, 21])).toEqual([]);
    expect(feed(e, 'thermal.junctionC', [22])).toEqual(['unchecked->ok']);
    expect(feed(e, 'thermal.junctionC', [90, 91, 50, 90, 91, 50])).toEqual([]);
    expect(e.violated).toBe(0);
    expect(e.states()).toEqual([{ id: 1, name: 'thermal.JUNCTION_HIGH', state: 'ok', enabled: true }]);
  });

  it('confirms a violation after exactly N consecutive samples, once, and reports the value', () => {
    const e = new MonitoringEngine([limit(3)]);
    feed(e, 'thermal.junctionC', [20, 20, 20]);
    expect(e.sample('thermal.junctionC', 90)).toEqual([]);
    expect(e.sample('thermal.junctionC', 91)).toEqual([]);
    expect(e.sample('thermal.junctionC', 92)).toEqual([
      {
        id: 1,
        name: 'thermal.JUNCTION_HIGH',
        parameter: 'thermal.junctionC',
        from: 'ok',
        to: 'above-high',
        value: 92,
      },
    ]);
    expect(feed(e, 'thermal.junctionC', [93, 94, 95, 96])).toEqual([]);
    expect(e.violated).toBe(1);
  });

  it('needs N samples to recover too, and a relapse restarts the count', () => {
    const e = new MonitoringEngine([limit(2)]);
    feed(e, 'thermal.junctionC', [20, 20, -30, -31]);
    expect(e.violated).toBe(1);
    expect(feed(e, 'thermal.junctionC', [20, -40, 20])).toEqual([]);
    expect(feed(e, 'thermal.junctionC', [21])).toEqual(['below-low->ok']);
    expect(e.violated).toBe(0);
  });

  it('counts only the same candidate in a row: alternating violations never confirm', () => {
    const e = new MonitoringEngine([limit(2)]);
    feed(e, 'thermal.junctionC', [0, 0]);
    expect(feed(e, 'thermal.junctionC', [90, -30, 90, -30, 90])).toEqual([]);
    expect(feed(e, 'thermal.junctionC', [91])).toEqual(['ok->above-high']);
  });

  it('treats the bounds as inclusive, and persistence 1 confirms at once', () => {
    const e = new MonitoringEngine([limit(1)]);
    expect(feed(e, 'thermal.junctionC', [85, -20])).toEqual(['unchecked->ok']);
    expect(feed(e, 'thermal.junctionC', [85.001, -20.001])).toEqual([
      'ok->above-high',
      'above-high->below-low',
    ]);
  });

  it('rates non-numeric and infinite values as unexpected, and reports them as text when not primitive', () => {
    const e = new MonitoringEngine([limit(1)]);
    expect(feed(e, 'thermal.junctionC', ['hot', 10, Number.POSITIVE_INFINITY])).toEqual([
      'unchecked->unexpected',
      'unexpected->ok',
      'ok->unexpected',
    ]);
    e.sample('thermal.junctionC', 10);
    expect(e.sample('thermal.junctionC', { c: 1 })[0]?.value).toBe('{"c":1}');
    e.sample('thermal.junctionC', 10);
    expect(e.sample('thermal.junctionC', undefined)[0]?.value).toBe('undefined');
  });

  it('does not check NaN (a reading the component does not have): invalid, which is no violation', () => {
    const e = new MonitoringEngine([limit(2)]);
    expect(feed(e, 'thermal.junctionC', [95, 95])).toEqual(['unchecked->above-high']);
    expect(e.violated).toBe(1);
    expect(feed(e, 'thermal.junctionC', [Number.NaN, Number.NaN, Number.NaN])).toEqual([
      'above-high->invalid',
    ]);
    expect(e.violated).toBe(0);
    expect(feed(e, 'thermal.junctionC', [50, 50])).toEqual(['invalid->ok']);
    // A delta monitor starts over after a gap: the first value after it only primes the comparison.
    const d = new MonitoringEngine([
      {
        id: 9,
        name: 'thermal.JUNCTION_STUCK',
        parameter: 'thermal.junctionC',
        check: { kind: 'delta', minDelta: 1e-6 },
        persistence: 1,
        enabled: true,
      },
    ]);
    expect(feed(d, 'thermal.junctionC', [50, 51, Number.NaN, 40, 40])).toEqual([
      'unchecked->ok',
      'ok->invalid',
      'invalid->stuck',
    ]);
  });

  it('ignores unknown parameters and returns the shared empty array when nothing changes', () => {
    const e = new MonitoringEngine([limit(2)]);
    const none = e.sample('nobody.listens', 1);
    expect(none).toEqual([]);
    expect(e.sample('thermal.junctionC', 20)).toBe(none);
    expect(Object.isFrozen(none)).toBe(true);
    expect(e.checks).toBe(1);
  });
});

describe('MonitoringEngine: expected-value and delta checks', () => {
  it('checks an expected value with strict equality', () => {
    const e = new MonitoringEngine([
      {
        id: 1,
        name: 'modes.NOT_NOMINAL',
        parameter: 'modes.mode',
        check: { kind: 'expected', value: 'NOMINAL' },
        persistence: 2,
        enabled: true,
      },
      {
        id: 2,
        name: 'power.BUS_OFF',
        parameter: 'power.busOn',
        check: { kind: 'expected', value: true },
        persistence: 1,
        enabled: true,
      },
      {
        id: 3,
        name: 'link.RATE',
        parameter: 'link.rate',
        check: { kind: 'expected', value: 1 },
        persistence: 1,
        enabled: true,
      },
    ]);
    expect(feed(e, 'modes.mode', ['NOMINAL', 'NOMINAL', 'SAFE'])).toEqual(['unchecked->ok']);
    expect(feed(e, 'modes.mode', ['SAFE'])).toEqual(['ok->unexpected']);
    expect(feed(e, 'power.busOn', [1, true])).toEqual(['unchecked->unexpected', 'unexpected->ok']);
    expect(feed(e, 'link.rate', ['1', 1, 1.0000001])).toEqual([
      'unchecked->unexpected',
      'unexpected->ok',
      'ok->unexpected',
    ]);
  });

  it('flags a stuck value after the priming sample and N identical ones', () => {
    const e = new MonitoringEngine([
      {
        id: 7,
        name: 'adcs.GYRO_STUCK',
        parameter: 'adcs.rateX',
        check: { kind: 'delta', minDelta: 1e-6 },
        persistence: 3,
        enabled: true,
      },
    ]);
    expect(feed(e, 'adcs.rateX', [0.5])).toEqual([]); // primes the previous value, checks nothing
    expect(e.checks).toBe(0);
    expect(feed(e, 'adcs.rateX', [0.51, 0.52, 0.53])).toEqual(['unchecked->ok']);
    expect(feed(e, 'adcs.rateX', [0.53, 0.53])).toEqual([]);
    expect(feed(e, 'adcs.rateX', [0.53])).toEqual(['ok->stuck']);
    expect(e.violated).toBe(1);
    expect(feed(e, 'adcs.rateX', [0.54, 0.55, 0.56])).toEqual(['stuck->ok']);
  });

  it('flags a jump above maxDelta, in either direction', () => {
    const e = new MonitoringEngine([
      {
        id: 8,
        name: 'power.SOC_JUMP',
        parameter: 'power.soc',
        check: { kind: 'delta', minDelta: 0, maxDelta: 5 },
        persistence: 1,
        enabled: true,
      },
    ]);
    expect(feed(e, 'power.soc', [50, 50, 55])).toEqual(['unchecked->ok']); // minDelta 0: never stuck
    expect(feed(e, 'power.soc', [40])).toEqual(['ok->jump']);
    expect(feed(e, 'power.soc', [44, 60])).toEqual(['jump->ok', 'ok->jump']);
    expect(feed(e, 'power.soc', ['x'])).toEqual(['jump->unexpected']);
  });
});

describe('MonitoringEngine: commanding monitors', () => {
  it('reports enable and disable transitions, and skips disabled monitors', () => {
    const e = new MonitoringEngine([limit(1, { enabled: false })]);
    expect(e.states()[0]?.state).toBe('disabled');
    expect(feed(e, 'thermal.junctionC', [99])).toEqual([]);
    expect(e.checks).toBe(0);
    expect(e.disable(1)).toBeUndefined();
    const enabled = e.enable(1);
    expect(enabled).toMatchObject({ from: 'disabled', to: 'unchecked' });
    expect(enabled?.value).toBeNaN();
    expect(e.definition(1)?.enabled).toBe(true);
    expect(e.enable(1)).toBeUndefined();
    expect(feed(e, 'thermal.junctionC', [99])).toEqual(['unchecked->above-high']);
    expect(e.violated).toBe(1);
    expect(e.disable(1)).toMatchObject({ from: 'above-high', to: 'disabled', value: 99 });
    expect(e.violated).toBe(0);
    expect(e.definition(1)?.enabled).toBe(false);
    expect(e.enable(999)).toBeUndefined();
    expect(e.disable(999)).toBeUndefined();
  });

  it('re-primes a delta check on enable', () => {
    const e = new MonitoringEngine([
      {
        id: 1,
        name: 'x.JUMP',
        parameter: 'x.v',
        check: { kind: 'delta', maxDelta: 1 },
        persistence: 1,
        enabled: true,
      },
    ]);
    feed(e, 'x.v', [0, 0.5]);
    e.disable(1);
    e.enable(1);
    expect(feed(e, 'x.v', [100])).toEqual([]);
    expect(feed(e, 'x.v', [100.5])).toEqual(['unchecked->ok']);
  });

  it('changes the check (validated), restarting the persistence count', () => {
    const e = new MonitoringEngine([limit(3)]);
    feed(e, 'thermal.junctionC', [20, 20, 20, 90, 90]);
    e.setCheck(1, { kind: 'limit', low: -20, high: 95 });
    expect(e.definition(1)?.check).toEqual({ kind: 'limit', low: -20, high: 95 });
    expect(feed(e, 'thermal.junctionC', [96, 96])).toEqual([]); // the count restarted
    expect(feed(e, 'thermal.junctionC', [96])).toEqual(['ok->above-high']);
    expect(() => e.setCheck(1, { kind: 'limit', low: 5, high: 1 })).toThrow(RangeError);
    expect(() => e.setCheck(1, { kind: 'limit', low: 0, high: Number.NaN })).toThrow(/finite/);
    expect(() => e.setCheck(2, { kind: 'limit', low: 0, high: 1 })).toThrow(/unknown monitor id 2/);
    expect(e.definition(1)?.check).toEqual({ kind: 'limit', low: -20, high: 95 });
  });

  it('changes the persistence (validated)', () => {
    const e = new MonitoringEngine([limit(5)]);
    e.setPersistence(1, 1);
    expect(e.definition(1)?.persistence).toBe(1);
    expect(feed(e, 'thermal.junctionC', [20])).toEqual(['unchecked->ok']);
    expect(() => e.setPersistence(1, 0)).toThrow(RangeError);
    expect(() => e.setPersistence(1, 1.5)).toThrow(RangeError);
  });

  it('runs many monitors on one parameter independently', () => {
    const e = new MonitoringEngine([
      limit(1, { id: 1, name: 'thermal.WARM', check: { kind: 'limit', low: -100, high: 70 } }),
      limit(2, { id: 2, name: 'thermal.HOT', check: { kind: 'limit', low: -100, high: 85 } }),
      limit(1, { id: 3, name: 'thermal.STUCK', check: { kind: 'delta', minDelta: 0.01 } }),
      limit(1, { id: 4, name: 'other.X', parameter: 'other.x' }),
    ]);
    const names = (v: number) => e.sample('thermal.junctionC', v).map((t) => `${t.name}:${t.to}`);
    expect(names(60)).toEqual(['thermal.WARM:ok']);
    expect(names(80)).toEqual(['thermal.WARM:above-high', 'thermal.HOT:ok', 'thermal.STUCK:ok']);
    expect(names(90)).toEqual([]);
    expect(names(90)).toEqual(['thermal.HOT:above-high', 'thermal.STUCK:stuck']);
    expect(e.violated).toBe(3);
    expect(e.checks).toBe(2 + 3 + 3 + 3);
    expect(e.states().map((s) => s.state)).toEqual(['above-high', 'above-high', 'stuck', 'unchecked']);
  });
});

describe('MonitoringEngine: bad definitions', () => {
  const bad: ReadonlyArray<[string, MonitorDefinition[], RegExp]> = [
    ['duplicate id', [limit(1), limit(1, { name: 'other' })], /duplicate monitor id 1/],
    ['persistence 0', [limit(0)], /persistence must be an integer >= 1/],
    ['fractional persistence', [limit(2.5)], /persistence/],
    ['low above high', [limit(1, { check: { kind: 'limit', low: 10, high: 0 } })], /low 10 is above high 0/],
    [
      'infinite bound',
      [limit(1, { check: { kind: 'limit', low: 0, high: Number.POSITIVE_INFINITY } })],
      /finite/,
    ],
    ['delta without bounds', [limit(1, { check: { kind: 'delta' } })], /needs minDelta, maxDelta or both/],
    ['negative delta', [limit(1, { check: { kind: 'delta', maxDelta: -1 } })], /maxDelta must be/],
    [
      'minDelta above maxDelta',
      [limit(1, { check: { kind: 'delta', minDelta: 2, maxDelta: 1 } })],
      /minDelta 2/,
    ],
    ['NaN expected value', [limit(1, { check: { kind: 'expected', value: Number.NaN } })], /NaN/],
    [
      'unknown kind',
      [limit(1, { check: { kind: 'range' } as unknown as MonitorCheck })],
      /unknown check kind/,
    ],
    ['empty parameter', [limit(1, { parameter: '' })], /parameter/],
  ];
  it.each(bad)('throws a RangeError for %s', (_what, definitions, message) => {
    expect(() => new MonitoringEngine(definitions)).toThrow(RangeError);
    expect(() => new MonitoringEngine(definitions)).toThrow(message);
  });
});
