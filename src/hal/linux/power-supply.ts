/**
 * The kernel's power-supply class (/sys/class/power_supply): batteries (fuel gauges, ACPI, smart batteries) and
 * inputs (Mains, USB, a charger's solar input). Names (`BAT0`, `AC`, `bq25895-charger`) are stable, so supplies
 * are selected by name.
 *
 * Kernel units: `voltage_*` microvolts, `current_*` microamps, `power_*` microwatts, `energy_*` microwatt-hours,
 * `charge_*` microamp-hours, `capacity` percent, `temp` tenths of a degree Celsius.
 */
import { join } from 'node:path';
import {
  gradedReader,
  type HalContext,
  listDir,
  PLAUSIBLE_AMPS,
  PLAUSIBLE_CELSIUS,
  PLAUSIBLE_VOLTS,
  quietly,
  readInteger,
  readOptionalInteger,
  readOptionalText,
  readText,
  SENSOR_HOLD_LAST_GOOD_MS,
  under,
  within,
} from '../io.js';
import type { Battery, BatterySample, BatteryStatus, DeviceInfo, SolarInput, SolarSample } from '../types.js';

const POWER_SUPPLY_CLASS = '/sys/class/power_supply';

const PLAUSIBLE_SOC = within(0, 1, '(state of charge)');
/**
 * Gauges report energy_now a little above energy_full after a full charge (the kernel's ACPI driver clamps its own
 * capacity the same way); beyond this the figures are wrong, not optimistic.
 */
const FULL_OVERSHOOT = 1.1;

/** What a supply reports now, in SI units; `amps` keeps the driver's sign. Absent where the driver has no file. */
export interface PowerSupplyReadings {
  /** The `status` attribute as the kernel writes it (`Charging`, `Discharging`, `Full`, ...). */
  readonly status?: string;
  /** 0..1, from `capacity`, or from `energy_now`/`energy_full` or `charge_now`/`charge_full`. */
  readonly stateOfCharge?: number;
  readonly volts?: number;
  readonly amps?: number;
  readonly watts?: number;
  readonly celsius?: number;
}

export interface PowerSupplyEntry {
  /** The directory name: `BAT0`, `AC`, `ucsi-source-psy-USBC000:001`. */
  readonly name: string;
  /** The `type` attribute: `Battery`, `Mains`, `USB`, `UPS`, `Wireless`; empty when unreadable. */
  readonly type: string;
  readonly path: string;
  readonly online?: boolean;
  readonly present?: boolean;
  readonly readings: PowerSupplyReadings;
}

export interface PowerSupplyBatterySelector {
  /** The supply's name: `BAT0`, `bq27441-0`. */
  readonly name: string;
  /**
   * Flips the sign of the current where the status does not settle it (`Unknown`, `Full`, `Not charging`): for
   * drivers that report discharge as positive against the ABI.
   */
  readonly invertCurrent?: boolean;
}

export interface PowerSupplySolarSelector {
  /** The supply's name: the charger input the array feeds (`bq25895-charger`, `AC`). */
  readonly name: string;
}

/** The power supplies (`/sys/class/power_supply/*`) with their type, online/present flags and present readings. */
export async function listPowerSupplies(ctx: HalContext): Promise<PowerSupplyEntry[]> {
  const classDir = under(ctx, POWER_SUPPLY_CLASS);
  return Promise.all(
    (await listDir(ctx, classDir)).map(async (name) => {
      const path = join(classDir, name);
      const [type, online, present, status, stateOfCharge, microV, microA, microW, deciC] = await Promise.all(
        [
          quietly(readText(ctx, join(path, 'type'))),
          quietly(readInteger(ctx, join(path, 'online'))),
          quietly(readInteger(ctx, join(path, 'present'))),
          quietly(readText(ctx, join(path, 'status'))),
          quietly(stateOfChargeAt(ctx, path)),
          quietly(firstInteger(ctx, path, ['voltage_now', 'voltage_avg'])),
          quietly(firstInteger(ctx, path, ['current_now', 'current_avg'])),
          quietly(firstInteger(ctx, path, ['power_now', 'power_avg'])),
          quietly(readInteger(ctx, join(path, 'temp'))),
        ],
      );
      const readings: PowerSupplyReadings = {
        ...(status !== undefined ? { status } : {}),
        ...(stateOfCharge !== undefined ? { stateOfCharge } : {}),
        ...(microV !== undefined ? { volts: microV / 1e6 } : {}),
        ...(microA !== undefined ? { amps: microA / 1e6 } : {}),
        ...(microW !== undefined ? { watts: microW / 1e6 } : {}),
        ...(deciC !== undefined ? { celsius: deciC / 10 } : {}),
      };
      return {
        name,
        type: type ?? '',
        path,
        ...(online !== undefined ? { online: online !== 0 } : {}),
        ...(present !== undefined ? { present: present !== 0 } : {}),
        readings,
      };
    }),
  );
}

