/**
 * The HIL rig's speed (issue 9: three orbits of a scenario in at most 60 s on this machine, accelerated, over real
 * serial lines): `skynode hil run` as a user runs it, the flight software as its own process against the Modbus
 * devices and the ground station on the rig's pseudo-terminals, for 40 minutes of mission time at the scenario's
 * step; the speed-up it sustains after the first fifth (start-up and warm-up aside), and the three orbits' real
 * time projected from it (start-up and the optimum's linear program, about 2 s of a whole run, not counted). Three
 * seeds: the plain one (leo-550-beta0) and the two slowest (the aged battery's noisy sensor makes the governor
 * write its cap almost every step; the 1000 km orbit is 10 % longer).
 */
import { resolve } from 'node:path';
import { runRig } from '../../hil/rig.js';
import { loadScenario } from '../../hil/scenario.js';
import type { Benchmark, Figure } from './harness.js';

const SEEDS = ['leo-550-beta0', 'leo-550-aged-battery', 'leo-1000-beta40'];
const SEGMENT_S = 2400;

async function rigFigures(seed: string): Promise<Figure[]> {
  const scenario = loadScenario(resolve(import.meta.dirname, `../../seeds/${seed}.json`));
  let warm: { missionS: number; realS: number } | undefined;
  let last: { missionS: number; realS: number } | undefined;
  const result = await runRig({
    scenario,
    durationS: SEGMENT_S,
    skipScore: true,
    onProgress: (p) => {
      if (warm === undefined && p.fraction >= 0.2) warm = { missionS: p.missionS, realS: p.realS };
      last = { missionS: p.missionS, realS: p.realS };
    },
  });
  if (!result.passed) throw new Error(`the rig run failed: ${result.failures.join('; ')}`);
  const speedup =
    warm && last && last.realS > warm.realS
      ? (last.missionS - warm.missionS) / (last.realS - warm.realS)
      : result.speedup;
  const threeOrbitsS = scenario.durationS / speedup;
  const details = {
    scenario: scenario.name,
    stepMs: result.stepMs,
    missionS: result.missionS,
    realS: Number(result.realS.toFixed(2)),
    wholeRunSpeedup: Number(result.speedup.toFixed(1)),
    modbusRequests: result.bus.requests,
    groundFrames: result.link.framesIn,
  };
  return [
    {
      name: `hil run ${scenario.name}: speed-up (mission s per real s, ${result.stepMs} ms steps)`,
      value: speedup,
      unit: 'x',
      target: {
        kind: 'min',
        value: scenario.durationS / 60,
        source: 'issue 9 (three orbits in at most 60 s)',
      },
      details,
    },
    {
      name: `hil run ${scenario.name}: three orbits, projected real time`,
      value: threeOrbitsS,
      unit: 's',
      target: { kind: 'max', value: 60, source: 'issue 9 (each scenario, three orbits, in at most 60 s)' },
      details: { missionS: Number(scenario.durationS.toFixed(0)) },
    },
  ];
}

export const benchmarks: readonly Benchmark[] = SEEDS.map((seed) => ({
  name: `hil run speed (${seed})`,
  run: () => rigFigures(seed),
}));
