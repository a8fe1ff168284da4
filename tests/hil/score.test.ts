/**
 * HIL scenario tests: the flight's power and thermal logic against the plant on each seed scenario, scored
 * against the LP optimum and the baseline governors. Each scenario takes several seconds of CPU.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario, quickDurationS, ScenarioError } from '../../hil/scenario.js';
import { runController, scoreScenario } from '../../hil/score.js';
import { orbitGeometry } from '../../src/power/orbit.js';

const SEEDS = ['leo-550-beta0', 'leo-1000-beta40', 'leo-550-degraded-radiator'] as const;
const seedPath = (name: string) => fileURLToPath(new URL(`../../seeds/${name}.json`, import.meta.url));

describe.concurrent('seed scenarios', () => {
  for (const name of SEEDS) {
    it(name, async () => {
      const scenario = loadScenario(seedPath(name));
      expect(scenario.name).toBe(name);
      const result = await scoreScenario(scenario, { traceEveryS: 0 });
      expect(result.optimum.status).toBe('Optimal');
      expect(result.skynode.violations.junctionKelvinSeconds).toBe(0);
      expect(result.skynode.violations.batteryDeficitWh).toBe(0);
      expect(result.violations).toEqual(result.skynode.violations);
      expect(result.score).toBeGreaterThanOrEqual(0.95);
      expect(result.score).toBeLessThanOrEqual(1);
      for (const [baseline, b] of Object.entries(result.baselines)) {
        expect(result.score, `skynode vs ${baseline}`).toBeGreaterThan(b.score);
      }
      expect(result.failures).toEqual([]);
      expect(result.passed).toBe(true);
    }, 120_000);
  }
});

describe('parseScenario', () => {
  const base = { durationOrbits: 1 };
  const error = (doc: unknown): string => {
    try {
      parseScenario(doc, 'test.json');
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      return (e as Error).message;
    }
    throw new Error('parseScenario accepted it');
  };

  it('accepts a minimal scenario, filling in the example node and the defaults', () => {
    const s = parseScenario(base, 'seeds/minimal.json');
    expect(s.name).toBe('minimal');
    expect(s.durationS).toBeCloseTo(orbitGeometry(550, 0).periodS, 6);
    expect(s.controlHz).toBe(10);
    expect(s.faults).toEqual([]);
    expect(s.criteria).toEqual({ minScore: 0.95, maxJunctionKelvinSeconds: 0, maxBatteryDeficitWh: 0 });
  });

  it('names the field that is wrong', () => {
    expect(error({})).toMatch(/^test\.json: .*durationOrbits.*durationS/);
    expect(error({ durationOrbits: 1, durationS: 600 })).toMatch(/durationOrbits.*durationS/);
    expect(error({ durationS: -5 })).toMatch(/durationS/);
    expect(error({ ...base, faults: [{ atS: 0, kind: 'meteor-strike', value: 0.1 }] })).toMatch(
      /faults\[0\]\.kind/,
    );
    expect(
      error({
        ...base,
        faults: [
          { atS: 0, kind: 'capacity-fade', value: 0.1 },
          { atS: 10, kind: 'radiator-degradation', value: 1.5 },
        ],
      }),
    ).toMatch(/faults\[1\]\.value/);
    expect(error({ ...base, faults: [{ atS: -1, kind: 'capacity-fade', value: 0.1 }] })).toMatch(
      /faults\[0\]\.atS/,
    );
    expect(error({ ...base, plant: { orbit: { altitudeKm: 100 } } })).toMatch(/plant\.orbit\.altitudeKm/);
    expect(error({ ...base, plant: { orbit: { altitudeKm: 50_000 } } })).toMatch(/plant\.orbit\.altitudeKm/);
    expect(error({ ...base, plant: { orbit: { betaDeg: 120 } } })).toMatch(/plant\.orbit\.betaDeg/);
    expect(error({ ...base, controlHz: 0 })).toMatch(/controlHz/);
    expect(error([])).toMatch(/JSON object/);
  });

  it('splits the faults only the rig can inject from the plant and sensor faults, and reads the ground script', () => {
    const s = parseScenario(
      {
        ...base,
        rig: { stepMs: 250 },
        faults: [
          { atS: 5, kind: 'capacity-fade', value: 0.1 },
          { atS: 10, kind: 'link-loss', durationS: 60 },
          { atS: 20, kind: 'fsw-crash' },
          { atS: 30, kind: 'command-storm', count: 5, command: 'health.NOOP' },
          { atS: 40, kind: 'device-line-noise', durationS: 10, bitErrorRate: 0.001 },
          { atS: 50, kind: 'sensor-noise', sensor: 'battery', value: 0.01 },
        ],
        ground: [
          { atS: 0, send: 'health.NOOP' },
          { atS: 1, expectTelemetry: 'modes.mode', equals: 'NOMINAL', withinS: 5 },
          { atS: 2, expectEvent: 'fdir.REBOOT_LOOP' },
          { atS: 3, recoverGaps: { fromS: 0, toS: 100 } },
        ],
      },
      'rig.json',
    );
    expect(s.faults.map((f) => f.kind)).toEqual(['capacity-fade', 'sensor-noise']);
    expect(s.rigFaults.map((f) => f.kind)).toEqual([
      'link-loss',
      'fsw-crash',
      'command-storm',
      'device-line-noise',
    ]);
    expect(s.ground).toHaveLength(4);
    expect(s.rig).toEqual({ stepMs: 250 });
    expect(parseScenario(base).rig).toEqual({ stepMs: 100 });
    expect(parseScenario(base).ground).toEqual([]);
  });

  it('covers up to 5 min after the last scripted moment in a quick run, at least 20 min, at most the scenario', () => {
    expect(quickDurationS(parseScenario(base))).toBe(1200);
    const scripted = parseScenario({
      ...base,
      faults: [
        { atS: 600, kind: 'link-loss', durationS: 1500 },
        { atS: 100, kind: 'sensor-stuck', sensor: 'junction' },
      ],
      ground: [
        { atS: 2200, recoverGaps: { fromS: 300, toS: 2200 }, withinS: 600 },
        { atS: 2500, expectEvent: 'fdir.SAFE_MODE', withinS: 60 },
      ],
    });
    expect(quickDurationS(scripted)).toBe(2200 + 600 + 300);
    const late = parseScenario({ ...base, faults: [{ atS: 100_000, kind: 'sensor-fail', sensor: 'solar' }] });
    expect(quickDurationS(late)).toBe(late.durationS);
  });

  it('names what is wrong in a rig fault or a ground step', () => {
    expect(error({ ...base, faults: [{ atS: 0, kind: 'link-loss' }] })).toMatch(/faults\[0\]\.durationS/);
    expect(
      error({ ...base, faults: [{ atS: 0, kind: 'device-line-noise', durationS: 5, bitErrorRate: 2 }] }),
    ).toMatch(/bitErrorRate/);
    expect(error({ ...base, faults: [{ atS: 0, kind: 'command-storm', count: 0, command: 'x' }] })).toMatch(
      /faults\[0\]\.count/,
    );
    expect(error({ ...base, ground: [{ atS: 0 }] })).toMatch(/ground\[0\] must have exactly one of/);
    expect(error({ ...base, ground: [{ atS: 0, send: 'a', expectEvent: 'b' }] })).toMatch(/exactly one/);
    expect(error({ ...base, ground: [{ atS: 0, expectTelemetry: 'a' }] })).toMatch(/min, max or equals/);
    expect(error({ ...base, ground: [{ atS: 0, send: 'a', expect: 'maybe' }] })).toMatch(/expect/);
    expect(error({ ...base, ground: [{ atS: 0, recoverGaps: { fromS: 10, toS: 5 } }] })).toMatch(
      /recoverGaps/,
    );
    expect(error({ ...base, ground: [{ atS: 0, expectEvent: 'e', withinS: 0 }] })).toMatch(/withinS/);
    expect(error({ ...base, ground: {} })).toMatch(/ground must be a list/);
    expect(error({ ...base, rig: { stepMs: 0 } })).toMatch(/rig\.stepMs/);
  });

  it('reports unreadable and malformed files', () => {
    expect(() => loadScenario('/nonexistent/scenario.json')).toThrow(ScenarioError);
    expect(() => loadScenario(fileURLToPath(import.meta.url))).toThrow(/not valid JSON/);
  });
});

describe('plant faults', () => {
  it('a radiator degradation one orbit in changes the run from then on', () => {
    const periodS = orbitGeometry(550, 0).periodS;
    const doc = { name: 'fault', durationOrbits: 2, plant: { orbit: { altitudeKm: 550, betaDeg: 0 } } };
    const clean = runController(parseScenario(doc), 'skynode', { traceEveryS: 60 });
    const faulted = runController(
      parseScenario({ ...doc, faults: [{ atS: periodS, kind: 'radiator-degradation', value: 0.3 }] }),
      'skynode',
      { traceEveryS: 60 },
    );
    // Identical up to the fault...
    const upToFault = (run: typeof clean) => run.trace.filter((p) => p.timeS < periodS);
    expect(upToFault(faulted)).toEqual(upToFault(clean));
    // ...then a hotter radiator and less compute (the thermal limit binds harder), still within the limits.
    const settled = (run: typeof clean) => run.trace.filter((p) => p.timeS > periodS + 1200);
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(settled(faulted).map((p) => p.radiatorC))).toBeGreaterThan(
      mean(settled(clean).map((p) => p.radiatorC)),
    );
    expect(faulted.compute).toBeLessThan(clean.compute);
    expect(faulted.bindingS.thermal ?? 0).toBeGreaterThan(clean.bindingS.thermal ?? 0);
    expect(faulted.violations.junctionKelvinSeconds).toBe(0);
    expect(faulted.violations.batteryDeficitWh).toBe(0);
  }, 120_000);
});
