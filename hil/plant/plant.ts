/**
 * The plant: the node's physics, integrated step by step (the model in `params.ts`). No I/O and no clock: the
 * caller passes the time step and the inputs (power cap, frequency ceiling, which loads are on), and reads the
 * state back. The HIL rig steps it on the mission clock's scheduler (`../sim-devices.ts`); the optimum and the
 * tests step it directly.
 *
 * Integration is explicit (forward Euler) with internal sub-steps no longer than a tenth of the fastest thermal
 * time constant (the junction's Cj * Rjc, a few seconds) and never longer than 1 s, so any step the caller takes
 * (up to minutes) stays stable and accurate. Inputs hold for the whole step.
 */
import { acceleratorPowerW, computeRate, frequencyForCap, maxPowerW } from './accelerator.js';
import { batteryElectrical, batteryStep, usableCapacityWh } from './battery.js';
import { inEclipse, phaseAt, radiatorHeatIn, sunlitSolarW } from './orbit.js';
import { KELVIN, type PlantParams, STEFAN_BOLTZMANN } from './params.js';

export interface PlantInputs {
  /** The accelerator's power cap, W (values beyond what the device accepts are the rig's business, not this). */
  readonly powerCapW: number;
  /** The accelerator's frequency ceiling, MHz; none when absent. */
  readonly frequencyCeilingMHz?: number;
  /** Whether the accelerator's supply is on. */
  readonly acceleratorOn: boolean;
  /** Switched loads by name; a load not named keeps its `initiallyOn` (off when that is absent). */
  readonly loads?: Readonly<Record<string, boolean>>;
}

export interface PlantViolations {
  /** Integral of the junction's excess over junctionMaxC, K s. */
  readonly junctionKelvinSeconds: number;
  /** The hottest the junction has been, degC. */
  readonly junctionMaxC: number;
  /** The deepest the stored energy has gone below batteryFloorSoc * usable capacity, Wh (0: never). */
  readonly batteryDeficitWh: number;
  /** The lowest state of charge seen. */
  readonly batteryMinSoc: number;
}

/** Energy totals since the start, Wh (bus side unless named otherwise). */
export interface PlantEnergy {
  readonly solarWh: number;
  readonly loadWh: number;
  readonly chargeWh: number;
  readonly dischargeWh: number;
  readonly shuntWh: number;
  /** Load the battery could not carry (it was empty). */
  readonly unmetWh: number;
}

export interface PlantState {
  /** Seconds since the start. */
  readonly timeS: number;
  /** Orbit phase, 0..1 from local noon. */
  readonly phase: number;
  readonly sunlit: boolean;
  /** Solar array output, W. */
  readonly solarW: number;
  /** Surplus burned in the shunt, W. */
  readonly shuntW: number;
  /** Into the charger, W (bus side). */
  readonly chargeW: number;
  /** Drawn from the battery onto the bus, W. */
  readonly dischargeW: number;
  /** Load the empty battery could not carry, W. */
  readonly unmetW: number;
  readonly batteryStoredWh: number;
  /** Usable capacity now, Wh (after capacity fade). */
  readonly batteryUsableWh: number;
  /** State of charge, stored / usable. */
  readonly soc: number;
  /** Battery terminal voltage, V. */
  readonly batteryVolts: number;
  /** Battery current, A, positive charging. */
  readonly batteryAmps: number;
  /** The bus voltage (an unregulated bus on the battery): the battery's terminal voltage. */
  readonly busVolts: number;
  /** Total load on the bus, W: base + switched loads + accelerator. */
  readonly busW: number;
  readonly baseW: number;
  /** Switched loads that are on, W. */
  readonly switchedW: number;
  readonly acceleratorOn: boolean;
  /** The power cap and frequency ceiling in force. */
  readonly powerCapW: number;
  readonly frequencyCeilingMHz?: number;
  /** The clock it runs at (0 when off). */
  readonly acceleratorMHz: number;
  readonly acceleratorW: number;
  /** Compute per second now, and its integral since the start. */
  readonly computeRate: number;
  readonly computeTotal: number;
  readonly junctionC: number;
  readonly coldPlateC: number;
  readonly radiatorC: number;
  /** Heat the radiator absorbs from the Earth (IR and albedo), W. */
  readonly heatInW: number;
  /** Heat the radiator emits, W. */
  readonly heatOutW: number;
  /** Switched loads by name: on or off. */
  readonly loads: Readonly<Record<string, boolean>>;
  /** Degradations in force (fault injection). */
  readonly solarDegradation: number;
  readonly radiatorDegradation: number;
  readonly capacityFade: number;
  readonly violations: PlantViolations;
  readonly energy: PlantEnergy;
}

/** The longest internal sub-step, s. */
const MAX_SUBSTEP_S = 1;

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

