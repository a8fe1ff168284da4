/**
 * The kernel's thermal framework (/sys/class/thermal): thermal zones as temperature sensors with their trip points,
 * and cooling devices (fans, cpufreq/devfreq clamps) as settable states.
 *
 * Zones and cooling devices are numbered in probe order, which differs between kernels and boards, so a board
 * names them by `type` (`cpu-thermal`, `GPU-therm`, `x86_pkg_temp`); the directory is found on first use and found
 * again if it disappears (a driver rebound under a new number).
 */
import { join } from 'node:path';
import {
  errorText,
  gradedReader,
  type HalContext,
  isGone,
  listDir,
  PLAUSIBLE_CELSIUS,
  quietly,
  readInteger,
  readOptionalInteger,
  readText,
  relocating,
  SENSOR_HOLD_LAST_GOOD_MS,
  under,
} from '../io.js';
import type { ActuationResult, DeviceInfo, Reading, TemperatureSensor, TripPoint } from '../types.js';

const THERMAL_CLASS = '/sys/class/thermal';

export interface ThermalZoneEntry {
  /** The directory name, `thermal_zone0`. */
  readonly name: string;
  /** The zone's `type` attribute (`cpu-thermal`, `GPU-therm`); empty when it cannot be read. */
  readonly type: string;
  readonly path: string;
}

export interface CoolingDeviceEntry {
  /** The directory name, `cooling_device0`. */
  readonly name: string;
  /** The device's `type` attribute (`pwm-fan`, `Processor`, `intel_powerclamp`); empty when unreadable. */
  readonly type: string;
  readonly path: string;
  readonly curState?: number;
  readonly maxState?: number;
}

export interface ThermalZoneSelector {
  /** A directory name (`thermal_zone3`) or a zone `type` (`cpu-thermal`). */
  readonly zone: string;
  /** Which of several zones of the same type (in kernel order), default 0. */
  readonly index?: number;
}

export interface CoolingDeviceSelector {
  /** A directory name (`cooling_device0`) or a device `type` (`pwm-fan`). */
  readonly device: string;
  /** Which of several devices of the same type (in kernel order), default 0. */
  readonly index?: number;
}

export interface CoolingState {
  /** The state in force (`cur_state`), 0 = no cooling. */
  readonly state: number;
  /** The highest state the device accepts (`max_state`). */
  readonly maxState: number;
}

/** A thermal cooling device: a fan's speed step, a CPU or GPU frequency clamp. */
export interface CoolingDevice {
  readonly info: DeviceInfo;
  read(): Promise<Reading<CoolingState>>;
  /** Sets `cur_state`; states outside 0..max_state are refused without writing. Never rejects. */
  set(state: number): Promise<ActuationResult>;
}

/** Thermal zones (`/sys/class/thermal/thermal_zoneN`) with their `type`, in kernel order. */
export async function listThermalZones(ctx: HalContext): Promise<ThermalZoneEntry[]> {
  const dir = under(ctx, THERMAL_CLASS);
  const names = (await listDir(ctx, dir)).filter((name) => /^thermal_zone\d+$/.test(name));
  return Promise.all(
    names.map(async (name) => {
      const path = join(dir, name);
      return { name, type: (await quietly(readText(ctx, join(path, 'type')))) ?? '', path };
    }),
  );
}

/**
 * Cooling devices (`/sys/class/thermal/cooling_deviceN`) with `type`, `cur_state` and `max_state` (unitless steps),
 * in kernel order.
 */
export async function listCoolingDevices(ctx: HalContext): Promise<CoolingDeviceEntry[]> {
  const dir = under(ctx, THERMAL_CLASS);
  const names = (await listDir(ctx, dir)).filter((name) => /^cooling_device\d+$/.test(name));
  return Promise.all(
    names.map(async (name) => {
      const path = join(dir, name);
      const [type, curState, maxState] = await Promise.all([
        quietly(readText(ctx, join(path, 'type'))),
        quietly(readInteger(ctx, join(path, 'cur_state'))),
        quietly(readInteger(ctx, join(path, 'max_state'))),
      ]);
      return {
        name,
        type: type ?? '',
        path,
        ...(curState !== undefined ? { curState } : {}),
        ...(maxState !== undefined ? { maxState } : {}),
      };
    }),
  );
}

/**
 * A thermal zone as a temperature sensor. The kernel's `temp` is in millidegrees Celsius, as are
 * `trip_point_N_temp` and `trip_point_N_hyst`. Nothing is read until the first `read()`: a zone that does not exist
 * gives `failed` readings that name it, rather than an exception at start-up.
 */
export function thermalZone(ctx: HalContext, selector: ThermalZoneSelector): TemperatureSensor {
  let info: DeviceInfo = { source: describeSelector(selector.zone, selector.index), driver: 'thermal-zone' };
  const withZone = relocating(async () => {
    const zone = pick(await listThermalZones(ctx), selector.zone, selector.index ?? 0, /^thermal_zone\d+$/);
    if (!zone) throw new Error(await missingZoneMessage(ctx, selector));
    info = { source: `${zone.name} (${zone.type})`, driver: 'thermal-zone' };
    return zone;
  });
  const read = gradedReader(
    ctx,
    () => withZone(async (zone) => (await readAttribute(ctx, zone, 'temp', readInteger)) / 1000),
    { holdLastGoodMs: SENSOR_HOLD_LAST_GOOD_MS, plausible: PLAUSIBLE_CELSIUS },
  );
  return {
    get info() {
      return info;
    },
    read,
    /** Rejects when the zone or one of its trip points cannot be read: a missing trip is not "no trip". */
    trips: () =>
      withZone(async (zone) => {
        const ids = (await listDir(ctx, zone.path))
          .map((file) => /^trip_point_(\d+)_temp$/.exec(file)?.[1])
          .filter((id): id is string => id !== undefined)
          .map(Number)
          .sort((a, b) => a - b);
        return Promise.all(ids.map((id) => readTrip(ctx, zone, id)));
      }),
  };
}

