/**
 * The simulated node's serial devices: an EPS (unit 1) and an accelerator controller (unit 2), register providers
 * for a `ModbusSlave` serving exactly the maps in `src/hal/serial/modbus-map.ts`, computed from the plant's state.
 * Writes (power cap, frequency ceiling, load switches) change the inputs the rig feeds the plant on its next step
 * (`inputs()`), as the sim board's devices do (`../sim-devices.ts`).
 *
 * The plant has no battery temperature: the EPS reports the cold plate's (the battery sits on it). The
 * accelerator controller is a board of its own: its temperatures read with the accelerator's supply off, its power
 * and clock read 0, and it refuses writes (exception 04) until the supply is on again, which resets it to the
 * default power cap and no frequency ceiling (like a GPU without persistence mode).
 *
 * Sensor faults for the HIL scenarios, on a register block: `junction` (accelerator input 0), `battery` (EPS inputs
 * 0..3: volts, amps, charge, temperature) and `solar` (EPS inputs 4..6). A stuck block keeps answering the
 * registers it held when it stuck; a failed block is answered with exception 04 (slave device failure). A bias
 * or noise has the scenario's units (`../scenario.ts`, `SensorFault`; as `SensorFaults` in `../score.ts`): kelvin
 * added to the junction temperature, and a fraction of the reading for the battery's state of charge (the SoC
 * register reads soc * (1 + e), clamped to 0..1) and the solar array's power (solarW * (1 + e), its current with
 * it). A bias is a fixed e; noise draws e ~ Normal(0, sigma) afresh (Box-Muller, from the random source given) on
 * every read request that touches the block, so a seeded source repeats a run exactly. One fault per block: a new
 * one replaces the old, `heal` clears it. Register values stay within their 16-bit encodings.
 */
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
  toRegister,
} from '../../src/hal/serial/modbus-map.js';
import { frequencyForCap, maxPowerW } from '../plant/accelerator.js';
import type { Plant, PlantInputs, PlantState } from '../plant/plant.js';
import {
  type ModbusException,
  ModbusExceptionCode,
  type ModbusRead,
  type ModbusUnitProvider,
  type ModbusWrite,
  modbusException,
} from './modbus-slave.js';

/** The sensors (register blocks) a fault can be injected into. */
export type ModbusSensorName = 'junction' | 'battery' | 'solar';

export interface PlantModbusDevicesOptions {
  /** Unit addresses; default EPS_UNIT (1) and ACCELERATOR_UNIT (2). */
  readonly epsUnit?: number;
  readonly acceleratorUnit?: number;
}

export interface PlantModbusDevices {
  readonly eps: ModbusUnitProvider;
  readonly accelerator: ModbusUnitProvider;
  /** Both, by unit address, for a `ModbusSlave`. */
  readonly units: ReadonlyMap<number, ModbusUnitProvider>;
  /** What the devices command the plant now (power cap, ceiling, supplies, loads). */
  inputs(): PlantInputs;
  /** The block keeps answering the registers it holds now. */
  stick(name: ModbusSensorName): void;
  /**
   * The block's quantity reads off the truth by `value`: kelvin added to the junction temperature; a fraction of
   * the reading for the battery's state of charge (soc * (1 + value), clamped to 0..1) and the solar array's power
   * (solarW * (1 + value), its current with it). Throws a RangeError if `value` is not finite.
   */
  bias(name: ModbusSensorName, value: number): void;
  /**
   * Every read request that touches the block draws a fresh Gaussian error of standard deviation `sigma`, in
   * bias's units (K for the junction, a fraction for the battery's state of charge and the solar power), from
   * `random` (uniform in [0, 1), e.g. `() => prng.next()` of a seeded `Prng` so runs repeat), by Box-Muller.
   * Throws a RangeError if `sigma` is not finite.
   */
  noise(name: ModbusSensorName, sigma: number, random: () => number): void;
  /** Reads of the block are answered with exception 04 (slave device failure). */
  fail(name: ModbusSensorName): void;
  /** Clears any fault on the block. */
  heal(name: ModbusSensorName): void;
}

