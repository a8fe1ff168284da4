/**
 * Linux boards as data: a board file names, for each role the flight software needs, the driver and the device
 * that fills it. `defineLinuxBoard` type-checks that mapping and turns it into a `BoardDefinition` whose devices
 * are the drivers of `src/hal/linux/`, read under a root directory (`/` on the board, a fake or captured tree in
 * tests and `skynode board probe --root`).
 */
import type { HalDevices } from '../../core/component.js';
import type { BoardDefinition, BoardEnvironment } from '../board.js';
import { type HalContext, halContext } from '../io.js';
import type {
  AcceleratorControl,
  Battery,
  LoadSwitch,
  PowerMonitor,
  SerialPortRole,
  SolarInput,
  TemperatureSensor,
  Watchdog,
} from '../types.js';
import { cpufreqAccelerator } from './cpufreq.js';
import { gpioLoadSwitch } from './gpio.js';
import { hwmonPowerMonitor, hwmonTemperature } from './hwmon.js';
import { type JetsonAcceleratorOptions, jetsonAccelerator } from './jetson.js';
import { nvidiaSmiAccelerator } from './nvidia-smi.js';
import { powerSupplyBattery, powerSupplySolar } from './power-supply.js';
import { thermalZone } from './thermal.js';
import { devWatchdog, systemdWatchdog } from './watchdog.js';

/** A temperature: a thermal zone (by directory name or `type`), or one `tempN_input` of an hwmon chip. */
export type TemperatureRole =
  | { readonly driver: 'thermal-zone'; readonly zone: string }
  | { readonly driver: 'hwmon'; readonly chip: string; readonly index?: number; readonly channel?: number };

/** A rail monitor: an hwmon INA219/INA226 (channel 1) or an INA3221 channel, by number or by label. */
export type PowerRailRole = {
  readonly driver: 'hwmon';
  readonly chip: string;
  readonly index?: number;
  readonly channel?: number;
  readonly label?: string;
};

export type BatteryRole = {
  readonly driver: 'power-supply';
  readonly name: string;
  readonly invertCurrent?: boolean;
};

export type SolarRole = { readonly driver: 'power-supply'; readonly name: string };

/** A load switch on a GPIO line. The order of `loadSwitches` is the shedding order: the first is shed first. */
export type LoadSwitchRole = {
  readonly driver: 'gpio';
  /** The load's name, as the power system and the ground know it. */
  readonly name: string;
  /** `gpiochip0`, or the chip's label (`pinctrl-rp1`). */
  readonly chip: string;
  /** Line offset, or the line's name (`GPIO17`, `PQ.05`). */
  readonly line: number | string;
  readonly activeLow?: boolean;
  readonly initial?: boolean;
};

export type AcceleratorRole =
  | { readonly driver: 'nvidia-smi'; readonly index?: number; readonly uuid?: string }
  | ({ readonly driver: 'jetson' } & JetsonAcceleratorOptions)
  | {
      readonly driver: 'cpufreq';
      readonly policy: string;
      readonly temperature: TemperatureRole;
      readonly power?: PowerRailRole;
    };

export type WatchdogRole =
  | { readonly driver: 'dev-watchdog'; readonly path?: string }
  /** The service manager's watchdog (systemd `WatchdogSec=`): the unit in `deploy/` sets it. */
  | { readonly driver: 'systemd' };

export interface LinuxBoardSpec {
  readonly name: string;
  readonly description: string;
  readonly accelerator?: AcceleratorRole;
  readonly battery?: BatteryRole;
  /** The main power bus (the battery's output to the loads). */
  readonly busMonitor?: PowerRailRole;
  readonly solar?: SolarRole;
  /** Named temperatures (`soc`, `board`, `radiator`), each a telemetry point for the thermal system. */
  readonly temperatures?: Readonly<Record<string, TemperatureRole>>;
  /** Named rails beyond the bus (`cpu`, `gpu`, `soc`). */
  readonly powerRails?: Readonly<Record<string, PowerRailRole>>;
  /** In shedding order: when power runs short the first is switched off first. */
  readonly loadSwitches?: readonly LoadSwitchRole[];
  /** The uplink/downlink serial port: `skynode fsw --board NAME` uses it when no `--link` is given. */
  readonly link?: SerialPortRole;
  readonly watchdog?: WatchdogRole;
}

export type LinuxBoardDefinition = BoardDefinition & { readonly spec: LinuxBoardSpec };

