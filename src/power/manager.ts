/**
 * Power management in one step: state of charge, eclipse forecast, power mode, load shedding and the
 * accelerator's energy allowance. Pure: the power component feeds it HAL readings on its rate group, and the HIL
 * score loop feeds it the plant's sensors, so both run exactly this logic.
 */
import type { BatterySample, PowerSample, Reading, SolarSample } from '../hal/types.js';
import { type EclipseForecast, EclipseForecaster } from './eclipse.js';
import { type PowerMode, PowerModeMachine, type PowerModeTransition } from './modes.js';
import { orbitGeometry } from './orbit.js';
import { type PhasedBudgetResult, PhasedEnergyBudget, type PhasedReason } from './phased-budget.js';
import { type LoadChange, LoadShedder } from './shedding.js';
import { type SocEstimate, SocEstimator } from './soc.js';

export interface PowerManagerConfig {
  /** The orbit the forecast starts from (then corrected by the observed solar input). */
  readonly altitudeKm: number;
  readonly betaDeg: number;
  /** Orbit phase at time 0 (0: local noon), when known from the ephemeris. */
  readonly startPhase?: number;
  /** Battery: nominal capacity (Ah), cells in series, ageing. */
  readonly batteryAh: number;
  readonly seriesCells: number;
  readonly capacityFade?: number;
  /** Use the battery's own gauge for state of charge, or count coulombs (with OCV correction at rest). */
  readonly socSource?: 'gauge' | 'coulomb';
  readonly initialSoc?: number;
  readonly floorSoc: number;
  readonly marginSoc?: number;
  readonly chargeEfficiency?: number;
  readonly dischargeEfficiency?: number;
  readonly maxChargeW?: number;
  /** The accelerator's largest power draw, W. */
  readonly acceleratorMaxW: number;
  /** Switched loads in shedding order, and those never shed. */
  readonly loads: readonly string[];
  readonly neverShed?: readonly string[];
  readonly modeThresholds?: {
    readonly powerSaveEnter?: number;
    readonly powerSaveExit?: number;
    readonly survivalEnter?: number;
    readonly survivalExit?: number;
  };
}

export interface PowerInputs {
  readonly timeS: number;
  readonly battery: Reading<BatterySample>;
  readonly solar: Reading<SolarSample>;
  /** Everything on the bus, the accelerator included. */
  readonly bus: Reading<PowerSample>;
  /** The accelerator's own draw, W (subtracted from the bus to get the other loads). */
  readonly acceleratorW: number;
  /** What the thermal system lets the accelerator draw lately, W: the plan puts no energy where heat forbids it. */
  readonly thermalHintW: number;
}

export interface PowerStatus {
  readonly soc: SocEstimate;
  readonly mode: PowerMode;
  readonly forecast: EclipseForecast;
  readonly budget: PhasedBudgetResult;
  /** The energy allowance for the accelerator, W. */
  readonly energyAllowanceW: number;
  readonly reason: PhasedReason | 'no-battery-reading';
  readonly otherLoadsW: number;
  /** Switch commands to send now. */
  readonly loadChanges: readonly LoadChange[];
  readonly transition?: PowerModeTransition;
}

export class PowerManager {
  readonly soc: SocEstimator;
  readonly forecaster: EclipseForecaster;
  readonly modes: PowerModeMachine;
  readonly shedder: LoadShedder;
  readonly budget: PhasedEnergyBudget;
  private readonly horizonS: number;
  private lastTimeS: number | undefined;
  private lastStatus: PowerStatus | undefined;
  /** Whether any battery reading has come in (the estimate's source says 'initial' after the first one too). */
  private batteryRead = false;

