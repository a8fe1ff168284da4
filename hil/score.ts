/**
 * Scoring a controller on a scenario: the plant and the flight's own control logic (`PowerManager`,
 * `ThermalController`, the same classes the power and thermal components run) stepped together in virtual time,
 * as fast as the CPU goes; the compute delivered is compared with the LP optimum, and any limit crossed scores 0.
 * The baselines are the same loop with another thermal governor: everything else (energy budget, modes,
 * shedding) is shared, so the comparison is of the governors alone.
 */
import type { BatterySample, PowerSample, Reading, SolarSample } from '../src/hal/types.js';
import { PowerManager } from '../src/power/manager.js';
import { type Binding, defaultTrips, ThermalController } from '../src/thermal/controller.js';
import type { GovernorName } from '../src/thermal/governor.js';
import { Prng } from '../src/transport/prng.js';
import {
  maxAcceleratorPowerW,
  type OptimumResult,
  optimum,
  score,
  type UpperBounds,
  upperBounds,
} from './optimum.js';
import type { PlantParams } from './plant/params.js';
import { Plant, type PlantState } from './plant/plant.js';
import type { FaultSensor, Scenario, SensorFault } from './scenario.js';

/**
 * What the sensors report when a scenario breaks them: stuck at a value, biased, noisy (a seeded PRNG, so a run
 * repeats), failed, or healed. The junction's bias and noise are in kelvin; the others' a fraction of the reading.
 */
export class SensorFaults {
  private readonly state = new Map<
    FaultSensor,
    { kind: SensorFault['kind']; value: number; stuck?: number }
  >();
  private readonly prng: Prng;

  constructor(seed: number) {
    this.prng = new Prng(seed);
  }

  apply(fault: SensorFault, s: PlantState): void {
    if (fault.kind === 'sensor-heal') {
      this.state.delete(fault.sensor);
      return;
    }
    const truth = fault.sensor === 'junction' ? s.junctionC : fault.sensor === 'battery' ? s.soc : s.solarW;
    this.state.set(fault.sensor, { kind: fault.kind, value: fault.value ?? 0, stuck: truth });
  }

  /** A standard normal deviate (Box-Muller). */
  private gaussian(): number {
    const u = Math.max(1e-12, this.prng.next());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.prng.next());
  }

  reading(sensor: FaultSensor, truth: number, timeS: number): Reading<number> {
    const time = timeS * 1000;
    const fault = this.state.get(sensor);
    if (!fault) return { quality: 'ok', time, value: truth };
    const relative = sensor !== 'junction';
    switch (fault.kind) {
      case 'sensor-fail':
        return { quality: 'failed', time, error: `${sensor} sensor failed (injected)` };
      case 'sensor-stuck':
        return { quality: 'ok', time, value: fault.stuck ?? truth };
      case 'sensor-bias':
        return { quality: 'ok', time, value: relative ? truth * (1 + fault.value) : truth + fault.value };
      case 'sensor-noise': {
        const n = this.gaussian() * fault.value;
        return { quality: 'ok', time, value: relative ? truth * (1 + n) : truth + n };
      }
      default:
        return { quality: 'ok', time, value: truth };
    }
  }
}

/** One sample of a run, for reports and plots. */
export interface TracePoint {
  readonly timeS: number;
  readonly junctionC: number;
  readonly radiatorC: number;
  readonly capW: number;
  readonly acceleratorW: number;
  readonly soc: number;
  readonly solarW: number;
  readonly sunlit: boolean;
  readonly mode: string;
  readonly binding: Binding;
}

export interface RunViolations {
  readonly junctionKelvinSeconds: number;
  readonly junctionMaxC: number;
  readonly batteryDeficitWh: number;
  readonly batteryMinSoc: number;
}

