/**
 * NVIDIA Jetson (Orin Nano, Orin NX, AGX Orin) as an accelerator. Jetsons have no nvidia-smi: the integrated
 * GPU is a devfreq device, its temperature a thermal zone, its power one rail of an INA3221 monitor, and its
 * power budget an nvpmodel mode. This driver reads those few sysfs attributes itself and runs `nvpmodel`.
 *
 * Throttle reasons are not reported by L4T, so they are inferred, deliberately simply:
 * - `sw-thermal`: the GPU is at or above its lowest passive trip point and runs below the hardware's top clock;
 * - `power-cap`: the nvpmodel mode limits the GPU below the hardware's top clock and the GPU runs at that limit.
 */
import { join } from 'node:path';
import {
  errorText,
  gradedReader,
  type HalContext,
  listDir,
  readInteger,
  readText,
  under,
  within,
} from '../io.js';
import { runTool } from '../tools.js';
import type {
  AcceleratorControl,
  AcceleratorLimits,
  AcceleratorSample,
  ActuationResult,
  DeviceInfo,
  ThrottleReason,
  TripPoint,
} from '../types.js';
import { snapDown } from './nvidia-smi.js';

export interface JetsonAcceleratorOptions {
  /** The GPU's devfreq directory name (`17000000.gpu`); default: the first ending in `.gpu` or `.ga10b`. */
  readonly devfreq?: string;
  /** The GPU's thermal zone type; default `gpu-thermal` (Orin), then `GPU-therm` (older L4T). */
  readonly thermalType?: string;
  /** The INA3221 rail the GPU's power is read from (default `VDD_CPU_GPU_CV`, the Orin Nano/NX rail). */
  readonly powerRail?: string;
  /** The nvpmodel tool (default `nvpmodel` on the context's PATH). */
  readonly nvpmodel?: string;
  /** The nvpmodel configuration, under the context's root (default `/etc/nvpmodel.conf`). */
  readonly nvpmodelConf?: string;
}

/** One `< POWER_MODEL ID=0 NAME=15W >` block of nvpmodel.conf. */
export interface NvpModelMode {
  readonly id: number;
  readonly name: string;
  /** The budget the name states (`15W`, `7W`); absent for MAXN, which has no budget. */
  readonly watts?: number;
  /** The mode's `GPU MAX_FREQ`, in Hz, when it sets one. */
  readonly gpuMaxHz?: number;
}

/** Parses nvpmodel.conf: its modes, and the default from `< PM_CONFIG DEFAULT=0 >`. */
export function parseNvpModelConf(text: string): { modes: NvpModelMode[]; defaultId?: number } {
  const modes: NvpModelMode[] = [];
  let defaultId: number | undefined;
  let current: { id: number; name: string; gpuMaxHz?: number } | undefined;
  const flush = (): void => {
    if (!current) return;
    const watts = wattsOfMode(current.name);
    modes.push({
      id: current.id,
      name: current.name,
      ...(watts === undefined ? {} : { watts }),
      ...(current.gpuMaxHz === undefined ? {} : { gpuMaxHz: current.gpuMaxHz }),
    });
    current = undefined;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = /^<\s*(\w+)\s+(.*?)\s*>$/.exec(line);
    if (header) {
      flush();
      const attributes = Object.fromEntries(
        [...(header[2] ?? '').matchAll(/(\w+)=(\S+)/g)].map((match) => [match[1], match[2]]),
      );
      if (header[1] === 'POWER_MODEL' && attributes.ID !== undefined && /^\d+$/.test(attributes.ID)) {
        current = { id: Number(attributes.ID), name: attributes.NAME ?? `mode ${attributes.ID}` };
      } else if (header[1] === 'PM_CONFIG' && attributes.DEFAULT !== undefined) {
        defaultId = Number(attributes.DEFAULT);
      }
      continue;
    }
    // `GPU MAX_FREQ 624750000`; -1 or 0 in some releases means "no limit".
    const gpuMax = /^GPU\s+MAX_FREQ\s+(-?\d+)$/.exec(line);
    if (current && gpuMax?.[1] !== undefined && Number(gpuMax[1]) > 0) current.gpuMaxHz = Number(gpuMax[1]);
  }
  flush();
  return defaultId === undefined ? { modes } : { modes, defaultId };
}