/**
 * A battery from the power-supply class. `capacity` (percent) gives the state of charge, or failing it
 * `energy_now`/`energy_full` (uWh) or `charge_now`/`charge_full` (uAh); `voltage_now` is in uV, `current_now` in uA
 * (or, without it, `power_now` in uW over the voltage), `temp` in tenths of a degree. The current's sign follows
 * `status` (negative while discharging, positive while charging), whatever the driver's own convention.
 */
export function powerSupplyBattery(ctx: HalContext, selector: PowerSupplyBatterySelector): Battery {
  const info: DeviceInfo = { source: `power_supply ${selector.name}`, driver: 'power-supply' };
  const path = supplyPath(ctx, selector.name);
  const read = gradedReader(
    ctx,
    () =>
      explainMissing(ctx, selector.name, async (): Promise<BatterySample> => {
        const type = await readText(ctx, join(path, 'type'));
        if (type !== 'Battery') {
          throw new Error(
            `${selector.name} is a ${type} supply, not a battery: check the board's battery name`,
          );
        }
        const [present, statusText, stateOfCharge, microV, microA, microW, deciC] = await Promise.all([
          readOptionalInteger(ctx, join(path, 'present')),
          readOptionalText(ctx, join(path, 'status')),
          stateOfChargeAt(ctx, path),
          firstInteger(ctx, path, ['voltage_now', 'voltage_avg']),
          firstInteger(ctx, path, ['current_now', 'current_avg']),
          firstInteger(ctx, path, ['power_now', 'power_avg']),
          readOptionalInteger(ctx, join(path, 'temp')),
        ]);
        if (present === 0) throw new Error(`${selector.name} is not present (present=0): battery removed?`);
        if (stateOfCharge === undefined) {
          throw new Error(
            `${selector.name} has no capacity, energy_now/energy_full or charge_now/charge_full`,
          );
        }
        if (microV === undefined) throw new Error(`${selector.name} has no voltage_now`);
        const volts = microV / 1e6;
        let rawAmps: number;
        if (microA !== undefined) rawAmps = microA / 1e6;
        else if (microW !== undefined) rawAmps = volts > 0 ? microW / 1e6 / volts : 0;
        else throw new Error(`${selector.name} has neither current_now nor power_now`);
        const status = batteryStatus(statusText);
        return {
          stateOfCharge,
          volts,
          amps: signedCurrent(rawAmps, status, selector.invertCurrent ?? false),
          ...(deciC !== undefined ? { celsius: deciC / 10 } : {}),
          status,
        };
      }),
    {
      holdLastGoodMs: SENSOR_HOLD_LAST_GOOD_MS,
      plausible: (sample) =>
        PLAUSIBLE_SOC(sample.stateOfCharge) ??
        PLAUSIBLE_VOLTS(sample.volts) ??
        PLAUSIBLE_AMPS(sample.amps) ??
        (sample.celsius !== undefined ? PLAUSIBLE_CELSIUS(sample.celsius) : undefined),
    },
  );
  return { info, read };
}

/**
 * The solar array's input, as a power-supply input (Mains, USB, a charger's input): `online` (0 offline, 1 or 2
 * online), `voltage_now` uV, `current_now` uA, `power_now` uW. Watts are volts times amps where there is no power
 * file, amps watts over volts where there is no current file. Offline, a quantity the driver does not report
 * (many return ENODATA then) reads as 0.
 */
