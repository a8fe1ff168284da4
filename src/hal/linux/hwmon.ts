/**
 * Hardware monitoring chips (/sys/class/hwmon): INA219/INA226 rail monitors (the ina2xx driver), INA3221 triple
 * monitors (Jetson boards' VDD_IN, VDD_CPU_GPU_CV, VDD_SOC), and hwmon temperatures.
 *
 * The hwmonN number is handed out in probe order and changes between boots, so chips are selected by their `name`
 * attribute. Several chips of one name (two INA226 on one bus) are told apart by `index`, counted in the order of
 * their device paths (bus and address), which, unlike hwmonN, does not change between boots.
 */
import { join, relative, resolve } from 'node:path';
import {
  gradedReader,
  type HalContext,
  isGone,
  listDir,
  PLAUSIBLE_AMPS,
  PLAUSIBLE_CELSIUS,
  PLAUSIBLE_VOLTS,
  quietly,
  readInteger,
  readOptionalInteger,
  readText,
  relocating,
  SENSOR_HOLD_LAST_GOOD_MS,
  under,
} from '../io.js';
import type { DeviceInfo, PowerMonitor, PowerSample, TemperatureSensor } from '../types.js';

const HWMON_CLASS = '/sys/class/hwmon';

export type HwmonChannelKind = 'in' | 'curr' | 'power' | 'temp';

export interface HwmonChannel {
  /** `in` (millivolts), `curr` (milliamps), `power` (microwatts) or `temp` (millidegrees Celsius). */
  readonly kind: HwmonChannelKind;
  /** The N of `{kind}N_input`. */
  readonly index: number;
  /** `{kind}N_label`, when the driver (or the device tree) names the channel. */
  readonly label?: string;
}

export interface HwmonEntry {
  /** The directory name, `hwmon2`: not stable between boots. */
  readonly name: string;
  /** The chip, from the `name` attribute (`ina226`, `ina3221`, `cpu_thermal`); empty when unreadable. */
  readonly chip: string;
  readonly path: string;
  /** The device the chip hangs off (`/sys/devices/platform/.../i2c-1/1-0040`), when the class entry is a link. */
  readonly device?: string;
  readonly channels: readonly HwmonChannel[];
}

export interface HwmonChipSelector {
  /** The chip's `name` attribute: `ina226`, `ina3221`, `nvme`. */
  readonly chip: string;
  /** Which of several chips of that name, in device-path order; default 0. */
  readonly index?: number;
}

export interface HwmonPowerSelector extends HwmonChipSelector {
  /** 1-based channel: 1 on an INA219/INA226 (in1 is the bus voltage there), 1..3 on an INA3221. Default 1. */
  readonly channel?: number;
  /** Selects the channel by its `inN_label` (`VDD_IN`, `VDD_CPU_GPU_CV`) instead of by number. */
  readonly label?: string;
}

export interface HwmonTemperatureSelector extends HwmonChipSelector {
  /** The N of `tempN_input`, default 1. */
  readonly channel?: number;
  /** Selects the channel by its `tempN_label` (`Package id 0`, `Composite`) instead of by number. */
  readonly label?: string;
}

interface ChipDir {
  readonly name: string;
  readonly chip: string;
  readonly path: string;
  readonly device?: string;
}

interface Located {
  readonly dir: ChipDir;
  readonly channel: number;
  readonly label?: string;
}

/**
 * The hwmon chips (`/sys/class/hwmon/hwmonN`), with the channels each exposes: `inN_input` (mV), `currN_input`
 * (mA), `powerN_input` (uW) and `tempN_input` (m°C), and their `*_label` where present.
 */
export async function listHwmon(ctx: HalContext): Promise<HwmonEntry[]> {
  const chips = await scanChips(ctx);
  return Promise.all(chips.map(async (dir) => ({ ...dir, channels: await listChannels(ctx, dir.path) })));
}