type Fault =
  | { readonly kind: 'stuck'; readonly registers: readonly number[] }
  | { readonly kind: 'failed' }
  | { readonly kind: 'bias'; readonly value: number }
  | { readonly kind: 'noise'; readonly sigma: number; readonly random: () => number };

/** The error on each sensor's quantity for one read: K for the junction, a fraction for battery SoC and solar. */
type Errors = Readonly<Record<ModbusSensorName, number>>;

const NO_ERRORS: Errors = { junction: 0, battery: 0, solar: 0 };

interface Block {
  readonly unit: 'eps' | 'accelerator';
  readonly first: number;
  readonly count: number;
}

const BLOCKS: Readonly<Record<ModbusSensorName, Block>> = {
  junction: { unit: 'accelerator', first: AcceleratorInput.junctionCenticelsius, count: 1 },
  battery: { unit: 'eps', first: EpsInput.batteryCentivolts, count: 4 },
  solar: { unit: 'eps', first: EpsInput.solarCentivolts, count: 3 },
};

const NAMES = Object.keys(BLOCKS) as ModbusSensorName[];

const failure: ModbusException = modbusException(ModbusExceptionCode.slaveDeviceFailure);
const badAddress: ModbusException = modbusException(ModbusExceptionCode.illegalDataAddress);
const badValue: ModbusException = modbusException(ModbusExceptionCode.illegalDataValue);

/**
 * A standard normal deviate from a uniform source (Box-Muller, as `SensorFaults` in `../score.ts`); 0 when the
 * source misbehaves (not in [0, 1)), so a read never carries NaN.
 */
function gaussian(random: () => number): number {
  const u = Math.max(1e-12, random());
  const n = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  return Number.isFinite(n) ? n : 0;
}

/** A signed register (two's complement) from a value, clamped to -32768..32767 so it never wraps. */
function signedRegister(value: number): number {
  return toRegister(Math.max(-32768, Math.min(32767, Number.isFinite(value) ? value : 0)));
}

/** An unsigned register from a value, clamped to 0..65535 (NaN reads 0). */
function unsignedRegister(value: number): number {
  return toRegister(Math.max(0, Number.isFinite(value) ? value : 0));
}

/** `count` registers from `address` of a block of `size`, or exception 02 when they go past it. */
function slice<T>(all: readonly T[], address: number, count: number): ModbusRead<T> {
  if (address + count > all.length) return badAddress;
  return all.slice(address, address + count);
}

