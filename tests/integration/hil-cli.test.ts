import { describe, expect, it } from 'vitest';
import { runToEnd } from '../support/cli.js';

describe('skynode hil score', () => {
  it('scores a scenario as one JSON object and exits 0 when its criteria are met', async () => {
    const { code, stdout, stderr } = await runToEnd([
      'hil',
      'score',
      'seeds/leo-550-degraded-radiator.json',
      '--json',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      score: number;
      optimum: number;
      baselines: { bang_bang: number; step_wise: number; power_allocator: number };
      violations: { junctionKelvinSeconds: number; batteryDeficitWh: number };
      passed: boolean;
    };
    expect(result.score).toBeGreaterThanOrEqual(0.95);
    expect(result.optimum).toBeGreaterThan(0);
    for (const baseline of Object.values(result.baselines)) expect(result.score).toBeGreaterThan(baseline);
    expect(result.violations).toMatchObject({ junctionKelvinSeconds: 0, batteryDeficitWh: 0 });
    expect(result.passed).toBe(true);
  }, 120_000);

  it('prints a table without --json', async () => {
    const { code, stdout } = await runToEnd(['hil', 'score', 'seeds/leo-550-degraded-radiator.json']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^optimum /m);
    for (const name of ['skynode', 'bang_bang', 'step_wise', 'power_allocator']) {
      expect(stdout).toMatch(new RegExp(`^${name} +\\d\\.\\d{3}`, 'm'));
    }
    expect(stdout.trim().endsWith('PASS')).toBe(true);
  }, 120_000);

  it('names the fix on usage errors and exits 2', async () => {
    const missing = await runToEnd(['hil', 'score']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs a scenario file/);
    const absent = await runToEnd(['hil', 'score', 'seeds/no-such.json']);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toMatch(/cannot read seeds\/no-such\.json/);
    const action = await runToEnd(['hil', 'fly']);
    expect(action.code).toBe(2);
    expect(action.stderr).toMatch(/unknown hil action 'fly'/);
  }, 60_000);
});