export class Plant {
  readonly params: PlantParams;
  /** The largest internal sub-step this plant integrates with, s. */
  readonly substepS: number;
  private timeS = 0;
  private storedWh: number;
  private junctionC: number;
  private coldPlateC: number;
  private radiatorC: number;
  private computeTotal = 0;
  private solarDegradation: number;
  private radiatorDegradation: number;
  private capacityFade: number;
  private junctionKelvinSeconds = 0;
  private junctionMaxC: number;
  private batteryDeficitWh = 0;
  private batteryMinSoc: number;
  private energy = { solarWh: 0, loadWh: 0, chargeWh: 0, dischargeWh: 0, shuntWh: 0, unmetWh: 0 };
  private inputs: PlantInputs;
  private snapshot: PlantState;

  constructor(params: PlantParams) {
    this.params = params;
    this.solarDegradation = clamp01(params.solar.degradation ?? 0);
    this.radiatorDegradation = clamp01(params.thermal.radiator.degradation ?? 0);
    this.capacityFade = clamp01(params.battery.capacityFade ?? 0);
    this.storedWh = clamp01(params.battery.initialSoc) * this.usableWh();
    const t = params.thermal;
    this.junctionC = t.junction.initialC;
    this.coldPlateC = t.coldPlate.initialC;
    this.radiatorC = t.radiator.initialC;
    this.junctionMaxC = this.junctionC;
    this.batteryMinSoc = this.soc();
    this.substepS = Math.min(MAX_SUBSTEP_S, fastestTimeConstantS(params) / 10);
    this.inputs = { powerCapW: maxPowerW(params.accelerator), acceleratorOn: true };
    this.snapshot = this.observe(this.inputs);
  }

  /** The state after the last step (a fresh object after each step: keep it as a record). */
  get state(): PlantState {
    return this.snapshot;
  }

  /** Advances the plant by `dtS` seconds with these inputs held, and returns the new state. */
  step(dtS: number, inputs: PlantInputs): PlantState {
    if (!(dtS >= 0) || !Number.isFinite(dtS))
      throw new RangeError(`Plant.step: dtS must be >= 0, not ${dtS}`);
    this.inputs = inputs;
    const n = Math.ceil(dtS / this.substepS - 1e-9);
    const h = n > 0 ? dtS / n : 0;
    for (let i = 0; i < n; i++) this.substep(h, inputs);
    this.snapshot = this.observe(inputs);
    return this.snapshot;
  }

  /** Fault injection: the radiator's emissivity degraded by this fraction, 0..1. */
  setRadiatorDegradation(x: number): void {
    this.radiatorDegradation = clamp01(x);
    this.snapshot = this.observe(this.inputs);
  }

  /** Fault injection: the solar array's output degraded by this fraction, 0..1. */
  setSolarDegradation(x: number): void {
    this.solarDegradation = clamp01(x);
    this.snapshot = this.observe(this.inputs);
  }

  /** Fault injection: this fraction of the battery's capacity lost; energy above the new capacity is lost. */
  setCapacityFade(x: number): void {
    this.capacityFade = clamp01(x);
    this.storedWh = Math.min(this.storedWh, this.usableWh());
    this.trackPeaks();
    this.snapshot = this.observe(this.inputs);
  }

  private usableWh(): number {
    return usableCapacityWh(this.params.battery, this.capacityFade);
  }

  private soc(): number {
    const usable = this.usableWh();
    return usable > 0 ? this.storedWh / usable : 0;
  }

  private loadsOn(inputs: PlantInputs): Record<string, boolean> {
    const on: Record<string, boolean> = {};
    for (const load of this.params.loads.switched) {
      on[load.name] = inputs.loads?.[load.name] ?? load.initiallyOn ?? false;
    }
    return on;
  }

  private electrical(inputs: PlantInputs, phase: number) {
    const p = this.params;
    const sunlit = !inEclipse(p.orbit, phase);
    const solarW = sunlit ? sunlitSolarW(p.solar, this.solarDegradation) : 0;
    const loads = this.loadsOn(inputs);
    let switchedW = 0;
    for (const load of p.loads.switched) if (loads[load.name]) switchedW += load.watts;
    const mhz = inputs.acceleratorOn
      ? frequencyForCap(p.accelerator, inputs.powerCapW, inputs.frequencyCeilingMHz)
      : 0;
    const acceleratorW = inputs.acceleratorOn ? acceleratorPowerW(p.accelerator, mhz) : 0;
    const busW = p.loads.baseW + switchedW + acceleratorW;
    return { sunlit, solarW, loads, switchedW, mhz, acceleratorW, busW };
  }

  private heatOutW(radiatorC: number): number {
    const r = this.params.thermal.radiator;
    const tk = radiatorC + KELVIN;
    return r.emissivity * (1 - this.radiatorDegradation) * r.areaM2 * STEFAN_BOLTZMANN * (tk ** 4 - 3 ** 4);
  }

