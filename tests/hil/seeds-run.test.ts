/**
 * Every scenario in seeds/ through the whole rig (`skynode hil run --quick`): the flight software as its own
 * process on the sim-serial board, the Modbus devices and the ground station on pseudo-terminals, the scenario's
 * faults and ground script, in accelerated time; a failing verdict fails CI. A quick run covers each scenario up
 * to 5 minutes after its last scripted moment (at least 20 minutes of mission time); the whole three orbits, and
 * the score against the optimum, are `skynode hil run seeds/NAME.json` (README, "HIL rig"). The reports are
 * written under hil-reports/ (ignored by git).
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runToEnd } from '../support/cli.js';

const SEEDS = readdirSync('seeds')
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('every seed scenario through the rig (hil run --quick)', () => {
  it('has the scenarios the rig is meant to cover', () => {
    expect(SEEDS.length).toBeGreaterThanOrEqual(5);
  });

  for (const file of SEEDS) {
    it(file, async () => {
      const { code, stdout, stderr } = await runToEnd([
        'hil',
        'run',
        `seeds/${file}`,
        '--quick',
        '--report',
        'hil-reports',
      ]);
      expect(code, `${stdout}\n${stderr}`).toBe(0);
      expect(stdout).toMatch(/^PASS$/m);
      expect(stdout).toMatch(/^flight software +exit 0/m);
      expect(stdout).not.toMatch(/^ {2}FAIL /m);
    }, 240_000);
  }
});
