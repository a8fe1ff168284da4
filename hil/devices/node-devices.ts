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
 * registers it held when it stuck; a failed block is answered with exception 04 (slave device failure); a bias
 * offsets the junction's or the battery's temperature (degC), or the solar array's power (W, its current with it).
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
  /** The block's quantity reads `delta` off the truth (degC for junction and battery, W for solar). */
  bias(name: ModbusSensorName, delta: number): void;
  /** Reads of the block are answered with exception 04 (slave device failure). */
  fail(name: ModbusSensorName): void;
  /** Clears any fault on the block. */
  heal(name: ModbusSensorName): void;
}

type Fault =
  | { readonly kind: 'stuck'; readonly registers: readonly number[] }
  | { readonly kind: 'failed' }
  | { readonly kind: 'bias'; readonly delta: number };

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
  const biasOf = (name: ModbusSensorName): number => {
    const fault = faults.get(name);
    return fault?.kind === 'bias' ? fault.delta : 0;
  };

  // The registers as the devices measure them (biases applied; stuck and failed blocks are applied on reading).
  const epsRegisters = (s: PlantState): number[] => {
    const r = new Array<number>(EPS_INPUT_COUNT).fill(0);
    const volts = s.busVolts;
    const solarW = Math.max(0, s.solarW + biasOf('solar'));
    r[EpsInput.batteryCentivolts] = toRegister(s.batteryVolts * 100);
    r[EpsInput.batteryCentiamps] = toRegister(s.batteryAmps * 100);
    r[EpsInput.socPermille] = toRegister(Math.min(1, Math.max(0, s.soc)) * 1000);
    r[EpsInput.batteryDecicelsius] = toRegister((s.coldPlateC + biasOf('battery')) * 10);
    r[EpsInput.solarCentivolts] = toRegister(solarW > 0 ? volts * 100 : 0);
    r[EpsInput.solarCentiamps] = toRegister(volts > 0 ? (solarW / volts) * 100 : 0);
    r[EpsInput.solarDeciwatts] = toRegister(solarW * 10);
    r[EpsInput.busCentivolts] = toRegister(volts * 100);
    r[EpsInput.busCentiamps] = toRegister(volts > 0 ? (s.busW / volts) * 100 : 0);
    r[EpsInput.status] = (s.batteryAmps > 0.01 ? 1 : 0) | (s.solarW > 1 ? 2 : 0);
    return r;
  };
  const acceleratorRegisters = (s: PlantState): number[] => {
    const r = new Array<number>(ACCELERATOR_INPUT_COUNT).fill(0);
    r[AcceleratorInput.junctionCenticelsius] = toRegister((s.junctionC + biasOf('junction')) * 100);
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
  const measured = (unit: Block['unit']): number[] =>
    unit === 'eps' ? epsRegisters(plant.state) : acceleratorRegisters(plant.state);

  /** The unit's input registers as read: stuck blocks hold, a failed block in the range fails the read. */
  const readInputs = (unit: Block['unit'], address: number, count: number): ModbusRead<number> => {
    const registers = measured(unit);
    if (address + count > registers.length) return badAddress;
    for (const name of NAMES) {
      const block = BLOCKS[name];
      const fault = faults.get(name);
      if (block.unit !== unit || !fault) continue;
      const overlaps = address < block.first + block.count && block.first < address + count;
      if (fault.kind === 'failed' && overlaps) return failure;
      if (fault.kind === 'stuck') registers.splice(block.first, block.count, ...fault.registers);
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
      const registers = measured(block.unit).slice(block.first, block.first + block.count);
      faults.set(name, { kind: 'stuck', registers });
    },
    bias(name, delta) {
      faults.set(name, { kind: 'bias', delta });
    },
    fail(name) {
      faults.set(name, { kind: 'failed' });
    },
    heal(name) {
      faults.delete(name);
    },
  };
}
