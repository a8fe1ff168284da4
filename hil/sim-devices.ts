/**
 * The simulated node's devices: the HAL interfaces (`src/hal/types.ts`) implemented against the plant, which is
 * stepped on the mission clock's scheduler. The components cannot tell these from a board's drivers: they read
 * sensors (stamped with mission time), command a power cap, a frequency ceiling and load switches, and see the
 * physics answer a step later.
 *
 * Faults for the HIL rig: a sensor can be stuck (it keeps returning the same value, graded `ok`: detecting that is
 * the controller's job), failed (`failed` readings), or biased (its temperature offset). Optional sensor noise
 * comes from a seeded generator, so runs are reproducible. No wall clock: time comes from `clock` only.
 */
import { interval, type Subscription } from 'rxjs';
import type { MissionClock } from '../src/core/clock.js';
import type { HalDevices } from '../src/core/component.js';
import type {
  AcceleratorControl,
  AcceleratorLimits,
  AcceleratorSample,
  ActuationResult,
  Battery,
  BatterySample,
  LoadSwitch,
  PowerMonitor,
  PowerSample,
  Reading,
  SolarInput,
  SolarSample,
  TemperatureSensor,
  ThrottleReason,
  TripPoint,
} from '../src/hal/index.js';
import { Prng } from '../src/transport/prng.js';
import { frequencyForCap, maxPowerW } from './plant/accelerator.js';
import type { AcceleratorParams } from './plant/params.js';
import type { Plant, PlantInputs, PlantState } from './plant/plant.js';

/** The temperature sensors the simulated node has (`devices.temperatures`). */
export type SimTemperatureName = 'junction' | 'coldPlate' | 'radiator';

/**
 * Every sensor a fault can be injected into: the three temperatures, the accelerator's own readout (its on-die
 * temperature, power and clocks; separate from the `junction` board sensor), the battery gauge, the solar input
 * and the bus monitor.
 */
export type SimSensorName = SimTemperatureName | 'accelerator' | 'battery' | 'solar' | 'busMonitor';

/** Sensors that report a temperature, which `biasSensor` offsets. */
export type SimBiasableSensor = SimTemperatureName | 'accelerator';

export interface SensorNoise {
  /** Seed of the generator (each sensor draws from its own stream derived from it). Default 1. */
  readonly seed?: number;
  /** Standard deviations: degC (default 0.25), W (default 1), V (default 0.02), A (default 0.02). */
  readonly celsius?: number;
  readonly watts?: number;
  readonly volts?: number;
  readonly amps?: number;
}

export interface SimulatedNodeOptions {
  /** Mission time between plant steps, ms. Default 100. */
  readonly stepMs?: number;
  /** Gaussian noise on the sensors: off by default; `true` for the default amounts. */
  readonly noise?: boolean | SensorNoise;
}

/** The simulated node's devices: every role the plant can back, all present. */
export interface SimulatedDevices extends HalDevices {
  readonly accelerator: AcceleratorControl &
    Required<Pick<AcceleratorControl, 'setPowerCap' | 'setFrequencyCeiling'>>;
  readonly battery: Battery;
  readonly busMonitor: PowerMonitor;
  readonly solar: SolarInput;
  readonly temperatures: Readonly<Record<SimTemperatureName, TemperatureSensor>>;
  /** The accelerator's supply rail (at bus voltage). */
  readonly powerRails: Readonly<Record<'accelerator', PowerMonitor>>;
  /** The switched loads in shedding order, then the accelerator's own supply (`accelerator`), last. */
  readonly loadSwitches: readonly LoadSwitch[];
}

export interface SimulatedNode {
  readonly devices: SimulatedDevices;
  readonly plant: Plant;
  /** What the devices are commanding the plant now (power cap, ceiling, which loads are on). */
  inputs(): PlantInputs;
  /** The sensor keeps returning the value it reads now, graded `ok`, with fresh time stamps. */
  stickSensor(name: SimSensorName): void;
  /** Reads of the sensor fail (`failed`, no value). */
  failSensor(name: SimSensorName): void;
  /** The sensor's temperature reads `deltaC` off the truth. */
  biasSensor(name: SimBiasableSensor, deltaC: number): void;
  /** Clears any fault on the sensor. */
  healSensor(name: SimSensorName): void;
  /** Stops stepping the plant. */
  close(): void;
}