export interface ControllerRun {
  readonly governor: GovernorName;
  /** Compute delivered over the scenario (computeAtMax's unit times seconds). */
  readonly compute: number;
  readonly averageAcceleratorW: number;
  readonly violations: RunViolations;
  /** Seconds spent with each constraint binding. */
  readonly bindingS: Readonly<Partial<Record<Binding, number>>>;
  /** Seconds per power mode. */
  readonly modeS: Readonly<Record<string, number>>;
  /** CPU time of the controller's own steps (power and thermal), ms, and the number of thermal steps. */
  readonly controllerCpuMs: number;
  readonly controlSteps: number;
  readonly trace: readonly TracePoint[];
}

/** What the flight software would be told about its node: limits and design values, not the plant's state. */
export function controllersFor(params: PlantParams, governor: GovernorName) {
  const maxPowerW = maxAcceleratorPowerW(params.accelerator);
  const nominalCellV = 3.7;
  const thermal = new ThermalController({
    governor,
    minPowerW: params.accelerator.minPowerCapW,
    maxPowerW,
    limitC: params.limits.junctionMaxC,
    trips: defaultTrips(params.limits.junctionMaxC),
  });
  const power = new PowerManager({
    altitudeKm: params.orbit.altitudeKm,
    betaDeg: params.orbit.betaDeg,
    ...(params.orbit.startPhase !== undefined ? { startPhase: params.orbit.startPhase } : {}),
    batteryAh: params.battery.capacityWh / (params.battery.seriesCells * nominalCellV),
    seriesCells: params.battery.seriesCells,
    ...(params.battery.capacityFade !== undefined ? { capacityFade: params.battery.capacityFade } : {}),
    socSource: 'gauge',
    floorSoc: params.limits.batteryFloorSoc,
    chargeEfficiency: params.battery.chargeEfficiency,
    dischargeEfficiency: params.battery.dischargeEfficiency,
    maxChargeW: params.battery.maxChargeW,
    acceleratorMaxW: maxPowerW,
    loads: params.loads.switched.map((load) => load.name),
  });
  return { thermal, power };
}

export interface RunOptions {
  /** Seconds between trace points (0: no trace). Default 60. */
  readonly traceEveryS?: number;
  /**
   * Whether power management grants the accelerator an energy allowance (default true). Off, the governor alone
   * decides, as a Linux thermal governor does: the comparison with the kernel as it runs on a board.
   */
  readonly energyManagement?: boolean;
}

