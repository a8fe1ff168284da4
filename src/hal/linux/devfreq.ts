/**
 * devfreq: the kernel's generic frequency scaling for devices other than CPUs, which on SoC boards includes the
 * GPU/NPU (`17000000.gpu` on a Jetson Orin, `ff9a0000.gpu` on a Rockchip). The sysfs class is
 * `/sys/class/devfreq/<device>/` and every frequency in it is in Hz; this driver speaks MHz to the components.
 */
import {
  errorText,
  gradedReader,
  type HalContext,
  listDir,
  readInteger,
  readOptionalText,
  under,
} from '../io.js';
import type { ActuationResult, DeviceInfo, Reading } from '../types.js';

const CLASS_DIR = '/sys/class/devfreq';

/** One devfreq device as the kernel reports it, frequencies in Hz. */
export interface DevfreqEntry {
  /** The entry under /sys/class/devfreq, usually `<address>.<function>`: `17000000.gpu`. */
  readonly name: string;
  /** The sysfs directory (under the context's root). */
  readonly path: string;
  readonly governor?: string;
  readonly curHz: number;
  readonly minHz: number;
  readonly maxHz: number;
  /** Ascending; empty when the driver does not list its operating points. */
  readonly availableHz: readonly number[];
}

/** What `DevfreqDevice.read()` reports, in MHz. */
export interface DevfreqSample {
  readonly curMHz: number;
  readonly minMHz: number;
  readonly maxMHz: number;
  /** Ascending; empty when the driver does not list its operating points. */
  readonly availableMHz: readonly number[];
  readonly governor?: string;
}

export interface DevfreqDevice {
  readonly info: DeviceInfo;
  /** The current, minimum and maximum frequency (kernel: `cur_freq`, `min_freq`, `max_freq` in Hz) in MHz. */
  read(): Promise<Reading<DevfreqSample>>;
  /**
   * Caps the device's frequency: writes `max_freq` (Hz) with the highest available frequency at or below `mhz`.
   * A request below the lowest available frequency is refused without writing.
   */
  setCeiling(mhz: number): Promise<ActuationResult>;
}

/** `available_frequencies`: space-separated Hz, in whatever order the driver keeps its table; returned ascending. */
function parseFrequencies(text: string): number[] {
  const values = text
    .split(/\s+/)
    .filter((word) => /^\d+$/.test(word))
    .map((word) => Number.parseInt(word, 10));
  return [...new Set(values)].sort((a, b) => a - b);
}

async function readEntry(ctx: HalContext, name: string, path: string): Promise<DevfreqEntry> {
  const [curHz, minHz, maxHz, available, governor] = await Promise.all([
    readInteger(ctx, `${path}/cur_freq`),
    readInteger(ctx, `${path}/min_freq`),
    readInteger(ctx, `${path}/max_freq`),
    readOptionalText(ctx, `${path}/available_frequencies`),
    readOptionalText(ctx, `${path}/governor`),
  ]);
  return {
    name,
    path,
    ...(governor ? { governor } : {}),
    curHz,
    minHz,
    maxHz,
    availableHz: parseFrequencies(available ?? ''),
  };
}

/**
 * Every devfreq device under `/sys/class/devfreq`, frequencies in Hz as the kernel gives them. Entries whose
 * frequencies cannot be read are left out (a probe lists what a driver could use).
 */
export async function listDevfreq(ctx: HalContext): Promise<DevfreqEntry[]> {
  const found: DevfreqEntry[] = [];
  for (const name of await listDir(ctx, under(ctx, CLASS_DIR))) {
    try {
      found.push(await readEntry(ctx, name, under(ctx, `${CLASS_DIR}/${name}`)));
    } catch {
      // Not a usable devfreq device (an attribute missing or unreadable): nothing a board could map.
    }
  }
  return found;
}

const HZ_PER_MHZ = 1_000_000;

/**
 * A devfreq device: `device` is the entry name under /sys/class/devfreq (`17000000.gpu`), or the part after the
 * address (`gpu`) when exactly one entry ends with it, since the address differs between boards of a family.
 * Reads `cur_freq`/`min_freq`/`max_freq`/`available_frequencies` (Hz) and reports MHz; `setCeiling` writes
 * `max_freq` in Hz. A failed read stands in the last good value as `stale` for 5 s.
 */
export function devfreqDevice(ctx: HalContext, options: { device: string }): DevfreqDevice {
  const { device } = options;
  let resolved: string | undefined;

  // Resolved on first use rather than at construction, because the lookup is a directory read (async).
  const directory = async (): Promise<string> => {
    if (resolved) return resolved;
    const entries = await listDir(ctx, under(ctx, CLASS_DIR));
    const match = entries.includes(device)
      ? device
      : (() => {
          const suffixed = entries.filter((entry) => entry.endsWith(`.${device}`));
          return suffixed.length === 1 ? suffixed[0] : undefined;
        })();
    if (match === undefined) {
      throw new Error(
        `no devfreq device '${device}' under ${CLASS_DIR} (present: ${entries.join(', ') || 'none'})`,
      );
    }
    resolved = under(ctx, `${CLASS_DIR}/${match}`);
    return resolved;
  };

  const read = gradedReader<DevfreqSample>(
    ctx,
    async () => {
      const path = await directory();
      const entry = await readEntry(ctx, device, path);
      return {
        curMHz: entry.curHz / HZ_PER_MHZ,
        minMHz: entry.minHz / HZ_PER_MHZ,
        maxMHz: entry.maxHz / HZ_PER_MHZ,
        availableMHz: entry.availableHz.map((hz) => hz / HZ_PER_MHZ),
        ...(entry.governor ? { governor: entry.governor } : {}),
      };
    },
    { holdLastGoodMs: 5000 },
  );

  return {
    info: { source: `devfreq ${device}`, driver: 'devfreq' },
    read,
    async setCeiling(mhz) {
      if (!Number.isFinite(mhz) || mhz <= 0) {
        return {
          ok: false,
          error: `devfreq ${device}: a ceiling must be a positive frequency, got ${mhz} MHz`,
        };
      }
      let path: string;
      let available: number[];
      try {
        path = await directory();
        available = parseFrequencies((await readOptionalText(ctx, `${path}/available_frequencies`)) ?? '');
      } catch (error) {
        return { ok: false, error: `devfreq ${device}: ${errorText(error)}` };
      }
      const requestHz = Math.round(mhz * HZ_PER_MHZ);
      let targetHz = requestHz;
      // With an operating-point table the kernel would round a value in between on its own, but differently
      // between versions (up on some); choosing the table entry ourselves makes the cap never exceed the request.
      if (available.length > 0) {
        const fitting = available.filter((hz) => hz <= requestHz);
        const chosen = fitting[fitting.length - 1];
        if (chosen === undefined) {
          return {
            ok: false,
            error: `devfreq ${device}: ${mhz} MHz is below the lowest available frequency, ${available[0]! / HZ_PER_MHZ} MHz`,
          };
        }
        targetHz = chosen;
      }
      try {
        await ctx.io.writeFile(`${path}/max_freq`, String(targetHz));
        return { ok: true };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const hint =
          code === 'EACCES' || code === 'EPERM'
            ? ' (writing max_freq needs root, or a udev rule granting the service write access)'
            : code === 'EINVAL'
              ? ' (the kernel rejected the value: outside the device range or below min_freq)'
              : '';
        return {
          ok: false,
          error: `devfreq ${device}: writing ${targetHz} Hz to max_freq failed: ${errorText(error)}${hint}`,
        };
      }
    },
  };
}