/** `15W` → 15, `7W` → 7; MAXN, MAXN_SUPER and other names have no stated budget. */
export function wattsOfMode(name: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)W$/i.exec(name.trim());
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Parses `nvpmodel -q`: `NV Power Mode: 15W` then the id on a line of its own (warnings may come first). */
export function parseNvpModelQuery(text: string): { name?: string; id?: number } {
  const name = /NV Power Mode:\s*(\S+)/.exec(text)?.[1];
  const id = text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => /^\d+$/.test(line));
  return { ...(name === undefined ? {} : { name }), ...(id === undefined ? {} : { id: Number(id) }) };
}

async function readIntegers(ctx: HalContext, path: string): Promise<number[]> {
  return (await readText(ctx, path))
    .split(/\s+/)
    .filter((word) => /^\d+$/.test(word))
    .map(Number)
    .sort((a, b) => a - b);
}

export function jetsonAccelerator(
  ctx: HalContext,
  options: JetsonAcceleratorOptions = {},
): AcceleratorControl {
  const rail = options.powerRail ?? 'VDD_CPU_GPU_CV';
  const nvpmodel = options.nvpmodel ?? 'nvpmodel';
  const confPath = under(ctx, options.nvpmodelConf ?? '/etc/nvpmodel.conf');
  const thermalTypes = options.thermalType ? [options.thermalType] : ['gpu-thermal', 'GPU-therm'];
  let info: DeviceInfo = { source: `Jetson GPU ${options.devfreq ?? ''}`.trim(), driver: 'jetson' };

  // Discovered paths are kept: the devices do not move while the system runs. A failed read forgets them, so a
  // driver reloaded under another number is found again.
  let devfreqDir: string | undefined;
  let zoneDir: string | undefined;
  let railPaths: { volts: string; amps: string } | undefined;
  let trips: readonly TripPoint[] | undefined;
  let available: number[] | undefined;
  let conf: { modes: NvpModelMode[]; defaultId?: number } | undefined;

  const describe = (): void => {
    const parts = [
      devfreqDir && `devfreq ${devfreqDir.split('/').pop()}`,
      zoneDir && `${zoneDir.split('/').pop()}`,
    ];
    info = { source: `Jetson GPU (${parts.filter(Boolean).join(', ')})`, driver: 'jetson' };
  };

  const findDevfreq = async (): Promise<string> => {
    if (devfreqDir) return devfreqDir;
    const base = under(ctx, '/sys/class/devfreq');
    const name =
      options.devfreq ?? (await listDir(ctx, base)).find((e) => e.endsWith('.gpu') || e.endsWith('.ga10b'));
    if (!name) throw new Error(`no GPU devfreq device under ${base}`);
    devfreqDir = join(base, name);
    describe();
    return devfreqDir;
  };

  const findZone = async (): Promise<string> => {
    if (zoneDir) return zoneDir;
    const base = under(ctx, '/sys/class/thermal');
    for (const entry of await listDir(ctx, base)) {
      if (!entry.startsWith('thermal_zone')) continue;
      const type = await readText(ctx, join(base, entry, 'type')).catch(() => undefined);
      if (type !== undefined && thermalTypes.includes(type)) {
        zoneDir = join(base, entry);
        describe();
        return zoneDir;
      }
    }
    throw new Error(`no thermal zone of type ${thermalTypes.join(' or ')} under ${base}`);
  };

  const findRail = async (): Promise<{ volts: string; amps: string }> => {
    if (railPaths) return railPaths;
    const base = under(ctx, '/sys/class/hwmon');
    for (const entry of await listDir(ctx, base)) {
      const dir = join(base, entry);
      const name = await readText(ctx, join(dir, 'name')).catch(() => undefined);
      if (name !== 'ina3221') continue;
      for (const file of await listDir(ctx, dir)) {
        const channel = /^in(\d+)_label$/.exec(file)?.[1];
        if (channel === undefined) continue;
        const label = await readText(ctx, join(dir, file)).catch(() => undefined);
        if (label === rail) {
          railPaths = { volts: join(dir, `in${channel}_input`), amps: join(dir, `curr${channel}_input`) };
          return railPaths;
        }
      }
    }
    throw new Error(`no INA3221 rail labelled ${rail} under ${base}`);
  };

  const readTrips = async (zone: string): Promise<readonly TripPoint[]> => {
    if (trips) return trips;
    const found: TripPoint[] = [];
    for (const file of await listDir(ctx, zone)) {
      const n = /^trip_point_(\d+)_type$/.exec(file)?.[1];
      if (n === undefined) continue;
      const type = await readText(ctx, join(zone, file));
      const milli = await readInteger(ctx, join(zone, `trip_point_${n}_temp`));
      found.push({ type, celsius: milli / 1000 });
    }
    trips = found;
    return trips;
  };

  const availableHz = async (dir: string): Promise<number[]> => {
    available ??= await readIntegers(ctx, join(dir, 'available_frequencies'));
    return available;
  };

  const readConf = async (): Promise<{ modes: NvpModelMode[]; defaultId?: number }> => {
    conf ??= parseNvpModelConf(await ctx.io.readFile(confPath));
    return conf;
  };

  /** The mode in force, from the tool; undefined when it cannot say (no tool, no configuration). */
  const currentMode = async (): Promise<NvpModelMode | undefined> => {
    const outcome = await runTool(ctx, nvpmodel, ['-q']);
    if (!outcome.ok) return undefined;
    const { name, id } = parseNvpModelQuery(outcome.stdout);
    const modes = await readConf()
      .then((c) => c.modes)
      .catch(() => []);
    const known = modes.find((mode) => (id !== undefined ? mode.id === id : mode.name === name));
    if (known) return known;
    if (name === undefined) return undefined;
    const watts = wattsOfMode(name);
    return { id: id ?? -1, name, ...(watts === undefined ? {} : { watts }) };
  };

  /** Optional parts of a sample: each missing one is left out rather than failing the reading. */
  const optionalPart = async <T>(part: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await part();
    } catch {
      return undefined;
    }
  };

  const sample = async (): Promise<AcceleratorSample> => {
    let zone: string;
    let milli: number;
    try {
      zone = await findZone();
      milli = await readInteger(ctx, join(zone, 'temp'));
    } catch (error) {
      zoneDir = undefined;
      throw error;
    }
    const celsius = milli / 1000;

    const power = await optionalPart(async () => {
      const paths = await findRail();
      const millivolts = await readInteger(ctx, paths.volts);
      const milliamps = await readInteger(ctx, paths.amps);
      return (millivolts / 1000) * (milliamps / 1000);
    });
    if (power === undefined) railPaths = undefined;

    const clocks = await optionalPart(async () => {
      const dir = await findDevfreq();
      const currentHz = await readInteger(ctx, join(dir, 'cur_freq'));
      const hz = await availableHz(dir);
      return { currentHz, topHz: hz[hz.length - 1] };
    });
    if (clocks === undefined) {
      devfreqDir = undefined;
      available = undefined;
    }
    // The GPU's load is on its platform device (0..1000), which devfreq links to as `device`.
    const load = devfreqDir
      ? await optionalPart(() => readInteger(ctx, join(devfreqDir!, 'device', 'load')))
      : undefined;
    const mode = await optionalPart(currentMode);
    const zoneTrips = await optionalPart(() => readTrips(zone));

    const reasons: ThrottleReason[] = [];
    if (clocks?.topHz !== undefined && clocks.currentHz < clocks.topHz) {
      const passive = zoneTrips?.filter((trip) => trip.type === 'passive').map((trip) => trip.celsius);
      if (passive && passive.length > 0 && celsius >= Math.min(...passive)) reasons.push('sw-thermal');
    }
    if (
      clocks?.topHz !== undefined &&
      mode?.gpuMaxHz !== undefined &&
      mode.gpuMaxHz < clocks.topHz &&
      clocks.currentHz >= mode.gpuMaxHz
    ) {
      reasons.push('power-cap');
    }
    return {
      celsius,
      ...(power === undefined ? {} : { watts: Math.round(power * 1000) / 1000 }),
      ...(mode?.watts === undefined ? {} : { powerCapW: mode.watts }),
      ...(clocks === undefined ? {} : { coreMHz: clocks.currentHz / 1e6 }),
      ...(load === undefined ? {} : { utilization: load / 1000 }),
      throttleReasons: reasons,
    };
  };

  const sampleLimits = async (): Promise<AcceleratorLimits> => {
    // Each source is optional here: a board without nvpmodel can still have its clocks capped.
    const zoneTrips = await optionalPart(async () => readTrips(await findZone()));
    const hz = await optionalPart(async () => availableHz(await findDevfreq()));
    const parsed = await optionalPart(readConf);
    if (!zoneTrips && !hz && !parsed) throw new Error('no GPU thermal zone, devfreq device or nvpmodel.conf');
    const budgets = (parsed?.modes ?? []).flatMap((mode) => (mode.watts === undefined ? [] : [mode.watts]));
    const fallback = parsed?.modes.find((mode) => mode.id === parsed.defaultId)?.watts;
    const passive = zoneTrips?.filter((trip) => trip.type === 'passive').map((trip) => trip.celsius) ?? [];
    const critical = zoneTrips?.filter((trip) => trip.type === 'critical').map((trip) => trip.celsius) ?? [];
    return {
      ...(budgets.length > 0
        ? { minPowerCapW: Math.min(...budgets), maxPowerCapW: Math.max(...budgets) }
        : {}),
      ...(fallback === undefined ? {} : { defaultPowerCapW: fallback }),
      ...(hz && hz.length > 0 ? { frequenciesMHz: hz.map((value) => value / 1e6) } : {}),
      ...(passive.length > 0 ? { slowdownC: Math.min(...passive) } : {}),
      ...(critical.length > 0 ? { shutdownC: Math.min(...critical) } : {}),
    };
  };

  return {
    get info() {
      return info;
    },
    // Jetsons fly cold: -40 degC is a plausible reading at power-on in eclipse.
    read: gradedReader(ctx, sample, {
      holdLastGoodMs: 10_000,
      plausible: (value) => within(-40, 130, 'degC')(value.celsius),
    }),
    limits: gradedReader(ctx, sampleLimits, { holdLastGoodMs: 60_000 }),
    async setPowerCap(watts): Promise<ActuationResult> {
      let modes: NvpModelMode[];
      try {
        modes = (await readConf()).modes;
      } catch (error) {
        return { ok: false, error: `cannot read nvpmodel modes: ${errorText(error)}` };
      }
      const fitting = modes
        .filter((mode) => mode.watts !== undefined && mode.watts <= watts)
        .sort((a, b) => (b.watts ?? 0) - (a.watts ?? 0));
      const chosen = fitting[0];
      if (!chosen) {
        const budgets = modes.flatMap((mode) =>
          mode.watts === undefined ? [] : [`${mode.name} (${mode.id})`],
        );
        return {
          ok: false,
          error: `no nvpmodel mode within ${watts} W; modes: ${budgets.join(', ') || 'none'}`,
        };
      }
      const outcome = await runTool(ctx, nvpmodel, ['-m', String(chosen.id)]);
      if (outcome.ok) return { ok: true };
      return {
        ok: false,
        error: outcome.missing ? `${nvpmodel} not found on PATH (L4T's nvpmodel)` : outcome.error,
      };
    },
    async setFrequencyCeiling(mhz): Promise<ActuationResult> {
      try {
        const dir = await findDevfreq();
        const hz = await availableHz(dir);
        // devfreq rounds an unlisted value itself, upward on some kernels; snapping down keeps it a ceiling.
        const target = snapDown(hz, mhz * 1e6) ?? Math.floor(mhz * 1e6);
        await ctx.io.writeFile(join(dir, 'max_freq'), String(target));
        return { ok: true };
      } catch (error) {
        return { ok: false, error: `cannot set GPU frequency ceiling: ${errorText(error)}` };
      }
    },
  };
}