/** Runs one governor over the scenario. Synchronous, deterministic. */
export function runController(
  scenario: Scenario,
  governor: GovernorName,
  options: RunOptions = {},
): ControllerRun {
  const plant = new Plant(scenario.plant);
  const { thermal, power } = controllersFor(scenario.plant, governor);
  const dtS = 1 / scenario.controlHz;
  const powerEveryS = 1;
  const traceEveryS = options.traceEveryS ?? 60;
  const faults = [...scenario.faults].sort((a, b) => a.atS - b.atS);
  const sensors = new SensorFaults(scenario.seed);
  let nextFault = 0;
  const loads: Record<string, boolean> = {};
  for (const load of scenario.plant.loads.switched) loads[load.name] = load.initiallyOn ?? false;
  let energyAllowanceW = 0;
  // The thermal allowance, averaged over ~10 min: what the heat lets the accelerator draw, for the energy plan.
  let thermalHintW = maxAcceleratorPowerW(scenario.plant.accelerator);
  const hintAlpha = dtS / 600;
  let mode: string = 'NOMINAL';
  let nextPowerS = 0;
  let nextTraceS = 0;
  let cpuNs = 0n;
  let steps = 0;
  const bindingS: Partial<Record<Binding, number>> = {};
  const modeS: Record<string, number> = {};
  const trace: TracePoint[] = [];
  let acceleratorWs = 0;
  const total = Math.round(scenario.durationS * scenario.controlHz);
  for (let i = 0; i < total; i++) {
    const s = plant.state;
    const timeS = i * dtS;
    while (nextFault < faults.length && (faults[nextFault]?.atS ?? Number.POSITIVE_INFINITY) <= timeS) {
      const fault = faults[nextFault++];
      if (!fault) continue;
      if (fault.kind === 'radiator-degradation') plant.setRadiatorDegradation(fault.value);
      else if (fault.kind === 'solar-degradation') plant.setSolarDegradation(fault.value);
      else if (fault.kind === 'capacity-fade') plant.setCapacityFade(fault.value);
      else sensors.apply(fault, s);
    }
    const started = process.hrtime.bigint();
    if (timeS >= nextPowerS) {
      nextPowerS += powerEveryS;
      const socReading = sensors.reading('battery', s.soc, timeS);
      const battery: Reading<BatterySample> =
        socReading.quality === 'failed'
          ? socReading
          : {
              ...socReading,
              value: {
                stateOfCharge: Math.min(1, Math.max(0, socReading.value)),
                volts: s.batteryVolts,
                amps: s.batteryAmps,
                status: s.batteryAmps > 0 ? 'charging' : s.batteryAmps < 0 ? 'discharging' : 'unknown',
              },
            };
      const solarReading = sensors.reading('solar', s.solarW, timeS);
      const solar: Reading<SolarSample> =
        solarReading.quality === 'failed'
          ? solarReading
          : {
              ...solarReading,
              value: {
                online: solarReading.value > 0,
                volts: s.busVolts,
                amps: solarReading.value / s.busVolts,
                watts: solarReading.value,
              },
            };
      const bus: Reading<PowerSample> = {
        quality: 'ok',
        time: timeS * 1000,
        value: { volts: s.busVolts, amps: s.busW / s.busVolts, watts: s.busW },
      };
      const status = power.step({ timeS, battery, solar, bus, acceleratorW: s.acceleratorW, thermalHintW });
      energyAllowanceW =
        options.energyManagement === false ? Number.POSITIVE_INFINITY : status.energyAllowanceW;
      mode = status.mode;
      for (const change of status.loadChanges) loads[change.name] = change.on;
    }
    const decision = thermal.step({
      timeS,
      junction: sensors.reading('junction', s.junctionC, timeS),
      acceleratorW: s.acceleratorW,
      energyAllowanceW,
      mode: mode as 'NOMINAL',
    });
    thermalHintW += (decision.thermalAllowanceW - thermalHintW) * hintAlpha;
    cpuNs += process.hrtime.bigint() - started;
    steps++;
    bindingS[decision.binding] = (bindingS[decision.binding] ?? 0) + dtS;
    modeS[mode] = (modeS[mode] ?? 0) + dtS;
    if (traceEveryS > 0 && timeS >= nextTraceS) {
      nextTraceS += traceEveryS;
      trace.push({
        timeS,
        junctionC: s.junctionC,
        radiatorC: s.radiatorC,
        capW: decision.capW,
        acceleratorW: s.acceleratorW,
        soc: s.soc,
        solarW: s.solarW,
        sunlit: s.sunlit,
        mode,
        binding: decision.binding,
      });
    }
    plant.step(dtS, { powerCapW: decision.capW, acceleratorOn: decision.acceleratorOn, loads });
    acceleratorWs += plant.state.acceleratorW * dtS;
  }
  const end = plant.state;
  return {
    governor,
    compute: end.computeTotal,
    averageAcceleratorW: acceleratorWs / scenario.durationS,
    violations: {
      junctionKelvinSeconds: end.violations.junctionKelvinSeconds,
      junctionMaxC: end.violations.junctionMaxC,
      batteryDeficitWh: end.violations.batteryDeficitWh,
      batteryMinSoc: end.violations.batteryMinSoc,
    },
    bindingS,
    modeS,
    controllerCpuMs: Number(cpuNs) / 1e6,
    controlSteps: steps,
    trace,
  };
}

export interface GovernorScore {
  readonly score: number;
  readonly compute: number;
  readonly averageAcceleratorW: number;
  readonly violations: RunViolations;
}

