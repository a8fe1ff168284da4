/**
 * Scenario files (`seeds/NAME.json`): which node, in which orbit, for how long, with which faults, and what
 * passing means. A scenario names only what differs from the example node (`hil/plant/defaults.ts`): its `plant`
 * object is merged over it, key by key (arrays replace).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { exampleNode, type PlantOverrides } from './plant/defaults.js';
import type { PlantParams } from './plant/params.js';

/** A change to the plant at a moment of the run. */
export type PlantFault =
  | { readonly atS: number; readonly kind: 'radiator-degradation'; readonly value: number }
  | { readonly atS: number; readonly kind: 'solar-degradation'; readonly value: number }
  | { readonly atS: number; readonly kind: 'capacity-fade'; readonly value: number };

/** The sensors a fault can hit. */
export const FAULT_SENSORS = ['junction', 'battery', 'solar'] as const;
export type FaultSensor = (typeof FAULT_SENSORS)[number];

/**
 * A sensor going wrong at a moment of the run: stuck at its value then, biased by `value` (K for the junction,
 * as a fraction of the reading otherwise), noisy (`value`: standard deviation, the same units), failed (no
 * reading at all), or healed (back to the truth).
 */
export type SensorFault = {
  readonly atS: number;
  readonly kind: 'sensor-stuck' | 'sensor-bias' | 'sensor-noise' | 'sensor-fail' | 'sensor-heal';
  readonly sensor: FaultSensor;
  readonly value?: number;
};

export type Fault = PlantFault | SensorFault;

/**
 * Faults only the rig (`hil run`) can inject, on the real serial lines and processes; `hil score`, which has
 * neither, leaves them out.
 * - `link-loss`: the ground link carries nothing either way for `durationS` (a missed ground pass);
 * - `uplink-replay`: the last uplink frame the ground sent goes up again, octet for octet (a replay attack);
 * - `command-storm`: the ground sends `command` (`args`) `count` times, as fast as COP-1 lets it;
 * - `device-line-noise`: each octet on the device line is hit by a bit error with probability `bitErrorRate`,
 *   for `durationS`;
 * - `device-disconnect`: the device line carries nothing for `durationS` (a cable pulled);
 * - `fsw-crash`: the flight software process is killed (SIGKILL) and started again on the same state directory,
 *   as a watchdog reset would.
 */
export type RigFault =
  | { readonly atS: number; readonly kind: 'link-loss'; readonly durationS: number }
  | { readonly atS: number; readonly kind: 'uplink-replay' }
  | {
      readonly atS: number;
      readonly kind: 'command-storm';
      readonly count: number;
      readonly command: string;
      readonly args?: Readonly<Record<string, unknown>>;
    }
  | {
      readonly atS: number;
      readonly kind: 'device-line-noise';
      readonly durationS: number;
      readonly bitErrorRate: number;
    }
  | { readonly atS: number; readonly kind: 'device-disconnect'; readonly durationS: number }
  | { readonly atS: number; readonly kind: 'fsw-crash' };

/**
 * One step of a scenario's ground script, run by `hil run`'s ground station over its own serial link, in order:
 * each starts at `atS` (mission seconds from the start) or when the step before it has ended, whichever is later.
 * - `send`: a dictionary command; its verification must end as `expect` (default `completed`);
 * - `expectTelemetry`: the parameter must be received with a value within `min`..`max` (or equal to `equals`)
 *   within `withinS` (default 30);
 * - `expectEvent`: the event must be received, raised at or after `sinceS` (default `atS`), within `withinS`;
 * - `recoverGaps`: the ground finds the packets it missed between `fromS` and `toS` and asks the recorder to
 *   play them back (as `skynode ground gaps --request`); at most `maxMissing` (default 0) may still be missing
 *   after `withinS` (default 600).
 */