function temperature(ctx: HalContext, role: TemperatureRole): TemperatureSensor {
  return role.driver === 'thermal-zone'
    ? thermalZone(ctx, { zone: role.zone })
    : hwmonTemperature(ctx, {
        chip: role.chip,
        ...(role.index !== undefined ? { index: role.index } : {}),
        ...(role.channel !== undefined ? { channel: role.channel } : {}),
      });
}

function rail(ctx: HalContext, role: PowerRailRole): PowerMonitor {
  return hwmonPowerMonitor(ctx, {
    chip: role.chip,
    ...(role.index !== undefined ? { index: role.index } : {}),
    ...(role.channel !== undefined ? { channel: role.channel } : {}),
    ...(role.label !== undefined ? { label: role.label } : {}),
  });
}

function accelerator(ctx: HalContext, role: AcceleratorRole): AcceleratorControl {
  switch (role.driver) {
    case 'nvidia-smi':
      return nvidiaSmiAccelerator(ctx, {
        ...(role.index !== undefined ? { index: role.index } : {}),
        ...(role.uuid !== undefined ? { uuid: role.uuid } : {}),
      });
    case 'jetson': {
      const { driver: _driver, ...options } = role;
      return jetsonAccelerator(ctx, options);
    }
    case 'cpufreq':
      return cpufreqAccelerator(ctx, {
        policy: role.policy,
        temperature: temperature(ctx, role.temperature),
        ...(role.power ? { power: rail(ctx, role.power) } : {}),
      });
  }
}

function watchdog(ctx: HalContext, role: WatchdogRole): Watchdog {
  return role.driver === 'systemd'
    ? systemdWatchdog(ctx, {})
    : devWatchdog(ctx, role.path !== undefined ? { path: role.path } : {});
}

function mapValues<T, U>(record: Readonly<Record<string, T>>, f: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, f(value)]));
}

/** The HAL context a board's drivers run in. */
export function boardContext(env: BoardEnvironment): HalContext {
  return halContext({
    now: env.now,
    ...(env.root !== undefined ? { root: env.root } : {}),
    ...(env.env !== undefined ? { env: env.env } : {}),
  });
}

/** Opens every role of a spec on its driver. Nothing is read yet: a role whose device is absent reads `failed`. */
export function openLinuxDevices(
  spec: LinuxBoardSpec,
  env: BoardEnvironment,
): {
  devices: HalDevices;
  close(): Promise<void>;
} {
  const ctx = boardContext(env);
  const loadSwitches = (spec.loadSwitches ?? []).map((role) =>
    gpioLoadSwitch(ctx, {
      name: role.name,
      chip: role.chip,
      line: role.line,
      ...(role.activeLow !== undefined ? { activeLow: role.activeLow } : {}),
      ...(role.initial !== undefined ? { initial: role.initial } : {}),
    }),
  );
  const dog = spec.watchdog ? watchdog(ctx, spec.watchdog) : undefined;
  const devices: HalDevices = {
    ...(spec.accelerator ? { accelerator: accelerator(ctx, spec.accelerator) } : {}),
    ...(spec.battery ? { battery: powerSupplyBattery(ctx, spec.battery) satisfies Battery } : {}),
    ...(spec.busMonitor ? { busMonitor: rail(ctx, spec.busMonitor) } : {}),
    ...(spec.solar ? { solar: powerSupplySolar(ctx, { name: spec.solar.name }) satisfies SolarInput } : {}),
    ...(spec.temperatures
      ? { temperatures: mapValues(spec.temperatures, (role) => temperature(ctx, role)) }
      : {}),
    ...(spec.powerRails ? { powerRails: mapValues(spec.powerRails, (role) => rail(ctx, role)) } : {}),
    ...(loadSwitches.length > 0 ? { loadSwitches: loadSwitches satisfies readonly LoadSwitch[] } : {}),
    ...(dog ? { watchdog: dog } : {}),
  };
  return {
    devices,
    async close() {
      await Promise.allSettled([...loadSwitches.map((load) => load.close()), dog?.close()]);
    },
  };
}

/** A board file for a Linux machine: the roles it fills, checked by the compiler. */
export function defineLinuxBoard(spec: LinuxBoardSpec): LinuxBoardDefinition {
  return {
    name: spec.name,
    description: spec.description,
    spec,
    ...(spec.link ? { link: spec.link } : {}),
    open: (env) => openLinuxDevices(spec, env),
  };
}
