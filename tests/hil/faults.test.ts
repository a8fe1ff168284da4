import { describe, expect, it } from 'vitest';
import { htmlReport } from '../../hil/report.js';
import { loadScenario } from '../../hil/scenario.js';
import { runController, scoreScenario } from '../../hil/score.js';

describe('scenarios with injected faults', () => {
  it('keeps every limit through a stuck and then a failed junction sensor, where bang-bang overheats', async () => {
    const scenario = loadScenario('seeds/leo-550-sensor-failure.json');
    const result = await scoreScenario(scenario, { traceEveryS: 60 });
    expect(result.violations).toMatchObject({ junctionKelvinSeconds: 0, batteryDeficitWh: 0 });
    expect(result.passed).toBe(true);
    expect(result.score).toBeGreaterThanOrEqual(scenario.criteria.minScore);
    // The stuck sensor fools a governor that does not check its sensor.
    expect(result.baselines.bang_bang.violations.junctionKelvinSeconds).toBeGreaterThan(0);
    expect(result.baselines.bang_bang.score).toBe(0);
    // While the sensor was not trusted, skynode held the safe cap.
    const during = result.runs.skynode.trace.filter((p) => p.timeS > 1300 && p.timeS < 2000);
    expect(during.length).toBeGreaterThan(5);
    expect(during.every((p) => p.binding === 'sensor-fallback' || p.binding === 'energy')).toBe(true);
    expect(Math.max(...during.map((p) => p.capW))).toBeLessThanOrEqual(100.5);

    const html = htmlReport(result, scenario.description);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('leo-550-sensor-failure');
    expect(html).toContain('PASS');
    expect(html.match(/<svg /g)?.length).toBe(5);
    expect(html).toContain('sensor-fallback');
  }, 120_000);

  it('with an aged battery, power_allocator as Linux runs it crosses the floor; skynode does not', async () => {
    const scenario = loadScenario('seeds/leo-550-aged-battery.json');
    const ours = runController(scenario, 'skynode', { traceEveryS: 0 });
    expect(ours.violations).toMatchObject({ junctionKelvinSeconds: 0, batteryDeficitWh: 0 });
    const linux = runController(scenario, 'power_allocator', { traceEveryS: 0, energyManagement: false });
    expect(linux.violations.batteryDeficitWh).toBeGreaterThan(0);
  }, 120_000);

  it('repeats exactly: the same seed gives the same run with a noisy sensor', () => {
    const scenario = loadScenario('seeds/leo-550-aged-battery.json');
    const short = { ...scenario, durationS: 1200 };
    const a = runController(short, 'skynode', { traceEveryS: 0 });
    const b = runController(short, 'skynode', { traceEveryS: 0 });
    expect(a.compute).toBe(b.compute);
    const other = runController({ ...short, seed: short.seed + 1 }, 'skynode', { traceEveryS: 0 });
    expect(other.compute).not.toBe(a.compute);
  }, 60_000);
});