/**
 * A rail monitor on an hwmon chip. Kernel units: `inN_input` millivolts (bus voltage: on the ina2xx driver in1,
 * since in0 is the shunt voltage), `currN_input` milliamps, `powerN_input` microwatts. Where the chip has no power
 * file (INA3221), watts are volts times amps; where it has no current file, amps are watts over volts.
 */
export function hwmonPowerMonitor(ctx: HalContext, selector: HwmonPowerSelector): PowerMonitor {
  let info: DeviceInfo = { source: describeSelector(selector), driver: 'hwmon' };
  const withChannel = relocating(async () => {
    const located = await locate(ctx, selector, 'in');
    info = { source: describeLocated(located), driver: 'hwmon' };
    return located;
  });
  const read = gradedReader(
    ctx,
    () =>
      withChannel(async ({ dir, channel }): Promise<PowerSample> => {
        const [milliV, milliA, microW] = await Promise.all([
          readAttribute(ctx, dir, `in${channel}_input`),
          readOptionalInteger(ctx, join(dir.path, `curr${channel}_input`)),
          readOptionalInteger(ctx, join(dir.path, `power${channel}_input`)),
        ]);
        const volts = milliV / 1000;
        if (milliA === undefined && microW === undefined) {
          throw new Error(
            `${dir.name} ${dir.chip} has neither curr${channel}_input nor power${channel}_input`,
          );
        }
        const watts = microW !== undefined ? microW / 1e6 : undefined;
        const amps =
          milliA !== undefined ? milliA / 1000 : volts !== 0 && watts !== undefined ? watts / volts : 0;
        return { volts, amps, watts: watts ?? volts * amps };
      }),
    {
      holdLastGoodMs: SENSOR_HOLD_LAST_GOOD_MS,
      plausible: ({ volts, amps }) => PLAUSIBLE_VOLTS(volts) ?? PLAUSIBLE_AMPS(amps),
    },
  );
  return {
    get info() {
      return info;
    },
    read,
  };
}

/** A temperature on an hwmon chip: `tempN_input` in millidegrees Celsius. */
export function hwmonTemperature(ctx: HalContext, selector: HwmonTemperatureSelector): TemperatureSensor {
  let info: DeviceInfo = { source: describeSelector(selector), driver: 'hwmon' };
  const withChannel = relocating(async () => {
    const located = await locate(ctx, selector, 'temp');
    info = { source: describeLocated(located), driver: 'hwmon' };
    return located;
  });
  const read = gradedReader(
    ctx,
    () =>
      withChannel(async ({ dir, channel }) => (await readAttribute(ctx, dir, `temp${channel}_input`)) / 1000),
    { holdLastGoodMs: SENSOR_HOLD_LAST_GOOD_MS, plausible: PLAUSIBLE_CELSIUS },
  );
  return {
    get info() {
      return info;
    },
    read,
  };
}

async function scanChips(ctx: HalContext): Promise<ChipDir[]> {
  const classDir = under(ctx, HWMON_CLASS);
  const names = (await listDir(ctx, classDir)).filter((name) => /^hwmon\d+$/.test(name));
  return Promise.all(
    names.map(async (name) => {
      const path = join(classDir, name);
      const [chip, target] = await Promise.all([
        quietly(readText(ctx, join(path, 'name'))),
        quietly(ctx.io.readlink(path)),
      ]);
      // The link ends in .../<device>/hwmon/hwmonN; the device part is what identifies the chip across boots.
      const device =
        target === undefined
          ? undefined
          : `/${relative(ctx.root, resolve(classDir, target))}`.replace(/\/hwmon\/hwmon\d+$/, '');
      return { name, chip: chip ?? '', path, ...(device !== undefined ? { device } : {}) };
    }),
  );
}

