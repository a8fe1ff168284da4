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
const FAULT_KINDS = [...PLANT_FAULTS, ...SENSOR_FAULTS] as const;

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
    if ((PLANT_FAULTS as readonly unknown[]).includes(f.kind)) {
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
    faults: faults as Fault[],
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
