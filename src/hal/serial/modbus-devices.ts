/**
 * HAL drivers for the serial devices of `modbus-map.ts`, over a `ModbusMaster`: the EPS (battery, solar input,
 * bus monitor, load switches) and the accelerator controller (its readout and limits, power cap and frequency
 * ceiling, and the three board temperatures it measures).
 *
 * A rate-group tick reads the battery, the solar input and the bus one after the other; each device's whole
 * input block is therefore read in one request and kept for `cacheMs` of mission time, so that they come from
 * one round trip (and reads made at the same time share the request in flight). A failed read is kept as long,
 * so a dead unit costs one timeout per tick, not three.
 *
 * Each reading goes through `gradedReader`: a timeout or an exception gives the last good value as `stale` for
 * `holdLastGoodMs`, then `failed`, with the error of the unit (`EPS unit 1: no answer within 200 ms`,
 * `accelerator unit 2: exception 02 illegal data address`).
 */
import {
  gradedReader,
  PLAUSIBLE_AMPS,
  PLAUSIBLE_CELSIUS,
  PLAUSIBLE_VOLTS,
  type ReadingPolicy,
  within,
} from '../io.js';
import type {
  AcceleratorControl,
  AcceleratorLimits,
  AcceleratorSample,
  ActuationResult,
  Battery,
  BatterySample,
  BatteryStatus,
  DeviceInfo,
  LoadSwitch,
  PowerMonitor,
  PowerSample,
  SolarInput,
  SolarSample,
  TemperatureSensor,
  ThrottleReason,
} from '../types.js';
import {
  ACCELERATOR_HOLDING_COUNT,
  ACCELERATOR_INPUT_COUNT,
  ACCELERATOR_UNIT,
  AcceleratorHolding,
  AcceleratorInput,
  EPS_INPUT_COUNT,
  EPS_LOADS,
  EPS_UNIT,
  EpsInput,
  signed16,
} from './modbus-map.js';
import type { ModbusMaster, ModbusResult } from './modbus-master.js';

/** How long an input block read serves further readings; mission time. */
export const DEFAULT_BLOCK_CACHE_MS = 50;
/** How long the last good value stands in for failed reads. */
export const MODBUS_HOLD_LAST_GOOD_MS = 2000;
/**
 * Holding registers change only when this master writes them (the cache is dropped then): they are read again
 * after this long, to notice a controller that restarted with its defaults.
 */
const HOLDING_CACHE_MS = 1000;
/** Frequencies offered for a ceiling: this many steps from the lowest clock to the highest. */
const FREQUENCY_STEPS = 5;

export interface ModbusDeviceContext {
  /** Mission time (UTC ms), from the mission clock. */
  now(): number;
}

export interface ModbusDeviceOptions {
  /** The unit address; default the map's (EPS 1, accelerator 2). */
  readonly unit?: number;
  /** Default 50 ms. */
  readonly cacheMs?: number;
  /** Default 2000 ms. */
  readonly holdLastGoodMs?: number;
}

export interface ModbusEps {
  readonly battery: Battery;
  readonly solar: SolarInput;
  readonly busMonitor: PowerMonitor;
  /** In `EPS_LOADS` order (coil i is `EPS_LOADS[i]`). */
  readonly loadSwitches: LoadSwitch[];
}

export interface ModbusAccelerator {
  readonly accelerator: AcceleratorControl &
    Required<Pick<AcceleratorControl, 'setPowerCap' | 'setFrequencyCeiling'>>;
  readonly temperatures: {
    readonly junction: TemperatureSensor;
    readonly coldPlate: TemperatureSensor;
    readonly radiator: TemperatureSensor;
  };
}

/** A block of registers or coils read in one request, shared for `maxAgeMs`. */
class CachedBlock<T> {
  private inFlight: Promise<ModbusResult<T>> | undefined;
  private last: { time: number; result: ModbusResult<T> } | undefined;
  private generation = 0;
  /** The latest values read successfully, whatever their age (for checks before a command). */
  lastGood: T | undefined;

  constructor(
    private readonly ctx: ModbusDeviceContext,
    private readonly label: string,
    private readonly fetch: () => Promise<ModbusResult<T>>,
    private readonly maxAgeMs: number,
  ) {}

