/**
 * The register maps of the serial devices the `sim-serial` board talks to over Modbus RTU: an EPS (battery, solar
 * array, bus, load switches) and an accelerator controller (temperatures, power, clocks; power cap and frequency
 * ceiling). The HIL rig's simulated devices (`hil/devices/`) serve exactly these maps from the plant, and a bench
 * device (a solar charge controller, a battery management board with a Modbus port) is wired to the same roles by
 * a map of its own. Values are 16-bit registers, big-endian on the wire, in fixed-point units named below.
 */

/** Unit (slave) addresses on the bus. */
export const EPS_UNIT = 1;
export const ACCELERATOR_UNIT = 2;

/** EPS input registers (function 04). */
export const EpsInput = {
  /** Battery terminal voltage, 0.01 V, unsigned. */
  batteryCentivolts: 0,
  /** Battery current, 0.01 A, signed (two's complement), positive charging. */
  batteryCentiamps: 1,
  /** State of charge, 0.1 %, 0..1000. */
  socPermille: 2,
  /** Battery temperature, 0.1 degC, signed. */
  batteryDecicelsius: 3,
  /** Solar array voltage, 0.01 V. */
  solarCentivolts: 4,
  /** Solar array current, 0.01 A. */
  solarCentiamps: 5,
  /** Solar array power, 0.1 W. */
  solarDeciwatts: 6,
  /** Bus voltage, 0.01 V. */
  busCentivolts: 7,
  /** Bus current, 0.01 A. */
  busCentiamps: 8,
  /** Status bits: 0 charging, 1 solar online. */
  status: 9,
} as const;
export const EPS_INPUT_COUNT = 10;

/** EPS coils (functions 01 read, 05 write one): the load switches in the board's shedding order. */
export const EPS_LOADS = ['payload-heater', 'camera', 'accelerator-aux', 'accelerator'] as const;

/** Accelerator controller input registers (function 04). */
export const AcceleratorInput = {
  /** Junction temperature, 0.01 degC, signed. */
  junctionCenticelsius: 0,
  /** Cold plate temperature, 0.01 degC, signed. */
  coldPlateCenticelsius: 1,
  /** Radiator temperature, 0.01 degC, signed. */
  radiatorCenticelsius: 2,
  /** Accelerator power, 0.1 W. */
  deciwatts: 3,
  /** Core clock, MHz. */
  coreMHz: 4,
  /** Status bits: 0 powered, 1 throttled by the power cap, 2 throttled by the frequency ceiling. */
  status: 5,
  /** Lowest and highest power cap accepted, 0.1 W. */
  minCapDeciwatts: 6,
  maxCapDeciwatts: 7,
  /** Lowest and highest clock, MHz. */
  minMHz: 8,
  maxMHz: 9,
} as const;
export const ACCELERATOR_INPUT_COUNT = 10;

/** Accelerator controller holding registers (functions 03 read, 06 write one, 16 write several). */
export const AcceleratorHolding = {
  /** Power cap, 0.1 W; a value outside [minCap, maxCap] is refused with exception 03 (illegal data value). */
  capDeciwatts: 0,
  /** Frequency ceiling, MHz; 0: none. */
  ceilingMHz: 1,
} as const;
export const ACCELERATOR_HOLDING_COUNT = 2;

/** Signed 16-bit from a register. */
export function signed16(register: number): number {
  return register & 0x8000 ? register - 0x10000 : register;
}

/** A register from a signed value, clamped to 16 bits. */
export function toRegister(value: number): number {
  const clamped = Math.max(-32768, Math.min(65535, Math.round(value)));
  return clamped < 0 ? clamped + 0x10000 : clamped;
}