async function listChannels(ctx: HalContext, path: string): Promise<HwmonChannel[]> {
  const files = await listDir(ctx, path);
  const channels: HwmonChannel[] = [];
  for (const file of files) {
    const match = /^(in|curr|power|temp)(\d+)_input$/.exec(file);
    if (!match) continue;
    const kind = match[1] as HwmonChannelKind;
    const index = Number(match[2]);
    const label = files.includes(`${kind}${index}_label`)
      ? await quietly(readText(ctx, join(path, `${kind}${index}_label`)))
      : undefined;
    channels.push({ kind, index, ...(label !== undefined ? { label } : {}) });
  }
  return channels;
}

/** Finds the chip by name and index, then the channel by number or label. */
async function locate(
  ctx: HalContext,
  selector: HwmonPowerSelector | HwmonTemperatureSelector,
  kind: 'in' | 'temp',
): Promise<Located> {
  const chips = await scanChips(ctx);
  const index = selector.index ?? 0;
  const named = chips
    .filter((chip) => chip.chip === selector.chip)
    .sort((a, b) => naturalCompare(a.device ?? a.name, b.device ?? b.name));
  const dir = named[index];
  if (!dir) {
    const have = chips.length ? chips.map((chip) => `${chip.name} ${chip.chip}`).join(', ') : 'none';
    const which = named.length
      ? `only ${named.length} chip(s) named '${selector.chip}', no index ${index}`
      : `no hwmon chip named '${selector.chip}'`;
    throw new Error(
      `${which} in ${under(ctx, HWMON_CLASS)} (chips: ${have}); check the chip's 'name' attribute ` +
        `and that its driver is loaded (i2cdetect, the device tree overlay)`,
    );
  }
  if (selector.label === undefined) return { dir, channel: selector.channel ?? 1 };
  const channels = (await listChannels(ctx, dir.path)).filter((channel) => channel.kind === kind);
  const labelled = channels.filter((channel) => channel.label === selector.label);
  // The INA3221 labels its shunt-voltage channels (in4..in6) like the bus channels; the bus channel is the one
  // with a current beside it.
  const files = kind === 'in' ? await listDir(ctx, dir.path) : [];
  const withCurrent = labelled.filter((channel) => files.includes(`curr${channel.index}_input`));
  const chosen = withCurrent[0] ?? labelled[0];
  if (!chosen) {
    const labels = channels
      .filter((channel) => channel.label !== undefined)
      .map((channel) => `${kind}${channel.index} ${channel.label}`);
    throw new Error(
      `${dir.name} ${dir.chip} has no channel labelled '${selector.label}' ` +
        `(labels: ${labels.length ? labels.join(', ') : 'none'}); check the rail's label in the board file`,
    );
  }
  return { dir, channel: chosen.index, label: selector.label };
}

/** Reads one integer attribute; a missing file says which chip lacks it, and keeps ENOENT so that it relocates. */
async function readAttribute(ctx: HalContext, dir: ChipDir, file: string): Promise<number> {
  try {
    return await readInteger(ctx, join(dir.path, file));
  } catch (error) {
    if (!isGone(error)) throw error;
    const missing = new Error(
      `${dir.name} ${dir.chip} has no readable ${file} in ${dir.path}; check the channel number`,
    ) as NodeJS.ErrnoException;
    missing.code = (error as NodeJS.ErrnoException).code;
    throw missing;
  }
}

function describeSelector(selector: HwmonPowerSelector | HwmonTemperatureSelector): string {
  const which = selector.index ? `${selector.chip} [${selector.index}]` : selector.chip;
  if (selector.label !== undefined) return `${which} (${selector.label})`;
  return selector.channel !== undefined && selector.channel !== 1
    ? `${which} channel ${selector.channel}`
    : which;
}

function describeLocated({ dir, channel, label }: Located): string {
  const base = `${dir.name} ${dir.chip}`;
  if (label !== undefined) return `${base} channel ${channel} (${label})`;
  return channel !== 1 ? `${base} channel ${channel}` : base;
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