  constructor(private readonly config: PowerManagerConfig) {
    const geometry = orbitGeometry(config.altitudeKm, config.betaDeg);
    // One orbit and the eclipse after it: the plan always sees the next eclipse whole.
    this.horizonS = geometry.periodS + geometry.eclipseS;
    this.soc = new SocEstimator({
      nominalAh: config.batteryAh,
      seriesCells: config.seriesCells,
      ...(config.capacityFade !== undefined ? { capacityFade: config.capacityFade } : {}),
      mode: config.socSource ?? 'gauge',
      ...(config.initialSoc !== undefined ? { initialSoc: config.initialSoc } : {}),
    });
    this.forecaster = new EclipseForecaster({
      altitudeKm: config.altitudeKm,
      betaDeg: config.betaDeg,
      ...(config.startPhase !== undefined ? { startPhase: config.startPhase } : {}),
    });
    this.modes = new PowerModeMachine(config.modeThresholds ?? {});
    this.shedder = new LoadShedder({ order: config.loads, neverShed: config.neverShed ?? [] });
    this.budget = new PhasedEnergyBudget({
      maxPowerW: config.acceleratorMaxW,
      floorSoc: config.floorSoc,
      ...(config.marginSoc !== undefined ? { marginSoc: config.marginSoc } : {}),
      ...(config.chargeEfficiency !== undefined ? { chargeEfficiency: config.chargeEfficiency } : {}),
      ...(config.dischargeEfficiency !== undefined
        ? { dischargeEfficiency: config.dischargeEfficiency }
        : {}),
      ...(config.maxChargeW !== undefined ? { maxChargeW: config.maxChargeW } : {}),
    });
  }

  /** The last status, before the first step: undefined. */
  get status(): PowerStatus | undefined {
    return this.lastStatus;
  }

  /** Before any battery reading: the configured initial state of charge, else the floor (the cautious guess). */
  private guess(): SocEstimate {
    const soc = this.config.initialSoc ?? this.config.floorSoc;
    return {
      soc,
      energyWh: soc * this.soc.usableWh,
      usableAh: this.soc.usableAh,
      usableWh: this.soc.usableWh,
      source: 'initial',
      restS: 0,
    };
  }

  step(inputs: PowerInputs): PowerStatus {
    const dtS = this.lastTimeS === undefined ? 0 : Math.max(0, inputs.timeS - this.lastTimeS);
    this.lastTimeS = inputs.timeS;
    if (inputs.solar.quality !== 'failed') this.forecaster.update(inputs.timeS, inputs.solar.value.watts);
    const battery = inputs.battery;
    if (battery.quality !== 'failed') this.batteryRead = true;
    const soc =
      battery.quality === 'failed'
        ? (this.soc.estimate() ?? this.guess())
        : this.soc.update(
            {
              amps: battery.value.amps,
              volts: battery.value.volts,
              ...(battery.quality === 'ok' ? { stateOfCharge: battery.value.stateOfCharge } : {}),
            },
            dtS,
          );
    // Until the battery has been read once, the state of charge is a guess: no mode change is made on it.
    const transition = this.batteryRead ? this.modes.update(soc.soc, inputs.timeS) : undefined;
    const mode = this.modes.mode;
    const decision = this.shedder.update(inputs.timeS, mode);
    const busW = inputs.bus.quality === 'failed' ? undefined : inputs.bus.value.watts;
    const otherLoadsW = Math.max(0, (busW ?? inputs.acceleratorW) - inputs.acceleratorW);
    const forecast = this.forecaster.forecast(inputs.timeS, this.horizonS);
    const budget = this.budget.allowance({
      nowS: inputs.timeS,
      storedWh: soc.energyWh,
      usableWh: soc.usableWh,
      otherLoadsW,
      forecast,
      thermalHintW: inputs.thermalHintW,
      mode,
    });
    // Without any battery reading the energy state is a guess: keep the accelerator at the floor of its range
    // rather than at a budget computed from nothing.
    const noBattery = !this.batteryRead;
    const status: PowerStatus = {
      soc,
      mode,
      forecast,
      budget,
      energyAllowanceW: noBattery ? 0 : budget.powerW,
      reason: noBattery ? 'no-battery-reading' : budget.reason,
      otherLoadsW,
      loadChanges: decision.changes,
      ...(transition ? { transition } : {}),
    };
    this.lastStatus = status;
    return status;
  }
}