/**
 * A thermal cooling device. `cur_state` and `max_state` are unitless steps (0 = no cooling); `max_state` is read
 * again on every read and set, since cpufreq cooling devices change it with the frequency table.
 */
export function coolingDevice(ctx: HalContext, selector: CoolingDeviceSelector): CoolingDevice {
  let info: DeviceInfo = {
    source: describeSelector(selector.device, selector.index),
    driver: 'thermal-cooling',
  };
  const withDevice = relocating(async () => {
    const device = pick(
      await listCoolingDevices(ctx),
      selector.device,
      selector.index ?? 0,
      /^cooling_device\d+$/,
    );
    if (!device) throw new Error(await missingCoolingMessage(ctx, selector));
    info = { source: `${device.name} (${device.type})`, driver: 'thermal-cooling' };
    return device;
  });
  const read = gradedReader(
    ctx,
    () =>
      withDevice(async (device) => ({
        state: await readAttribute(ctx, device, 'cur_state', readInteger),
        maxState: await readAttribute(ctx, device, 'max_state', readInteger),
      })),
    {
      holdLastGoodMs: SENSOR_HOLD_LAST_GOOD_MS,
      plausible: ({ state, maxState }) =>
        state < 0 || state > maxState ? `cur_state ${state} is outside 0..${maxState}` : undefined,
    },
  );
  return {
    get info() {
      return info;
    },
    read,
    async set(state) {
      if (!Number.isInteger(state))
        return { ok: false, error: `cooling state must be an integer, not ${state}` };
      try {
        return await withDevice(async (device): Promise<ActuationResult> => {
          const maxState = await readAttribute(ctx, device, 'max_state', readInteger);
          if (state < 0 || state > maxState) {
            return {
              ok: false,
              error: `${info.source}: state ${state} is outside 0..${maxState} (max_state)`,
            };
          }
          await ctx.io.writeFile(join(device.path, 'cur_state'), `${state}\n`);
          return { ok: true };
        });
      } catch (error) {
        return { ok: false, error: `${info.source}: ${errorText(error)}` };
      }
    },
  };
}

async function readTrip(ctx: HalContext, zone: ThermalZoneEntry, id: number): Promise<TripPoint> {
  const prefix = `trip_point_${id}_`;
  const [milliC, type, hystMilliC] = await Promise.all([
    readAttribute(ctx, zone, `${prefix}temp`, readInteger),
    readAttribute(ctx, zone, `${prefix}type`, readText),
    readOptionalInteger(ctx, join(zone.path, `${prefix}hyst`)),
  ]);
  return {
    type,
    celsius: milliC / 1000,
    ...(hystMilliC !== undefined ? { hysteresisC: hystMilliC / 1000 } : {}),
  };
}

/** Reads one attribute of a zone or device; a missing file says which, and keeps ENOENT so that it relocates. */
async function readAttribute<T>(
  ctx: HalContext,
  entry: { readonly name: string; readonly type: string; readonly path: string },
  file: string,
  reader: (ctx: HalContext, path: string) => Promise<T>,
): Promise<T> {
  try {
    return await reader(ctx, join(entry.path, file));
  } catch (error) {
    if (!isGone(error)) throw error;
    const missing = new Error(
      `${entry.name} (${entry.type}) has no readable '${file}'`,
    ) as NodeJS.ErrnoException;
    missing.code = (error as NodeJS.ErrnoException).code;
    throw missing;
  }
}

function pick<E extends { readonly name: string; readonly type: string }>(
  entries: readonly E[],
  wanted: string,
  index: number,
  byName: RegExp,
): E | undefined {
  if (byName.test(wanted)) return entries.find((entry) => entry.name === wanted);
  return entries.filter((entry) => entry.type === wanted)[index];
}

function describeSelector(wanted: string, index: number | undefined): string {
  return index ? `${wanted} [${index}]` : wanted;
}

async function missingZoneMessage(ctx: HalContext, selector: ThermalZoneSelector): Promise<string> {
  const zones = await quietly(listThermalZones(ctx));
  const have = zones?.length ? zones.map((zone) => `${zone.name} (${zone.type})`).join(', ') : 'none';
  return (
    `thermal zone '${describeSelector(selector.zone, selector.index)}' not found in ` +
    `${under(ctx, THERMAL_CLASS)} (zones: ${have}); set the board's zone to one of these types, ` +
    `or load the sensor's driver`
  );
}

async function missingCoolingMessage(ctx: HalContext, selector: CoolingDeviceSelector): Promise<string> {
  const devices = await quietly(listCoolingDevices(ctx));
  const have = devices?.length
    ? devices.map((device) => `${device.name} (${device.type})`).join(', ')
    : 'none';
  return (
    `cooling device '${describeSelector(selector.device, selector.index)}' not found in ` +
    `${under(ctx, THERMAL_CLASS)} (devices: ${have}); set the board's cooling device to one of these types, ` +
    `or load its driver`
  );
}
