/**
 * The accelerator's controller in one step: the sensor is checked, the trips watched, the thermal governor run,
 * and its allowance arbitrated with the energy allowance from power management. What comes out is what to
 * actuate: the accelerator's supply switch and its power cap. Pure: the thermal component runs it on its 10 Hz
 * rate group with HAL readings, the HIL score loop with the plant's sensors.
 */
import type { Reading, TripPoint } from '../hal/types.js';
import type { PowerMode } from '../power/modes.js';
import { createGovernor, type GovernorConfig, type GovernorName, type ThermalGovernor } from './governor.js';
import { SensorCheck, type SensorCheckOptions, type SensorFault } from './sensor-check.js';
import { TripMonitor, type TripTransition } from './trips.js';

/** What limits the accelerator's power now. */
export type Binding =
  | 'thermal'
  | 'energy'
  | 'none'
  | 'critical-trip'
  | 'sensor-fallback'
  | 'survival'
  | 'ground-off';

export interface ThermalControllerConfig extends GovernorConfig {
  readonly governor: GovernorName;
  readonly sensor?: SensorCheckOptions;
  /**
   * Below the accelerator's lowest cap the energy allowance is met by duty-cycling its supply over this period, s:
   * on at the lowest cap for allowance / minPowerW of each period (the average is what the budget allows).
   */
  readonly dutyPeriodS?: number;
}

export interface ThermalInputs {
  readonly timeS: number;
  readonly junction: Reading<number>;
  readonly acceleratorW?: number;
  /** From power management; Infinity when there is none (a board without a battery). */
  readonly energyAllowanceW: number;
  readonly mode: PowerMode;
  /** The ground switched the accelerator off. */
  readonly groundOff?: boolean;
}

export interface ThermalDecision {
  readonly acceleratorOn: boolean;
  /** The power cap to apply while on, W (within [minPowerW, maxPowerW]). */
  readonly capW: number;
  readonly thermalAllowanceW: number;
  readonly energyAllowanceW: number;
  /** The average power granted: the minimum of the two allowances (0 when off). */
  readonly allowanceW: number;
  readonly binding: Binding;
  readonly governorState: string;
  readonly sensorOk: boolean;
  readonly sensorFault: SensorFault | undefined;
  readonly trips: readonly TripTransition[];
}

export class ThermalController {
  readonly governor: ThermalGovernor;
  readonly tripMonitor: TripMonitor;
  private readonly sensorCheck: SensorCheck;
  private readonly dutyPeriodS: number;

  constructor(readonly config: ThermalControllerConfig) {
    this.governor = createGovernor(config.governor, config);
    this.tripMonitor = new TripMonitor(config.trips);
    this.sensorCheck = new SensorCheck(config.sensor ?? {});
    this.dutyPeriodS = config.dutyPeriodS ?? 60;
  }

  step(inputs: ThermalInputs): ThermalDecision {
    const verdict = this.sensorCheck.check(inputs.junction, inputs.acceleratorW);
    const junctionC = verdict.ok ? verdict.value : undefined;
    const trips = this.tripMonitor.update(junctionC);
    const governed = this.governor.step({
      timeS: inputs.timeS,
      junctionC,
      sensorOk: verdict.ok,
      ...(inputs.acceleratorW !== undefined ? { powerW: inputs.acceleratorW } : {}),
    });
    const { minPowerW, maxPowerW } = this.config;
    const thermalAllowanceW = governed.allowanceW;
    const energyAllowanceW = Math.max(0, inputs.energyAllowanceW);
    const base = {
      thermalAllowanceW,
      energyAllowanceW,
      governorState: governed.state,
      sensorOk: verdict.ok,
      sensorFault: verdict.reason,
      trips,
    };
    const off = (binding: Binding): ThermalDecision => ({
      ...base,
      acceleratorOn: false,
      capW: minPowerW,
      allowanceW: 0,
      binding,
    });
    // The critical trip cuts the supply: the fastest path, whatever the governor says.
    if (this.tripMonitor.powerOff) return off('critical-trip');
    if (inputs.mode === 'SURVIVAL') return off('survival');
    if (inputs.groundOff) return off('ground-off');
    const allowanceW = Math.min(thermalAllowanceW, energyAllowanceW, maxPowerW);
    let binding: Binding;
    if (!verdict.ok) binding = 'sensor-fallback';
    else if (allowanceW >= maxPowerW) binding = 'none';
    else binding = energyAllowanceW < thermalAllowanceW ? 'energy' : 'thermal';
    if (allowanceW >= minPowerW) {
      return { ...base, acceleratorOn: true, capW: allowanceW, allowanceW, binding };
    }
    // Less than the lowest cap: run at the lowest cap part of the time.
    const duty = allowanceW / minPowerW;
    const phase = (inputs.timeS % this.dutyPeriodS) / this.dutyPeriodS;
    const on = phase < duty;
    return { ...base, acceleratorOn: on, capW: minPowerW, allowanceW, binding };
  }
}

/** Trip points for an accelerator with a junction limit, when the device reports none of its own. */
export function defaultTrips(limitC: number): TripPoint[] {
  return [
    { type: 'passive', celsius: limitC - 10 },
    { type: 'passive', celsius: limitC - 2 },
    { type: 'hot', celsius: limitC },
    { type: 'critical', celsius: limitC + 5 },
  ];
}