export function powerSupplySolar(ctx: HalContext, selector: PowerSupplySolarSelector): SolarInput {
  const info: DeviceInfo = { source: `power_supply ${selector.name}`, driver: 'power-supply' };
  const path = supplyPath(ctx, selector.name);
  const read = gradedReader(
    ctx,
    () =>
      explainMissing(ctx, selector.name, async (): Promise<SolarSample> => {
        const type = await readText(ctx, join(path, 'type'));
        if (type === 'Battery') {
          throw new Error(`${selector.name} is a battery, not an input: use it as the battery, not as solar`);
        }
        const onlineFlag = await readOptionalInteger(ctx, join(path, 'online'));
        const [microV, microA, microW] = await Promise.all(
          ['voltage_now', 'current_now', 'power_now'].map((file) =>
            onlineFlag === 0
              ? optionalWhileOffline(readOptionalInteger(ctx, join(path, file)))
              : readOptionalInteger(ctx, join(path, file)),
          ),
        );
        const volts = microV !== undefined ? microV / 1e6 : undefined;
        const givenWatts = microW !== undefined ? microW / 1e6 : undefined;
        const amps =
          microA !== undefined
            ? microA / 1e6
            : volts !== undefined && volts > 0 && givenWatts !== undefined
              ? givenWatts / volts
              : undefined;
        const watts = givenWatts ?? (volts !== undefined && amps !== undefined ? volts * amps : undefined);
        if (onlineFlag !== 0 && (volts === undefined || amps === undefined || watts === undefined)) {
          const missing = volts === undefined ? 'voltage_now' : 'current_now or power_now';
          throw new Error(`${selector.name} has no ${missing}: it cannot be read as a solar input`);
        }
        // Without an online file, an input that delivers next to nothing is as good as offline.
        const online = onlineFlag !== undefined ? onlineFlag !== 0 : (watts ?? 0) > 0.05;
        return { online, volts: volts ?? 0, amps: amps ?? 0, watts: watts ?? 0 };
      }),
    {
      holdLastGoodMs: SENSOR_HOLD_LAST_GOOD_MS,
      plausible: (sample) => PLAUSIBLE_VOLTS(sample.volts) ?? PLAUSIBLE_AMPS(sample.amps),
    },
  );
  return { info, read };
}

function batteryStatus(text: string | undefined): BatteryStatus {
  switch (text) {
    case 'Charging':
      return 'charging';
    case 'Discharging':
      return 'discharging';
    case 'Full':
      return 'full';
    case 'Not charging':
      return 'not-charging';
    default:
      return 'unknown';
  }
}

/** Positive into the battery: drivers disagree on the sign (ACPI reports an unsigned rate), the status does not. */
function signedCurrent(raw: number, status: BatteryStatus, invert: boolean): number {
  const magnitude = Math.abs(raw);
  if (status === 'discharging') return magnitude === 0 ? 0 : -magnitude;
  if (status === 'charging') return magnitude;
  return invert && raw !== 0 ? -raw : raw;
}

async function stateOfChargeAt(ctx: HalContext, path: string): Promise<number | undefined> {
  const percent = await readOptionalInteger(ctx, join(path, 'capacity'));
  if (percent !== undefined) return percent / 100;
  for (const [now, full] of [
    ['energy_now', 'energy_full'],
    ['charge_now', 'charge_full'],
  ] as const) {
    const [level, capacity] = await Promise.all([
      readOptionalInteger(ctx, join(path, now)),
      readOptionalInteger(ctx, join(path, full)),
    ]);
    if (level === undefined || capacity === undefined) continue;
    if (capacity <= 0)
      throw new Error(`${full} is ${capacity}: the gauge has not learnt the battery's capacity`);
    const ratio = level / capacity;
    return ratio > 1 && ratio <= FULL_OVERSHOOT ? 1 : ratio;
  }
  return undefined;
}

async function firstInteger(
  ctx: HalContext,
  path: string,
  files: readonly string[],
): Promise<number | undefined> {
  for (const file of files) {
    const value = await readOptionalInteger(ctx, join(path, file));
    if (value !== undefined) return value;
  }
  return undefined;
}

function supplyPath(ctx: HalContext, name: string): string {
  return under(ctx, join(POWER_SUPPLY_CLASS, name));
}

/** Runs a read; when the supply itself is missing, says so and what is there instead. */
async function explainMissing<T>(ctx: HalContext, name: string, sample: () => Promise<T>): Promise<T> {
  // A name from a board file must not reach outside the class directory.
  if (name.includes('/') || name === '.' || name === '..' || name === '') {
    throw new Error(`'${name}' is not a power supply name: give the directory name in ${POWER_SUPPLY_CLASS}`);
  }
  try {
    return await sample();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code !== 'ENOENT' && code !== 'ENODEV') throw error;
    const present = await quietly(listDir(ctx, under(ctx, POWER_SUPPLY_CLASS)));
    if (present?.includes(name)) throw error;
    throw new Error(
      `power supply '${name}' not found in ${under(ctx, POWER_SUPPLY_CLASS)} ` +
        `(supplies: ${present?.length ? present.join(', ') : 'none'}); set the board's supply name to one of these, ` +
        `or load the gauge's or charger's driver`,
    );
  }
}

/** Chargers answer ENODATA or EINVAL for the input's measurements while it is offline. */
async function optionalWhileOffline(read: Promise<number | undefined>): Promise<number | undefined> {
  try {
    return await read;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENODATA' || code === 'EINVAL') return undefined;
    throw error;
  }
}
