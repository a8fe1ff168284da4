/**
 * The device interfaces of the hardware abstraction. Components see these and nothing of Linux: a board file maps
 * each role to a driver (`src/hal/linux/`) or to the simulated plant.
 *
 * Every read resolves (it never rejects): a sensor that is missing, unplugged or failing gives a reading whose
 * quality says so, so that a controller can fall back and FDIR can count it, and one bad sensor never stops a rate
 * group. Readings are stamped with mission time when the value was taken from the device.
 */

/**
 * How far a reading can be trusted.
 * - `ok`: read now, within the sensor's plausible range.
 * - `stale`: the last good value, older than the sensor's freshness bound (the device stopped updating, or this read
 *   failed and an earlier good value stands in for it); `time` is when that value was read.
 * - `outOfRange`: read now, but outside what the sensor can physically report (a disconnected thermistor reading
 *   -273 degC, an INA2xx overflow); the raw value is kept for diagnosis.
 * - `failed`: no value at all (missing file, I/O error with nothing earlier to fall back on, a tool that is absent).
 */
export type ReadingQuality = 'ok' | 'stale' | 'outOfRange' | 'failed';

export type Reading<T> =
  | {
      readonly quality: 'ok';
      readonly value: T;
      /** Mission time (UTC ms) at which the value was read. */
      readonly time: number;
    }
  | {
      readonly quality: 'stale' | 'outOfRange';
      readonly value: T;
      readonly time: number;
      /** Why the value is not `ok`, for logs and events. */
      readonly error: string;
    }
  | {
      readonly quality: 'failed';
      readonly value?: undefined;
      readonly time: number;
      readonly error: string;
    };

/** The outcome of a command to an actuator. Like reads, actuation never rejects. */
export type ActuationResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** Where a device lives, for probe output, logs and `board probe --check`. */
export interface DeviceInfo {
  /** The role-independent name of the device: `thermal_zone0 (cpu-thermal)`, `hwmon2 ina226`. */
  readonly source: string;
  /** The driver that reads it: `thermal-zone`, `hwmon`, `power-supply`, `devfreq`, `gpio`, `watchdog`, ... */
  readonly driver: string;
}

export interface TripPoint {
  readonly type: 'active' | 'passive' | 'hot' | 'critical' | string;
  readonly celsius: number;
  readonly hysteresisC?: number;
}

/** A temperature in degrees Celsius. */
export interface TemperatureSensor {
  readonly info: DeviceInfo;
  read(): Promise<Reading<number>>;
  /** The kernel's trip points for this sensor, when it has any (thermal zones do; hwmon sensors do not). */
  trips?(): Promise<readonly TripPoint[]>;
}

export interface PowerSample {
  readonly volts: number;
  readonly amps: number;
  readonly watts: number;
}

/** A voltage/current/power monitor on a rail (INA219, INA226, one INA3221 channel, a power_supply input). */
export interface PowerMonitor {
  readonly info: DeviceInfo;
  read(): Promise<Reading<PowerSample>>;
}

export type BatteryStatus = 'charging' | 'discharging' | 'full' | 'not-charging' | 'unknown';

export interface BatterySample {
  /** State of charge, 0..1. */
  readonly stateOfCharge: number;
  readonly volts: number;
  /** Positive while charging (into the battery), negative while discharging, whatever the kernel driver's sign. */
  readonly amps: number;
  readonly celsius?: number;
  readonly status: BatteryStatus;
}

export interface Battery {
  readonly info: DeviceInfo;
  read(): Promise<Reading<BatterySample>>;
}

export interface SolarSample extends PowerSample {
  /** Whether the input is delivering power (power_supply `online`, or watts above a small threshold). */
  readonly online: boolean;
}

/** The solar array's input to the power system. */
export interface SolarInput {
  readonly info: DeviceInfo;
  read(): Promise<Reading<SolarSample>>;
}

/** A switched load: a payload, a heater, the accelerator's supply. */
export interface LoadSwitch {
  readonly info: DeviceInfo;
  /** The name the power system and the ground know it by (`accelerator`, `heater`). */
  readonly name: string;
  /** Whether the load is powered (the logical state, active-low lines already inverted). */
  read(): Promise<Reading<boolean>>;
  set(on: boolean): Promise<ActuationResult>;
}

/**
 * Reasons the accelerator runs below its maximum clocks, named for what they mean rather than for one vendor's
 * bit: nvidia-smi's clocks_event_reasons map onto these; on sysfs boards they are inferred where possible.
 */
export type ThrottleReason =
  | 'idle'
  | 'application-clocks'
  | 'power-cap'
  | 'hw-slowdown'
  | 'hw-thermal'
  | 'hw-power-brake'
  | 'sw-thermal'
  | 'sync-boost'
  | 'display-clocks';

export interface AcceleratorSample {
  readonly celsius: number;
  /** Power drawn now, when the device can measure it. */
  readonly watts?: number;
  /** The power cap in force, when there is one. */
  readonly powerCapW?: number;
  /** Core (graphics/SM) clock now. */
  readonly coreMHz?: number;
  readonly memoryMHz?: number;
  /** Utilisation, 0..1, when reported. */
  readonly utilization?: number;
  readonly throttleReasons: readonly ThrottleReason[];
}

export interface AcceleratorLimits {
  readonly minPowerCapW?: number;
  readonly maxPowerCapW?: number;
  readonly defaultPowerCapW?: number;
  /** Frequencies a ceiling may be set to, ascending. */
  readonly frequenciesMHz?: readonly number[];
  /** The temperature at which the device slows itself (nvidia-smi's slowdown temperature, a passive trip). */
  readonly slowdownC?: number;
  readonly shutdownC?: number;
}

/** The AI accelerator: read its state; cap its power or its clock frequency. */
export interface AcceleratorControl {
  readonly info: DeviceInfo;
  read(): Promise<Reading<AcceleratorSample>>;
  limits(): Promise<Reading<AcceleratorLimits>>;
  /** Absent when the device cannot cap power (then the thermal controller uses the frequency ceiling). */
  setPowerCap?(watts: number): Promise<ActuationResult>;
  /** Absent when the device cannot cap frequency. */
  setFrequencyCeiling?(mhz: number): Promise<ActuationResult>;
}

/** A watchdog the flight software must kick, or the machine (or the service manager) restarts it. */
export interface Watchdog {
  readonly info: DeviceInfo;
  /** The timeout in seconds, when known. Kick well inside it. */
  readonly timeoutS?: number;
  kick(): Promise<ActuationResult>;
  /**
   * Stops the watchdog on an orderly shutdown (the kernel's "magic close": writing `V` before closing), so that a
   * deliberate stop does not reset the board. A crash never gets here, and the watchdog fires.
   */
  close(): Promise<void>;
}

/** A serial port with a role (the uplink/downlink radio, a sensor): where, and how fast. */
export interface SerialPortRole {
  readonly path: string;
  readonly baud: number;
}