  private substep(h: number, inputs: PlantInputs): void {
    const p = this.params;
    const phase = phaseAt(p.orbit, this.timeS);
    const e = this.electrical(inputs, phase);
    const hours = h / 3600;

    const flow = batteryStep(p.battery, this.storedWh, this.usableWh(), e.solarW - e.busW, h);
    this.storedWh = flow.storedWh;
    this.energy.solarWh += e.solarW * hours;
    this.energy.loadWh += e.busW * hours;
    this.energy.chargeWh += flow.chargeW * hours;
    this.energy.dischargeWh += flow.dischargeW * hours;
    this.energy.shuntWh += flow.shuntW * hours;
    this.energy.unmetWh += flow.unmetW * hours;

    const t = p.thermal;
    const toColdPlate = (this.junctionC - this.coldPlateC) / t.junctionToColdPlateKPerW;
    const toRadiator = (this.coldPlateC - this.radiatorC) / t.coldPlateToRadiatorKPerW;
    const heatIn = radiatorHeatIn(p, phase).totalW;
    const heatOut = this.heatOutW(this.radiatorC);
    this.junctionC += ((e.acceleratorW - toColdPlate) * h) / t.junction.heatCapacityJPerK;
    this.coldPlateC +=
      ((toColdPlate + p.loads.baseW + e.switchedW - toRadiator) * h) / t.coldPlate.heatCapacityJPerK;
    this.radiatorC += ((toRadiator + heatIn - heatOut) * h) / t.radiator.heatCapacityJPerK;

    if (e.mhz > 0) this.computeTotal += computeRate(p.accelerator, e.mhz) * h;
    this.timeS += h;

    const excess = this.junctionC - p.limits.junctionMaxC;
    if (excess > 0) this.junctionKelvinSeconds += excess * h;
    this.trackPeaks();
  }

  private trackPeaks(): void {
    if (this.junctionC > this.junctionMaxC) this.junctionMaxC = this.junctionC;
    const usable = this.usableWh();
    const deficit = this.params.limits.batteryFloorSoc * usable - this.storedWh;
    if (deficit > this.batteryDeficitWh) this.batteryDeficitWh = deficit;
    const soc = this.soc();
    if (soc < this.batteryMinSoc) this.batteryMinSoc = soc;
  }

  private observe(inputs: PlantInputs): PlantState {
    const p = this.params;
    const phase = phaseAt(p.orbit, this.timeS);
    const e = this.electrical(inputs, phase);
    const usable = this.usableWh();
    const flow = batteryStep(p.battery, this.storedWh, usable, e.solarW - e.busW, 1);
    const soc = this.soc();
    const battery = batteryElectrical(p.battery, soc, flow.chargeW - flow.dischargeW);
    const heatIn = radiatorHeatIn(p, phase).totalW;
    return {
      timeS: this.timeS,
      phase,
      sunlit: e.sunlit,
      solarW: e.solarW,
      shuntW: flow.shuntW,
      chargeW: flow.chargeW,
      dischargeW: flow.dischargeW,
      unmetW: flow.unmetW,
      batteryStoredWh: this.storedWh,
      batteryUsableWh: usable,
      soc,
      batteryVolts: battery.volts,
      batteryAmps: battery.amps,
      busVolts: battery.volts,
      busW: e.busW,
      baseW: p.loads.baseW,
      switchedW: e.switchedW,
      acceleratorOn: inputs.acceleratorOn,
      powerCapW: inputs.powerCapW,
      ...(inputs.frequencyCeilingMHz !== undefined
        ? { frequencyCeilingMHz: inputs.frequencyCeilingMHz }
        : {}),
      acceleratorMHz: e.mhz,
      acceleratorW: e.acceleratorW,
      computeRate: e.mhz > 0 ? computeRate(p.accelerator, e.mhz) : 0,
      computeTotal: this.computeTotal,
      junctionC: this.junctionC,
      coldPlateC: this.coldPlateC,
      radiatorC: this.radiatorC,
      heatInW: heatIn,
      heatOutW: this.heatOutW(this.radiatorC),
      loads: e.loads,
      solarDegradation: this.solarDegradation,
      radiatorDegradation: this.radiatorDegradation,
      capacityFade: this.capacityFade,
      violations: {
        junctionKelvinSeconds: this.junctionKelvinSeconds,
        junctionMaxC: this.junctionMaxC,
        batteryDeficitWh: this.batteryDeficitWh,
        batteryMinSoc: this.batteryMinSoc,
      },
      energy: { ...this.energy },
    };
  }
}

/**
 * The fastest of the thermal network's time constants, s: the junction's Cj * Rjc, the cold plate's Ccp over its
 * two conductances, the radiator's Cr over its link and its radiative conductance (4 eps A sigma T^3, taken at a
 * hot 400 K so that the bound holds at any temperature the plant reaches).
 */
export function fastestTimeConstantS(params: PlantParams): number {
  const t = params.thermal;
  const gj = 1 / t.junctionToColdPlateKPerW;
  const gr = 1 / t.coldPlateToRadiatorKPerW;
  const grad = 4 * t.radiator.emissivity * t.radiator.areaM2 * STEFAN_BOLTZMANN * 400 ** 3;
  return Math.min(
    t.junction.heatCapacityJPerK / gj,
    t.coldPlate.heatCapacityJPerK / (gj + gr),
    t.radiator.heatCapacityJPerK / (gr + grad),
  );
}