export interface ScenarioScore {
  readonly scenario: string;
  /** The plant's limits the violations are counted against. */
  readonly limits: { readonly junctionMaxC: number; readonly batteryFloorSoc: number };
  /** skynode's controller: delivered / optimum, 0 on any violation. */
  readonly score: number;
  readonly optimum: {
    readonly compute: number;
    readonly averagePowerW: number;
    readonly status: string;
    readonly solveMs: number;
    readonly bounds: UpperBounds;
  };
  readonly baselines: {
    readonly bang_bang: GovernorScore;
    readonly step_wise: GovernorScore;
    readonly power_allocator: GovernorScore;
  };
  /**
   * power_allocator with kernel defaults as Linux runs it: the governor alone, with no energy plan (the node's
   * power modes still shed loads and stop the accelerator in SURVIVAL).
   */
  readonly powerAllocatorAlone: GovernorScore;
  readonly skynode: GovernorScore & {
    readonly controllerCpuMsPerStep: number;
    readonly bindingS: ControllerRun['bindingS'];
  };
  readonly violations: RunViolations;
  /** The scenario's own criteria met: score, junction and battery. */
  readonly passed: boolean;
  readonly failures: readonly string[];
  readonly runs: Readonly<Record<GovernorName, ControllerRun>>;
}

function governorScore(run: ControllerRun, best: OptimumResult): GovernorScore {
  return {
    score: score(run.compute, best.compute, run.violations),
    compute: run.compute,
    averageAcceleratorW: run.averageAcceleratorW,
    violations: run.violations,
  };
}

/** Scores skynode's controller and the three baselines on a scenario against the LP optimum. */
export async function scoreScenario(scenario: Scenario, options: RunOptions = {}): Promise<ScenarioScore> {
  const best = await optimum(scenario.plant, scenario.durationS);
  const names: GovernorName[] = ['skynode', 'bang_bang', 'step_wise', 'power_allocator'];
  const runs = Object.fromEntries(
    names.map((name) => [name, runController(scenario, name, options)]),
  ) as Record<GovernorName, ControllerRun>;
  const ours = governorScore(runs.skynode, best);
  const alone = governorScore(
    runController(scenario, 'power_allocator', { ...options, energyManagement: false }),
    best,
  );
  const failures: string[] = [];
  const v = runs.skynode.violations;
  if (v.junctionKelvinSeconds > scenario.criteria.maxJunctionKelvinSeconds) {
    failures.push(
      `junction over ${scenario.plant.limits.junctionMaxC} degC for ${v.junctionKelvinSeconds.toFixed(2)} K s`,
    );
  }
  if (v.batteryDeficitWh > scenario.criteria.maxBatteryDeficitWh) {
    failures.push(`battery ${v.batteryDeficitWh.toFixed(2)} Wh under its floor`);
  }
  if (ours.score < scenario.criteria.minScore) {
    failures.push(`score ${ours.score.toFixed(3)} below ${scenario.criteria.minScore}`);
  }
  return {
    scenario: scenario.name,
    limits: scenario.plant.limits,
    score: ours.score,
    optimum: {
      compute: best.compute,
      averagePowerW: best.averagePowerW,
      status: best.status,
      solveMs: best.solveMs,
      bounds: upperBounds(scenario.plant, scenario.durationS),
    },
    baselines: {
      bang_bang: governorScore(runs.bang_bang, best),
      step_wise: governorScore(runs.step_wise, best),
      power_allocator: governorScore(runs.power_allocator, best),
    },
    powerAllocatorAlone: alone,
    skynode: {
      ...ours,
      controllerCpuMsPerStep: runs.skynode.controllerCpuMs / runs.skynode.controlSteps,
      bindingS: runs.skynode.bindingS,
    },
    violations: v,
    passed: failures.length === 0,
    failures,
    runs,
  };
}
