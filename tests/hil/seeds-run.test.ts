/**
 * Every scenario in seeds/ through the whole rig (`skynode hil run`), in full: three orbits or more each, the
 * flight software as its own process on the sim-serial board, the Modbus devices and the ground station on
 * pseudo-terminals, the scenario's faults and ground script, in accelerated time, and the score against the
 * optimum; a failing verdict fails CI. Two runs go at once: each is two processes that mostly wait on each other,
 * so that two share this machine's two cores about as well as three would (measured: three orbits of one seed,
 * 46-55 s alone, about 59 s two at a time, 88 s three at a time). The reports are written under hil-reports/
 * (ignored by git).
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../hil/scenario.js';
import { orbitPeriodS } from '../../src/power/orbit.js';
import { runToEnd } from '../support/cli.js';

const SEEDS = readdirSync('seeds')
  .filter((f) => f.endsWith('.json'))
  .sort();

const RUNS_AT_ONCE = 2;
let running = 0;
const waiting: Array<() => void> = [];
/** Runs `work` once fewer than RUNS_AT_ONCE others are running. */
async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  while (running >= RUNS_AT_ONCE) await new Promise<void>((go) => waiting.push(go));
  running += 1;
  try {
    return await work();
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

describe('every seed scenario through the rig (hil run)', () => {
  it('has the scenarios the rig is meant to cover, each of three orbits or more', () => {
    expect(SEEDS.length).toBeGreaterThanOrEqual(5);
    for (const file of SEEDS) {
      const scenario = loadScenario(`seeds/${file}`);
      expect(scenario.durationS, file).toBeGreaterThanOrEqual(
        3 * orbitPeriodS(scenario.plant.orbit.altitudeKm) - 1,
      );
    }
  });

  describe.concurrent('in full', () => {
    for (const file of SEEDS) {
      it(file, async () => {
        const { code, stdout, stderr } = await inTurn(() =>
          runToEnd(['hil', 'run', `seeds/${file}`, '--report', 'hil-reports']),
        );
        expect(code, `${stdout}\n${stderr}`).toBe(0);
        expect(stdout).toMatch(/^PASS$/m);
        expect(stdout).toMatch(/^score +\d\.\d{3} of the optimum$/m);
        expect(stdout).toMatch(/^flight software +exit 0/m);
        expect(stdout).not.toMatch(/^ {2}FAIL /m);
      }, 900_000);
    }
  });
});