  /** The values, or throws the unit's error prefixed with the label (`EPS unit 1: no answer within 200 ms`). */
  async get(): Promise<T> {
    const result = await this.result();
    if (!result.ok) throw new Error(`${this.label} ${result.error}`);
    return result.values;
  }

  /** Drops the cached values: the next get() reads the device. */
  invalidate(): void {
    this.generation += 1;
    this.last = undefined;
  }

  private result(): Promise<ModbusResult<T>> {
    const last = this.last;
    if (last !== undefined && this.ctx.now() - last.time <= this.maxAgeMs)
      return Promise.resolve(last.result);
    if (this.inFlight !== undefined) return this.inFlight;
    const generation = this.generation;
    // The values' age counts from the request, when the device measured them, not from when the answer came: on a
    // slow or accelerated bus an answer can land just before the next tick, which must then read afresh, not
    // take the same sample for a new one.
    const requestedAt = this.ctx.now();
    const inFlight = this.fetch().then((result) => {
      if (this.inFlight === inFlight) this.inFlight = undefined;
      if (generation === this.generation) this.last = { time: requestedAt, result };
      if (result.ok) this.lastGood = result.values;
      return result;
    });
    this.inFlight = inFlight;
    return inFlight;
  }
}

/** The first complaint of several plausibility checks. */
function firstOf(...complaints: Array<string | undefined>): string | undefined {
  return complaints.find((c) => c !== undefined);
}

const PLAUSIBLE_SOC = within(0, 1, '(state of charge)');
const PLAUSIBLE_WATTS = within(0, 10_000, 'W');

function plausiblePower(sample: PowerSample): string | undefined {
  return firstOf(PLAUSIBLE_VOLTS(sample.volts), PLAUSIBLE_AMPS(sample.amps), PLAUSIBLE_WATTS(sample.watts));
}

function actuation(result: ModbusResult<unknown>, label: string): ActuationResult {
  return result.ok ? { ok: true } : { ok: false, error: `${label} ${result.error}` };
}

/** The EPS of `modbus-map.ts`: battery, solar input, bus monitor and the load switches, on one unit. */
export function modbusEps(
  master: ModbusMaster,
  ctx: ModbusDeviceContext,
  options: ModbusDeviceOptions = {},
): ModbusEps {
  const unit = options.unit ?? EPS_UNIT;
  const deviceName = `EPS unit ${unit}`;
  /** Prefixes the master's errors, which start `unit N: `. */
  const label = 'EPS';
  const cacheMs = options.cacheMs ?? DEFAULT_BLOCK_CACHE_MS;
  const holdLastGoodMs = options.holdLastGoodMs ?? MODBUS_HOLD_LAST_GOOD_MS;
  const inputs = new CachedBlock(ctx, label, () => master.readInput(unit, 0, EPS_INPUT_COUNT), cacheMs);
  const coils = new CachedBlock(ctx, label, () => master.readCoils(unit, 0, EPS_LOADS.length), cacheMs);
  const info = (what: string): DeviceInfo => ({
    source: `modbus unit ${unit} (EPS) ${what}`,
    driver: 'modbus',
  });
  const register = (block: readonly number[], index: number): number => block[index] ?? 0;
  const policy = <T>(plausible: (value: T) => string | undefined): ReadingPolicy<T> => ({
    holdLastGoodMs,
    plausible,
  });

  const battery: Battery = {
    info: info('battery'),
    read: gradedReader(
      ctx,
      async (): Promise<BatterySample> => {
        const block = await inputs.get();
        const amps = signed16(register(block, EpsInput.batteryCentiamps)) / 100;
        const stateOfCharge = register(block, EpsInput.socPermille) / 1000;
        const charging = (register(block, EpsInput.status) & 0b01) !== 0;
        const status: BatteryStatus = charging
          ? 'charging'
          : amps < 0
            ? 'discharging'
            : stateOfCharge >= 0.995
              ? 'full'
              : 'not-charging';
        return {
          stateOfCharge,
          volts: register(block, EpsInput.batteryCentivolts) / 100,
          amps,
          celsius: signed16(register(block, EpsInput.batteryDecicelsius)) / 10,
          status,
        };
      },
      policy((s: BatterySample) =>
        firstOf(
          PLAUSIBLE_SOC(s.stateOfCharge),
          PLAUSIBLE_VOLTS(s.volts),
          PLAUSIBLE_AMPS(s.amps),
          s.celsius === undefined ? undefined : PLAUSIBLE_CELSIUS(s.celsius),
        ),
      ),
    ),
  };

  const solar: SolarInput = {
    info: info('solar input'),
    read: gradedReader(
      ctx,
      async (): Promise<SolarSample> => {
        const block = await inputs.get();
        return {
          volts: register(block, EpsInput.solarCentivolts) / 100,
          amps: register(block, EpsInput.solarCentiamps) / 100,
          watts: register(block, EpsInput.solarDeciwatts) / 10,
          online: (register(block, EpsInput.status) & 0b10) !== 0,
        };
      },
      policy(plausiblePower),
    ),
  };

  const busMonitor: PowerMonitor = {
    info: info('bus'),
    read: gradedReader(
      ctx,
      async (): Promise<PowerSample> => {
        const block = await inputs.get();
        const volts = register(block, EpsInput.busCentivolts) / 100;
        const amps = register(block, EpsInput.busCentiamps) / 100;
        return { volts, amps, watts: Math.round(volts * amps * 1000) / 1000 };
      },
      policy(plausiblePower),
    ),
  };

  const loadSwitches: LoadSwitch[] = EPS_LOADS.map((name, coil) => ({
    info: info(`coil ${coil}`),
    name,
    read: gradedReader(
      ctx,
      async () => {
        const states = await coils.get();
        const on = states[coil];
        if (on === undefined) throw new Error(`${deviceName}: coil ${coil} missing from the answer`);
        return on;
      },
      { holdLastGoodMs },
    ),
    async set(on: boolean): Promise<ActuationResult> {
      const result = await master.writeCoil(unit, coil, on);
      coils.invalidate();
      return actuation(result, label);
    },
  }));

  return { battery, solar, busMonitor, loadSwitches };
}