type Fault =
  | { readonly kind: 'stuck'; readonly value: unknown }
  | { readonly kind: 'failed' }
  | { readonly kind: 'bias'; readonly deltaC: number };

const SIM_DRIVER = 'sim';

/** The frequencies a ceiling may be set to: 15 steps from minMHz to maxMHz, on a 15 MHz grid where they fit. */
export function simFrequencySteps(acc: AcceleratorParams, steps = 15): number[] {
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const f = acc.minMHz + ((acc.maxMHz - acc.minMHz) * i) / (steps - 1);
    out.push(i === 0 ? acc.minMHz : i === steps - 1 ? acc.maxMHz : Math.round(f / 15) * 15);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

/** A standard normal deviate from the generator (Box-Muller). */
function gaussian(prng: Prng): number {
  const u = 1 - prng.next();
  const v = prng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Devices for `plant`, stepped every `stepMs` of mission time on `clock.scheduler` (the plant's time is the
 * mission time elapsed since this call). `close()` stops the stepping.
 */
export function simulatedNode(
  plant: Plant,
  clock: MissionClock,
  options: SimulatedNodeOptions = {},
): SimulatedNode {
  const params = plant.params;
  const acc = params.accelerator;
  const stepMs = options.stepMs ?? 100;
  if (!(stepMs > 0)) throw new RangeError(`simulatedNode: stepMs must be > 0, not ${stepMs}`);
  const noise: SensorNoise | undefined =
    options.noise === true
      ? {}
      : options.noise === false || options.noise === undefined
        ? undefined
        : options.noise;
  const sigma = {
    celsius: noise?.celsius ?? 0.25,
    watts: noise?.watts ?? 1,
    volts: noise?.volts ?? 0.02,
    amps: noise?.amps ?? 0.02,
  };
  const streams = new Map<string, Prng>();
  const jitter = (sensor: string, kind: keyof typeof sigma, value: number): number => {
    if (!noise || sigma[kind] === 0) return value;
    let prng = streams.get(sensor);
    if (!prng) {
      prng = Prng.derive(noise.seed ?? 1, sensor);
      streams.set(sensor, prng);
    }
    return value + sigma[kind] * gaussian(prng);
  };

  const maxCapW = maxPowerW(acc);
  const frequencies = simFrequencySteps(acc);
  let inputs: PlantInputs = {
    powerCapW: maxCapW,
    acceleratorOn: true,
    loads: Object.fromEntries(params.loads.switched.map((load) => [load.name, load.initiallyOn ?? false])),
  };
  const command = (change: Partial<PlantInputs>): void => {
    inputs = { ...inputs, ...change };
  };

  let lastStepMs = clock.now();
  const stepping: Subscription = interval(stepMs, clock.scheduler).subscribe(() => {
    const now = clock.now();
    if (now > lastStepMs) plant.step((now - lastStepMs) / 1000, inputs);
    lastStepMs = now;
  });

  const faults = new Map<SimSensorName, Fault>();
  const samplers = new Map<SimSensorName, () => unknown>();

  /** A sensor's read(): the sample (noise and bias applied), or its fault. */
  function sensor<T>(
    name: SimSensorName,
    sample: () => T,
    bias: (value: T, deltaC: number) => T = (value) => value,
  ): () => Promise<Reading<T>> {
    const current = (): T => {
      const fault = faults.get(name);
      const value = sample();
      return fault?.kind === 'bias' ? bias(value, fault.deltaC) : value;
    };
    samplers.set(name, current);
    return async () => {
      const time = clock.now();
      const fault = faults.get(name);
      if (fault?.kind === 'failed')
        return { quality: 'failed', time, error: `${name}: simulated sensor failure` };
      if (fault?.kind === 'stuck') return { quality: 'ok', value: fault.value as T, time };
      return { quality: 'ok', value: current(), time };
    };
  }

  const state = (): PlantState => plant.state;
  const info = (source: string) => ({ source: `sim ${source}`, driver: SIM_DRIVER });

  // Temperatures.
  const temperature = (name: SimTemperatureName, read: (s: PlantState) => number, trips?: TripPoint[]) => {
    const device: TemperatureSensor = {
      info: info(name),
      read: sensor(
        name,
        () => jitter(name, 'celsius', read(state())),
        (value, deltaC) => value + deltaC,
      ),
      ...(trips ? { trips: async () => trips } : {}),
    };
    return device;
  };
  const slowdownC = params.limits.junctionMaxC - 2;
  const shutdownC = params.limits.junctionMaxC + 10;
  const temperatures = {
    junction: temperature('junction', (s) => s.junctionC, [
      { type: 'passive', celsius: slowdownC },
      { type: 'critical', celsius: shutdownC },
    ]),
    coldPlate: temperature('coldPlate', (s) => s.coldPlateC),
    radiator: temperature('radiator', (s) => s.radiatorC),
  };

  // The accelerator.
  const throttleReasons = (s: PlantState): ThrottleReason[] => {
    if (!s.acceleratorOn || s.acceleratorMHz >= acc.maxMHz) return [];
    const byCap = frequencyForCap(acc, s.powerCapW);
    const reasons: ThrottleReason[] = [];
    if (
      s.frequencyCeilingMHz !== undefined &&
      s.frequencyCeilingMHz < acc.maxMHz &&
      s.frequencyCeilingMHz <= byCap
    ) {
      reasons.push('application-clocks');
    }
    if (byCap < acc.maxMHz && (s.frequencyCeilingMHz === undefined || byCap <= s.frequencyCeilingMHz)) {
      reasons.push('power-cap');
    }
    return reasons;
  };
  const acceleratorSample = sensor<AcceleratorSample | undefined>(
    'accelerator',
    () => {
      const s = state();
      if (!s.acceleratorOn) return undefined;
      return {
        celsius: jitter('accelerator', 'celsius', s.junctionC),
        watts: jitter('accelerator-power', 'watts', s.acceleratorW),
        powerCapW: inputs.powerCapW,
        coreMHz: s.acceleratorMHz,
        utilization: 1,
        throttleReasons: throttleReasons(s),
      };
    },
    (value, deltaC) => (value ? { ...value, celsius: value.celsius + deltaC } : value),
  );
  const POWERED_OFF = 'accelerator: no device (its supply, load switch accelerator, is off)';
  const poweredOff = (): ActuationResult => ({ ok: false, error: POWERED_OFF });
  const limits: AcceleratorLimits = {
    minPowerCapW: acc.minPowerCapW,
    maxPowerCapW: maxCapW,
    defaultPowerCapW: maxCapW,
    frequenciesMHz: frequencies,
    slowdownC,
    shutdownC,
  };
  const accelerator: SimulatedDevices['accelerator'] = {
    info: info('accelerator'),
    async read() {
      const reading = await acceleratorSample();
      if (reading.quality === 'failed' || reading.value !== undefined)
        return reading as Reading<AcceleratorSample>;
      return { quality: 'failed', time: reading.time, error: POWERED_OFF };
    },
    async limits() {
      return { quality: 'ok', value: limits, time: clock.now() };
    },
    async setPowerCap(watts) {
      if (!inputs.acceleratorOn) return poweredOff();
      if (!Number.isFinite(watts) || watts < acc.minPowerCapW || watts > maxCapW) {
        return {
          ok: false,
          error: `power cap ${watts} W is not valid: it must be between ${acc.minPowerCapW} W and ${maxCapW} W`,
        };
      }
      command({ powerCapW: watts });
      return { ok: true };
    },
    async setFrequencyCeiling(mhz) {
      if (!inputs.acceleratorOn) return poweredOff();
      if (!Number.isFinite(mhz) || mhz < acc.minMHz || mhz > acc.maxMHz) {
        return {
          ok: false,
          error: `frequency ceiling ${mhz} MHz is not valid: it must be between ${acc.minMHz} and ${acc.maxMHz} MHz`,
        };
      }
      // Like locked clocks on a GPU: the highest supported frequency not above the one asked for.
      const ceiling = frequencies.filter((f) => f <= mhz).at(-1) ?? acc.minMHz;
      command({ frequencyCeilingMHz: ceiling });
      return { ok: true };
    },
  };

  // Power.
  const powerSample = (sensorName: string, watts: number, volts: number): PowerSample => {
    const v = jitter(`${sensorName}-volts`, 'volts', volts);
    const w = jitter(`${sensorName}-watts`, 'watts', watts);
    return { volts: v, amps: v > 0 ? w / v : 0, watts: w };
  };
  const battery: Battery = {
    info: info('battery'),
    read: sensor<BatterySample>('battery', () => {
      const s = state();
      const amps = jitter('battery-amps', 'amps', s.batteryAmps);
      const status =
        s.soc >= 0.999 && s.dischargeW === 0
          ? 'full'
          : s.batteryAmps > 0.01
            ? 'charging'
            : s.batteryAmps < -0.01
              ? 'discharging'
              : 'not-charging';
      return {
        stateOfCharge: s.soc,
        volts: jitter('battery-volts', 'volts', s.batteryVolts),
        amps,
        status,
      };
    }),
  };
  const solar: SolarInput = {
    info: info('solar'),
    read: sensor<SolarSample>('solar', () => {
      const s = state();
      return { ...powerSample('solar', s.solarW, s.busVolts), online: s.solarW > 1 };
    }),
  };
  const busMonitor: PowerMonitor = {
    info: info('bus'),
    read: sensor<PowerSample>('busMonitor', () => powerSample('bus', state().busW, state().busVolts)),
  };
  const acceleratorRail: PowerMonitor = {
    info: info('accelerator rail'),
    read: async () => ({
      quality: 'ok',
      value: powerSample('accelerator-rail', state().acceleratorW, state().busVolts),
      time: clock.now(),
    }),
  };

  // Load switches: the shedding order, then the accelerator's supply.
  const loadSwitch = (name: string, get: () => boolean, set: (on: boolean) => void): LoadSwitch => ({
    info: info(`load switch ${name}`),
    name,
    read: async () => ({ quality: 'ok', value: get(), time: clock.now() }),
    set: async (on) => {
      set(on);
      return { ok: true };
    },
  });
  const loadSwitches: LoadSwitch[] = [
    ...params.loads.switched.map((load) =>
      loadSwitch(
        load.name,
        () => inputs.loads?.[load.name] ?? false,
        (on) => command({ loads: { ...inputs.loads, [load.name]: on } }),
      ),
    ),
    // Powering the accelerator up again resets it, like a GPU without persistence mode: default power cap, no
    // clock lock. Whatever capped it must cap it again.
    loadSwitch(
      'accelerator',
      () => inputs.acceleratorOn,
      (on) => {
        if (on && !inputs.acceleratorOn) {
          const { frequencyCeilingMHz: _cleared, ...rest } = inputs;
          inputs = { ...rest, powerCapW: maxCapW, acceleratorOn: true };
        } else command({ acceleratorOn: on });
      },
    ),
  ];

  const devices: SimulatedDevices = {
    accelerator,
    battery,
    busMonitor,
    solar,
    temperatures,
    powerRails: { accelerator: acceleratorRail },
    loadSwitches,
  };

  return {
    devices,
    plant,
    inputs: () => inputs,
    stickSensor(name) {
      faults.delete(name);
      const current = samplers.get(name);
      faults.set(name, { kind: 'stuck', value: current?.() });
    },
    failSensor(name) {
      faults.set(name, { kind: 'failed' });
    },
    biasSensor(name, deltaC) {
      faults.set(name, { kind: 'bias', deltaC });
    },
    healSensor(name) {
      faults.delete(name);
    },
    close() {
      stepping.unsubscribe();
    },
  };
}