/** Providers for EPS and accelerator units backed by `plant`. */
export function plantModbusDevices(
  plant: Plant,
  options: PlantModbusDevicesOptions = {},
): PlantModbusDevices {
  const params = plant.params;
  const acc = params.accelerator;
  const maxCapW = maxPowerW(acc);
  const minCapRegister = toRegister(acc.minPowerCapW * 10);
  const maxCapRegister = toRegister(maxCapW * 10);
  const plantLoads = new Set(params.loads.switched.map((load) => load.name));

  let inputs: PlantInputs = {
    powerCapW: maxCapW,
    acceleratorOn: true,
    loads: Object.fromEntries(params.loads.switched.map((load) => [load.name, load.initiallyOn ?? false])),
  };
  const faults = new Map<ModbusSensorName, Fault>();

  // The registers as the devices measure them, with `e` the errors of this read (biases, noise); stuck and failed
  // blocks are applied on reading.
  const epsRegisters = (s: PlantState, e: Errors): number[] => {
    const r = new Array<number>(EPS_INPUT_COUNT).fill(0);
    const volts = s.busVolts;
    const solarW = Math.max(0, s.solarW * (1 + e.solar));
    const soc = Math.min(1, Math.max(0, s.soc * (1 + e.battery)));
    r[EpsInput.batteryCentivolts] = toRegister(s.batteryVolts * 100);
    r[EpsInput.batteryCentiamps] = toRegister(s.batteryAmps * 100);
    r[EpsInput.socPermille] = toRegister(soc * 1000);
    r[EpsInput.batteryDecicelsius] = toRegister(s.coldPlateC * 10);
    r[EpsInput.solarCentivolts] = toRegister(solarW > 0 ? volts * 100 : 0);
    r[EpsInput.solarCentiamps] = unsignedRegister(volts > 0 ? (solarW / volts) * 100 : 0);
    r[EpsInput.solarDeciwatts] = unsignedRegister(solarW * 10);
    r[EpsInput.busCentivolts] = toRegister(volts * 100);
    r[EpsInput.busCentiamps] = toRegister(volts > 0 ? (s.busW / volts) * 100 : 0);
    r[EpsInput.status] = (s.batteryAmps > 0.01 ? 1 : 0) | (s.solarW > 1 ? 2 : 0);
    return r;
  };
  const acceleratorRegisters = (s: PlantState, e: Errors): number[] => {
    const r = new Array<number>(ACCELERATOR_INPUT_COUNT).fill(0);
    r[AcceleratorInput.junctionCenticelsius] = signedRegister((s.junctionC + e.junction) * 100);
    r[AcceleratorInput.coldPlateCenticelsius] = toRegister(s.coldPlateC * 100);
    r[AcceleratorInput.radiatorCenticelsius] = toRegister(s.radiatorC * 100);
    r[AcceleratorInput.deciwatts] = toRegister(s.acceleratorW * 10);
    r[AcceleratorInput.coreMHz] = toRegister(s.acceleratorMHz);
    r[AcceleratorInput.status] = acceleratorStatus(s);
    r[AcceleratorInput.minCapDeciwatts] = minCapRegister;
    r[AcceleratorInput.maxCapDeciwatts] = maxCapRegister;
    r[AcceleratorInput.minMHz] = toRegister(acc.minMHz);
    r[AcceleratorInput.maxMHz] = toRegister(acc.maxMHz);
    return r;
  };
  /** Bits: 0 powered, 1 throttled by the power cap, 2 throttled by the frequency ceiling. */
  const acceleratorStatus = (s: PlantState): number => {
    if (!s.acceleratorOn) return 0;
    let bits = 1;
    if (s.acceleratorMHz >= acc.maxMHz) return bits;
    const byCap = frequencyForCap(acc, s.powerCapW);
    const ceiling = s.frequencyCeilingMHz;
    if (ceiling !== undefined && ceiling < acc.maxMHz && ceiling <= byCap) bits |= 4;
    if (byCap < acc.maxMHz && (ceiling === undefined || byCap <= ceiling)) bits |= 2;
    return bits;
  };
  const measured = (unit: Block['unit'], e: Errors): number[] =>
    unit === 'eps' ? epsRegisters(plant.state, e) : acceleratorRegisters(plant.state, e);

  /**
   * The unit's input registers as read: a failed block in the range fails the read, biases apply, a noisy block
   * in the range draws its error for this read (one deviate per request; none for a request that misses it or
   * fails), stuck blocks hold.
   */
  const readInputs = (unit: Block['unit'], address: number, count: number): ModbusRead<number> => {
    const size = unit === 'eps' ? EPS_INPUT_COUNT : ACCELERATOR_INPUT_COUNT;
    if (address + count > size) return badAddress;
    const overlaps = (block: Block): boolean =>
      block.unit === unit && address < block.first + block.count && block.first < address + count;
    for (const name of NAMES) {
      if (faults.get(name)?.kind === 'failed' && overlaps(BLOCKS[name])) return failure;
    }
    const errors: Record<ModbusSensorName, number> = { ...NO_ERRORS };
    for (const name of NAMES) {
      const fault = faults.get(name);
      if (fault?.kind === 'bias') errors[name] = fault.value;
      else if (fault?.kind === 'noise' && overlaps(BLOCKS[name]))
        errors[name] = gaussian(fault.random) * fault.sigma;
    }
    const registers = measured(unit, errors);
    for (const name of NAMES) {
      const block = BLOCKS[name];
      const fault = faults.get(name);
      if (block.unit === unit && fault?.kind === 'stuck')
        registers.splice(block.first, block.count, ...fault.registers);
    }
    return registers.slice(address, address + count);
  };

  const command = (change: Partial<PlantInputs>): void => {
    inputs = { ...inputs, ...change };
  };

  const holdingRegisters = (): number[] => {
    const r = new Array<number>(ACCELERATOR_HOLDING_COUNT).fill(0);
    r[AcceleratorHolding.capDeciwatts] = toRegister(inputs.powerCapW * 10);
    r[AcceleratorHolding.ceilingMHz] = toRegister(inputs.frequencyCeilingMHz ?? 0);
    return r;
  };

  const eps: ModbusUnitProvider = {
    inputs: (address, count) => readInputs('eps', address, count),
    coils: (address, count) =>
      slice(
        EPS_LOADS.map((name) =>
          name === 'accelerator' ? inputs.acceleratorOn : (inputs.loads?.[name] ?? false),
        ),
        address,
        count,
      ),
    writeCoil(address, on): ModbusWrite {
      const name = EPS_LOADS[address];
      if (name === undefined) return badAddress;
      if (name === 'accelerator') {
        if (on && !inputs.acceleratorOn) {
          const { frequencyCeilingMHz: _cleared, ...rest } = inputs;
          inputs = { ...rest, powerCapW: maxCapW, acceleratorOn: true };
        } else command({ acceleratorOn: on });
        return 'ok';
      }
      if (!plantLoads.has(name)) return badAddress;
      command({ loads: { ...inputs.loads, [name]: on } });
      return 'ok';
    },
  };

  const accelerator: ModbusUnitProvider = {
    inputs: (address, count) => readInputs('accelerator', address, count),
    holding: (address, count) => slice(holdingRegisters(), address, count),
    writeHolding(address, values): ModbusWrite {
      if (address + values.length > ACCELERATOR_HOLDING_COUNT) return badAddress;
      if (!inputs.acceleratorOn) return failure;
      let powerCapW = inputs.powerCapW;
      let ceilingMHz = inputs.frequencyCeilingMHz;
      for (const [i, value] of values.entries()) {
        const register = address + i;
        if (register === AcceleratorHolding.capDeciwatts) {
          if (value < minCapRegister || value > maxCapRegister) return badValue;
          powerCapW = Math.min(maxCapW, Math.max(acc.minPowerCapW, value / 10));
        } else if (register === AcceleratorHolding.ceilingMHz) {
          if (value !== 0 && (value < acc.minMHz || value > acc.maxMHz)) return badValue;
          ceilingMHz = value === 0 ? undefined : value;
        }
      }
      const { frequencyCeilingMHz: _old, ...rest } = inputs;
      const next: PlantInputs = {
        ...rest,
        powerCapW,
        ...(ceilingMHz !== undefined ? { frequencyCeilingMHz: ceilingMHz } : {}),
      };
      inputs = next;
      return 'ok';
    },
  };

  const epsUnit = options.epsUnit ?? EPS_UNIT;
  const acceleratorUnit = options.acceleratorUnit ?? ACCELERATOR_UNIT;
  if (epsUnit === acceleratorUnit)
    throw new RangeError(`plantModbusDevices: the EPS and the accelerator share unit ${epsUnit}`);

  return {
    eps,
    accelerator,
    units: new Map([
      [epsUnit, eps],
      [acceleratorUnit, accelerator],
    ]),
    inputs: () => inputs,
    stick(name) {
      faults.delete(name);
      const block = BLOCKS[name];
      const registers = measured(block.unit, NO_ERRORS).slice(block.first, block.first + block.count);
      faults.set(name, { kind: 'stuck', registers });
    },
    bias(name, value) {
      if (!Number.isFinite(value)) throw new RangeError(`bias: ${name} bias must be finite, not ${value}`);
      faults.set(name, { kind: 'bias', value });
    },
    noise(name, sigma, random) {
      if (!Number.isFinite(sigma)) throw new RangeError(`noise: ${name} sigma must be finite, not ${sigma}`);
      faults.set(name, { kind: 'noise', sigma, random });
    },
    fail(name) {
      faults.set(name, { kind: 'failed' });
    },
    heal(name) {
      faults.delete(name);
    },
  };
}