/** The accelerator controller of `modbus-map.ts`, and the three temperatures it measures. */
export function modbusAccelerator(
  master: ModbusMaster,
  ctx: ModbusDeviceContext,
  options: ModbusDeviceOptions = {},
): ModbusAccelerator {
  const unit = options.unit ?? ACCELERATOR_UNIT;
  const deviceName = `accelerator unit ${unit}`;
  /** Prefixes the master's errors, which start `unit N: `. */
  const label = 'accelerator';
  const cacheMs = options.cacheMs ?? DEFAULT_BLOCK_CACHE_MS;
  const holdLastGoodMs = options.holdLastGoodMs ?? MODBUS_HOLD_LAST_GOOD_MS;
  const inputs = new CachedBlock(
    ctx,
    label,
    () => master.readInput(unit, 0, ACCELERATOR_INPUT_COUNT),
    cacheMs,
  );
  const holding = new CachedBlock(
    ctx,
    label,
    () => master.readHolding(unit, 0, ACCELERATOR_HOLDING_COUNT),
    Math.max(cacheMs, HOLDING_CACHE_MS),
  );
  const info = (what: string): DeviceInfo => ({
    source: `modbus unit ${unit} (accelerator) ${what}`,
    driver: 'modbus',
  });
  const register = (block: readonly number[], index: number): number => block[index] ?? 0;

  const limitsOf = (block: readonly number[]): AcceleratorLimits => {
    const minMHz = register(block, AcceleratorInput.minMHz);
    const maxMHz = register(block, AcceleratorInput.maxMHz);
    const frequenciesMHz: number[] = [];
    for (let step = 0; step < FREQUENCY_STEPS; step++) {
      const mhz = Math.round(minMHz + ((maxMHz - minMHz) * step) / (FREQUENCY_STEPS - 1));
      if (frequenciesMHz.at(-1) !== mhz) frequenciesMHz.push(mhz);
    }
    const maxPowerCapW = register(block, AcceleratorInput.maxCapDeciwatts) / 10;
    return {
      minPowerCapW: register(block, AcceleratorInput.minCapDeciwatts) / 10,
      maxPowerCapW,
      defaultPowerCapW: maxPowerCapW,
      frequenciesMHz: maxMHz > 0 ? frequenciesMHz : [],
    };
  };

  const throttleReasons = (status: number): ThrottleReason[] => {
    const reasons: ThrottleReason[] = [];
    if (status & 0b100) reasons.push('application-clocks');
    if (status & 0b010) reasons.push('power-cap');
    return reasons;
  };

  const accelerator: ModbusAccelerator['accelerator'] = {
    info: info('controller'),
    read: gradedReader(
      ctx,
      async (): Promise<AcceleratorSample> => {
        const block = await inputs.get();
        // The cap is known from the holding register; a failure to read it leaves it out rather than the reading.
        const held = await holding.get().catch(() => undefined);
        const cap = held?.[AcceleratorHolding.capDeciwatts];
        return {
          celsius: signed16(register(block, AcceleratorInput.junctionCenticelsius)) / 100,
          watts: register(block, AcceleratorInput.deciwatts) / 10,
          coreMHz: register(block, AcceleratorInput.coreMHz),
          ...(cap !== undefined ? { powerCapW: cap / 10 } : {}),
          throttleReasons: throttleReasons(register(block, AcceleratorInput.status)),
        };
      },
      {
        holdLastGoodMs,
        plausible: (s) =>
          firstOf(PLAUSIBLE_CELSIUS(s.celsius), s.watts === undefined ? undefined : PLAUSIBLE_WATTS(s.watts)),
      },
    ),
    limits: gradedReader(ctx, async () => limitsOf(await inputs.get()), { holdLastGoodMs }),
    async setPowerCap(watts: number): Promise<ActuationResult> {
      if (!Number.isFinite(watts) || watts <= 0) return { ok: false, error: `invalid power cap ${watts} W` };
      const known = await inputs
        .get()
        .catch(() => inputs.lastGood)
        .then((block) => (block ? limitsOf(block) : undefined));
      const min = known?.minPowerCapW;
      const max = known?.maxPowerCapW;
      if (min !== undefined && max !== undefined && max > 0 && (watts < min || watts > max)) {
        return { ok: false, error: `power cap ${watts} W is outside ${min}..${max} W (${deviceName})` };
      }
      const deciwatts = Math.round(watts * 10);
      if (deciwatts > 0xffff) return { ok: false, error: `power cap ${watts} W does not fit the register` };
      // Without known limits the controller validates the value itself (exception 03 when it refuses).
      const result = await master.writeRegister(unit, AcceleratorHolding.capDeciwatts, deciwatts);
      holding.invalidate();
      return actuation(result, label);
    },
    async setFrequencyCeiling(mhz: number): Promise<ActuationResult> {
      if (!Number.isFinite(mhz) || mhz <= 0)
        return { ok: false, error: `invalid frequency ceiling ${mhz} MHz` };
      const block = await inputs.get().catch(() => inputs.lastGood);
      const minMHz = block ? register(block, AcceleratorInput.minMHz) : undefined;
      const maxMHz = block ? register(block, AcceleratorInput.maxMHz) : undefined;
      if (minMHz !== undefined && maxMHz !== undefined && maxMHz > 0 && (mhz < minMHz || mhz > maxMHz)) {
        return {
          ok: false,
          error: `frequency ceiling ${mhz} MHz is outside ${minMHz}..${maxMHz} MHz (${deviceName})`,
        };
      }
      // Whole MHz, rounded down so that the ceiling stays a ceiling.
      const ceiling = Math.min(0xffff, Math.max(1, Math.floor(mhz)));
      const result = await master.writeRegister(unit, AcceleratorHolding.ceilingMHz, ceiling);
      holding.invalidate();
      return actuation(result, label);
    },
  };

  const temperature = (what: string, index: number): TemperatureSensor => ({
    info: info(what),
    read: gradedReader(ctx, async () => signed16(register(await inputs.get(), index)) / 100, {
      holdLastGoodMs,
      plausible: PLAUSIBLE_CELSIUS,
    }),
  });

  return {
    accelerator,
    temperatures: {
      junction: temperature('junction temperature', AcceleratorInput.junctionCenticelsius),
      coldPlate: temperature('cold plate temperature', AcceleratorInput.coldPlateCenticelsius),
      radiator: temperature('radiator temperature', AcceleratorInput.radiatorCenticelsius),
    },
  };
}