export type GroundStep =
  | {
      readonly atS: number;
      readonly send: string;
      readonly args?: Readonly<Record<string, unknown>>;
      readonly expect?: 'completed' | 'failed';
      readonly timeoutS?: number;
    }
  | {
      readonly atS: number;
      readonly expectTelemetry: string;
      readonly min?: number;
      readonly max?: number;
      readonly equals?: string | number | boolean;
      readonly withinS?: number;
    }
  | {
      readonly atS: number;
      readonly expectEvent: string;
      readonly sinceS?: number;
      readonly withinS?: number;
    }
  | {
      readonly atS: number;
      readonly recoverGaps: { readonly fromS: number; readonly toS: number };
      readonly maxMissing?: number;
      readonly withinS?: number;
    };

/** How long an `expectTelemetry` or `expectEvent` step waits by default, s. */
export const DEFAULT_WITHIN_S = 30;
/** How long a `recoverGaps` step may take by default, s: a lost pass takes minutes to play back. */
export const DEFAULT_RECOVERY_S = 600;

/** How `hil run` steps: mission ms per lockstep (default 100, the thermal rate group's period). */
export interface RigSettings {
  readonly stepMs: number;
}

export interface ScenarioCriteria {
  /** The controller's score (delivered / optimum) must be at least this. */
  readonly minScore: number;
  /** Kelvin-seconds over the junction limit allowed (0: none). */
  readonly maxJunctionKelvinSeconds: number;
  /** Wh below the battery floor allowed (0: none). */
  readonly maxBatteryDeficitWh: number;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Seeds every random choice of the run (sensor noise, injected faults), so a run repeats exactly. */
  readonly seed: number;
  readonly durationS: number;
  readonly plant: PlantParams;
  /** The flight controller's rate, Hz (10: the thermal rate group). */
  readonly controlHz: number;
  readonly faults: readonly Fault[];
  /** Faults on the rig's serial lines and processes: `hil run` only. */
  readonly rigFaults: readonly RigFault[];
  /** The ground script `hil run` runs (empty: none). */
  readonly ground: readonly GroundStep[];
  readonly rig: RigSettings;
  readonly criteria: ScenarioCriteria;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

function need(condition: boolean, file: string, message: string): void {
  if (!condition) throw new ScenarioError(`${file}: ${message}`);
}

const PLANT_FAULTS = ['radiator-degradation', 'solar-degradation', 'capacity-fade'] as const;
const SENSOR_FAULTS = ['sensor-stuck', 'sensor-bias', 'sensor-noise', 'sensor-fail', 'sensor-heal'] as const;
const RIG_FAULTS = [
  'link-loss',
  'uplink-replay',
  'command-storm',
  'device-line-noise',
  'device-disconnect',
  'fsw-crash',
] as const;
const FAULT_KINDS = [...PLANT_FAULTS, ...SENSOR_FAULTS, ...RIG_FAULTS] as const;

/** A fault only the rig can inject (RigFault), as opposed to one in the plant or a sensor. */
export function isRigFault(fault: Fault | RigFault): fault is RigFault {
  return (RIG_FAULTS as readonly string[]).includes(fault.kind);
}

const positive = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0;

function checkRigFault(f: Record<string, unknown>, file: string, at: string): void {
  switch (f.kind) {
    case 'link-loss':
    case 'device-disconnect':
      need(positive(f.durationS), file, `${at}.durationS must be seconds > 0`);
      return;
    case 'device-line-noise':
      need(positive(f.durationS), file, `${at}.durationS must be seconds > 0`);
      need(
        typeof f.bitErrorRate === 'number' && f.bitErrorRate > 0 && f.bitErrorRate <= 0.5,
        file,
        `${at}.bitErrorRate must be a probability in (0, 0.5]`,
      );
      return;
    case 'command-storm':
      need(
        Number.isInteger(f.count) && (f.count as number) > 0 && (f.count as number) <= 100_000,
        file,
        `${at}.count must be a whole number 1..100000`,
      );
      need(typeof f.command === 'string', file, `${at}.command must name a dictionary command`);
      need(f.args === undefined || isRecord(f.args), file, `${at}.args must be an object`);
      return;
    default:
      return;
  }
}

function checkGroundStep(step: unknown, file: string, at: string): GroundStep {
  need(isRecord(step), file, `${at} must be an object`);
  const g = step as Record<string, unknown>;
  need(typeof g.atS === 'number' && g.atS >= 0, file, `${at}.atS must be a time in seconds >= 0`);
  const kinds = ['send', 'expectTelemetry', 'expectEvent', 'recoverGaps'].filter((k) => g[k] !== undefined);
  need(
    kinds.length === 1,
    file,
    `${at} must have exactly one of send, expectTelemetry, expectEvent, recoverGaps`,
  );
  for (const key of ['withinS', 'timeoutS'] as const) {
    need(g[key] === undefined || positive(g[key]), file, `${at}.${key} must be seconds > 0`);
  }
  if (g.send !== undefined) {
    need(typeof g.send === 'string', file, `${at}.send must name a dictionary command`);
    need(g.args === undefined || isRecord(g.args), file, `${at}.args must be an object`);
    need(
      g.expect === undefined || g.expect === 'completed' || g.expect === 'failed',
      file,
      `${at}.expect must be completed or failed`,
    );
  } else if (g.expectTelemetry !== undefined) {
    need(typeof g.expectTelemetry === 'string', file, `${at}.expectTelemetry must name a parameter`);
    need(
      g.min !== undefined || g.max !== undefined || g.equals !== undefined,
      file,
      `${at} needs min, max or equals`,
    );
    for (const key of ['min', 'max'] as const) {
      need(g[key] === undefined || typeof g[key] === 'number', file, `${at}.${key} must be a number`);
    }
  } else if (g.expectEvent !== undefined) {
    need(typeof g.expectEvent === 'string', file, `${at}.expectEvent must name an event`);
    need(
      g.sinceS === undefined || (typeof g.sinceS === 'number' && g.sinceS >= 0),
      file,
      `${at}.sinceS must be seconds >= 0`,
    );
  } else {
    const r = g.recoverGaps;
    need(
      isRecord(r) && typeof r.fromS === 'number' && typeof r.toS === 'number' && r.toS > r.fromS,
      file,
      `${at}.recoverGaps must be { "fromS": S, "toS": S } with toS > fromS`,
    );
    need(
      g.maxMissing === undefined || (Number.isInteger(g.maxMissing) && (g.maxMissing as number) >= 0),
      file,
      `${at}.maxMissing must be a whole number >= 0`,
    );
  }
  return step as GroundStep;
}

/** Checks a parsed scenario document and fills in the example node and the defaults. */
export function parseScenario(document: unknown, file = 'scenario'): Scenario {
  need(isRecord(document), file, 'expected a JSON object');
  const doc = document as Record<string, unknown>;
  const name = typeof doc.name === 'string' ? doc.name : basename(file).replace(/\.json$/, '');
  const plant = exampleNode((isRecord(doc.plant) ? doc.plant : {}) as PlantOverrides);
  need(
    plant.orbit.altitudeKm >= 160 && plant.orbit.altitudeKm <= 40000,
    file,
    'plant.orbit.altitudeKm must be between 160 and 40000',
  );
  need(Math.abs(plant.orbit.betaDeg) <= 90, file, 'plant.orbit.betaDeg must be within -90..90');
  const orbits = doc.durationOrbits;
  const seconds = doc.durationS;
  need(
    (typeof orbits === 'number' && orbits > 0) !== (typeof seconds === 'number' && seconds > 0),
    file,
    'give exactly one of durationOrbits (> 0) or durationS (> 0)',
  );
  const r = 6371 + plant.orbit.altitudeKm;
  const periodS = 2 * Math.PI * Math.sqrt((r * r * r) / 398600.4418);
  const durationS = typeof seconds === 'number' ? seconds : (orbits as number) * periodS;
  const faults = Array.isArray(doc.faults) ? doc.faults : [];
  faults.forEach((fault, i) => {
    need(isRecord(fault), file, `faults[${i}] must be an object`);
    const f = fault as Record<string, unknown>;
    need(typeof f.atS === 'number' && f.atS >= 0, file, `faults[${i}].atS must be a time in seconds >= 0`);
    need(
      (FAULT_KINDS as readonly unknown[]).includes(f.kind),
      file,
      `faults[${i}].kind must be one of ${FAULT_KINDS.join(', ')}`,
    );
    if ((RIG_FAULTS as readonly unknown[]).includes(f.kind)) {
      checkRigFault(f, file, `faults[${i}]`);
    } else if ((PLANT_FAULTS as readonly unknown[]).includes(f.kind)) {
      need(
        typeof f.value === 'number' && f.value >= 0 && f.value < 1,
        file,
        `faults[${i}].value must be a fraction in 0..1`,
      );
    } else {
      need(
        (FAULT_SENSORS as readonly unknown[]).includes(f.sensor),
        file,
        `faults[${i}].sensor must be one of ${FAULT_SENSORS.join(', ')}`,
      );
      if (f.kind === 'sensor-bias' || f.kind === 'sensor-noise') {
        need(
          typeof f.value === 'number' && Number.isFinite(f.value),
          file,
          `faults[${i}].value must be a number`,
        );
      }
    }
  });
  const ground = Array.isArray(doc.ground) ? doc.ground : [];
  need(doc.ground === undefined || Array.isArray(doc.ground), file, 'ground must be a list of steps');
  const steps = ground.map((step, i) => checkGroundStep(step, file, `ground[${i}]`));
  const rig = isRecord(doc.rig) ? doc.rig : {};
  need(doc.rig === undefined || isRecord(doc.rig), file, 'rig must be an object');
  const stepMs = rig.stepMs ?? 100;
  need(positive(stepMs) && stepMs <= 10_000, file, 'rig.stepMs must be in (0, 10000] ms');
  const isRig = (f: unknown) => isRigFault(f as Fault | RigFault);
  const criteria = isRecord(doc.criteria) ? doc.criteria : {};
  const controlHz = typeof doc.controlHz === 'number' ? doc.controlHz : 10;
  need(controlHz > 0 && controlHz <= 100, file, 'controlHz must be in 0..100');
  return {
    name,
    description: typeof doc.description === 'string' ? doc.description : '',
    seed: typeof doc.seed === 'number' ? doc.seed : 1,
    durationS,
    plant,
    controlHz,
    faults: faults.filter((f) => !isRig(f)) as Fault[],
    rigFaults: faults.filter(isRig) as RigFault[],
    ground: steps,
    rig: { stepMs: stepMs as number },
    criteria: {
      minScore: typeof criteria.minScore === 'number' ? criteria.minScore : 0.95,
      maxJunctionKelvinSeconds:
        typeof criteria.maxJunctionKelvinSeconds === 'number' ? criteria.maxJunctionKelvinSeconds : 0,
      maxBatteryDeficitWh:
        typeof criteria.maxBatteryDeficitWh === 'number' ? criteria.maxBatteryDeficitWh : 0,
    },
  };
}

export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ScenarioError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(`${path}: not valid JSON: ${(error as Error).message}`);
  }
  return parseScenario(document, path);
}

/** The least mission time a quick run covers. */
export const QUICK_MIN_S = 1200;
/** How long a quick run goes on after the last scripted moment. */
export const QUICK_MARGIN_S = 300;

/**
 * The span of a quick run (`hil run --quick`, what CI runs for a seed with a ground script): up to
 * QUICK_MARGIN_S after the last fault or ground step, at least QUICK_MIN_S, at most the whole scenario. A quick
 * run checks the limits and the ground script; the score against the optimum needs whole orbits, so a quick run
 * has none.
 */
export function quickDurationS(scenario: Scenario): number {
  const times = [
    ...scenario.faults.map((f) => f.atS),
    ...scenario.rigFaults.map((f) => f.atS + ('durationS' in f ? f.durationS : 0)),
    ...scenario.ground.map(
      (g) =>
        g.atS +
        ('recoverGaps' in g
          ? (g.withinS ?? DEFAULT_RECOVERY_S)
          : 'withinS' in g
            ? (g.withinS ?? DEFAULT_WITHIN_S)
            : 0),
    ),
  ];
  const last = times.length > 0 ? Math.max(...times) : 0;
  return Math.min(scenario.durationS, Math.max(QUICK_MIN_S, last + QUICK_MARGIN_S));
}
