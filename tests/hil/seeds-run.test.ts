/**
 * Every scenario in seeds/ through the whole rig (`skynode hil run`): the flight software as its own process on the
 * sim-serial board, the Modbus devices and the ground station on pseudo-terminals, the scenario's faults and ground
 * script, in accelerated time; a failing verdict fails CI. The reports are written under hil-reports/ (ignored by
 * git).
 *
 * Three seeds run in full, three orbits, with the score against the optimum: the controller scenarios the issue
 * names (eclipse at full AI load, radiator degradation, sensor failure while throttling). The others run `--quick`:
 * up to 5 minutes after the last moment their script or faults can act (every fault and check inside; at least
 * 20 minutes), without a score. All nine in full took 344 s of a 645 s suite on this 2-core machine, five in full
 * 257 s of 629 s when the machine ran slower, over the suite's 10 minutes; their full runs pass (README, "HIL
 * rig") and are `skynode hil run seeds/NAME.json`. Two runs go at once: each is two processes that mostly wait on
 * each other, so that two share the two cores about as well as three would (measured: three orbits of one seed
 * 46-55 s alone, about 59 s two at a time, 88 s three at a time).
 *
 * The runs use the package as built (tsc) and laid out as installed on a board or a rig PC, without sources: the
 * rig and the flight software then run the built JavaScript, which takes about a fifth less CPU than the sources
 * through tsx, and the runs prove that `hil run` works from a build (the rig finds the command that starts the
 * flight software above its own module).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../hil/scenario.js';
import { orbitPeriodS } from '../../src/power/orbit.js';
import { type BuiltInstall, buildInstall } from '../support/build.js';
import { runToEnd } from '../support/cli.js';

const SEEDS = readdirSync('seeds')
  .filter((f) => f.endsWith('.json'))
  .sort();

/** The seeds CI runs in full (see above); the rest run --quick. */
const IN_FULL = new Set([
  'leo-550-beta0.json',
  'leo-550-degraded-radiator.json',
  'leo-550-sensor-failure.json',
]);

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
  let built: BuiltInstall;
  beforeAll(() => {
    built = buildInstall();
  }, 120_000);
  afterAll(() => rmSync(built.dir, { recursive: true, force: true }));

  it('runs from a build without sources', () => {
    expect(existsSync(join(built.dir, 'dist/src/cli/main.js'))).toBe(true);
    expect(existsSync(join(built.dir, 'src')), 'no sources: bin/skynode.js runs dist/').toBe(false);
  });

  it('has the scenarios the rig is meant to cover, each of three orbits or more', () => {
    expect(SEEDS.length).toBeGreaterThanOrEqual(5);
    for (const name of IN_FULL) expect(SEEDS).toContain(name);
    for (const file of SEEDS) {
      const scenario = loadScenario(`seeds/${file}`);
      expect(scenario.durationS, file).toBeGreaterThanOrEqual(
        3 * orbitPeriodS(scenario.plant.orbit.altitudeKm) - 1,
      );
    }
  });

  describe.concurrent('each', () => {
    // The long runs first, so that the short ones fill in beside them.
    const byLength = [...SEEDS].sort((a, b) => Number(IN_FULL.has(b)) - Number(IN_FULL.has(a)));
    for (const file of byLength) {
      const scenario = loadScenario(`seeds/${file}`);
      const full = IN_FULL.has(file);
      it(`${file} (${full ? 'in full, with the score' : '--quick'})`, async () => {
        const { code, stdout, stderr } = await inTurn(() =>
          runToEnd(['hil', 'run', `seeds/${file}`, ...(full ? [] : ['--quick']), '--report', 'hil-reports'], {
            bin: built.bin,
          }),
        );
        expect(code, `${stdout}\n${stderr}`).toBe(0);
        expect(stdout).toMatch(/^PASS$/m);
        expect(stdout).toMatch(full ? /^score +\d\.\d{3} of the optimum$/m : /^score +none/m);
        expect(stdout).toMatch(/^flight software +exit 0/m);
        expect(stdout).not.toMatch(/^ {2}FAIL /m);
        if (scenario.ground.length > 0) {
          const checks = /^ground checks +(\d+) of (\d+) passed/m.exec(stdout);
          expect(Number(checks?.[2])).toBeGreaterThanOrEqual(scenario.ground.length);
          expect(checks?.[1]).toBe(checks?.[2]);
        }
      }, 900_000);
    }
  });
});
