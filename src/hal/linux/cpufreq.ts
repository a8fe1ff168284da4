/**
 * The CPU as the compute payload, for boards whose AI work runs on the application processor (a Raspberry Pi 5, a
 * generic Linux host): its clocks through cpufreq, its temperature through a thermal zone, its power through a rail
 * monitor when the board has one. The frequency ceiling is the thermal controller's actuator here; there is no
 * power cap.
 */
import {
  errorText,
  gradedReader,
  type HalContext,
  listDir,
  readInteger,
  readOptionalInteger,
  readOptionalText,
  under,
} from '../io.js';
import type {
  AcceleratorControl,
  AcceleratorLimits,
  AcceleratorSample,
  ActuationResult,
  PowerMonitor,
  Reading,
  TemperatureSensor,
  ThrottleReason,
} from '../types.js';

const CPUFREQ = '/sys/devices/system/cpu/cpufreq';

export interface CpufreqPolicy {
  readonly name: string;
  readonly curMHz?: number;
  readonly minMHz?: number;
  readonly maxMHz?: number;
  readonly hardwareMaxMHz?: number;
  readonly governor?: string;
}

/** The cpufreq policies (`policy0`, ...) with their frequencies; sysfs gives kHz. */
export async function listCpufreqPolicies(ctx: HalContext): Promise<CpufreqPolicy[]> {
  const names = (await listDir(ctx, under(ctx, CPUFREQ))).filter((name) => /^policy\d+$/.test(name));
  return Promise.all(
    names.map(async (name): Promise<CpufreqPolicy> => {
      const dir = under(ctx, `${CPUFREQ}/${name}`);
      const khz = async (file: string) => {
        try {
          const value = await readOptionalInteger(ctx, `${dir}/${file}`);
          return value === undefined ? undefined : value / 1000;
        } catch {
          return undefined;
        }
      };
      const governor = await readOptionalText(ctx, `${dir}/scaling_governor`).catch(() => undefined);
      const [curMHz, minMHz, maxMHz, hardwareMaxMHz] = await Promise.all([
        khz('scaling_cur_freq'),
        khz('scaling_min_freq'),
        khz('scaling_max_freq'),
        khz('cpuinfo_max_freq'),
      ]);
      return {
        name,
        ...(curMHz !== undefined ? { curMHz } : {}),
        ...(minMHz !== undefined ? { minMHz } : {}),
        ...(maxMHz !== undefined ? { maxMHz } : {}),
        ...(hardwareMaxMHz !== undefined ? { hardwareMaxMHz } : {}),
        ...(governor !== undefined ? { governor } : {}),
      };
    }),
  );
}

/** Frequencies a ceiling may take, in MHz ascending: the policy's list when the driver has one, else its bounds. */
async function availableMHz(ctx: HalContext, dir: string): Promise<number[]> {
  const list = await readOptionalText(ctx, `${dir}/scaling_available_frequencies`);
  if (list) {
    const values = list
      .split(/\s+/)
      .map((khz) => Number.parseInt(khz, 10) / 1000)
      .filter((mhz) => Number.isFinite(mhz) && mhz > 0);
    return [...new Set(values)].sort((a, b) => a - b);
  }
  const min = await readOptionalInteger(ctx, `${dir}/cpuinfo_min_freq`);
  const max = await readOptionalInteger(ctx, `${dir}/cpuinfo_max_freq`);
  return [min, max].filter((khz): khz is number => khz !== undefined).map((khz) => khz / 1000);
}

export interface CpufreqAcceleratorOptions {
  /** The cpufreq policy: `policy0` (all cores of a Raspberry Pi share it). */
  readonly policy: string;
  readonly temperature: TemperatureSensor;
  readonly power?: PowerMonitor;
}

/**
 * The application processor as the accelerator: `scaling_cur_freq` (kHz) for its clock, `scaling_max_freq`
 * (kHz, written) as the frequency ceiling, the thermal zone's passive trip as its slowdown temperature.
 */
export function cpufreqAccelerator(ctx: HalContext, options: CpufreqAcceleratorOptions): AcceleratorControl {
  const dir = under(ctx, `${CPUFREQ}/${options.policy}`);
  const readClocks = gradedReader(
    ctx,
    async () => {
      const [cur, max, hardwareMax] = await Promise.all([
        readInteger(ctx, `${dir}/scaling_cur_freq`),
        readInteger(ctx, `${dir}/scaling_max_freq`),
        readInteger(ctx, `${dir}/cpuinfo_max_freq`),
      ]);
      return { curMHz: cur / 1000, ceilingMHz: max / 1000, hardwareMaxMHz: hardwareMax / 1000 };
    },
    { holdLastGoodMs: 5000 },
  );

  return {
    info: { source: `cpufreq ${options.policy} + ${options.temperature.info.source}`, driver: 'cpufreq' },
    async read(): Promise<Reading<AcceleratorSample>> {
      const [temperature, clocks, power] = await Promise.all([
        options.temperature.read(),
        readClocks(),
        options.power?.read(),
      ]);
      // The temperature is what the thermal controller acts on: without it the reading is of no use.
      if (temperature.quality === 'failed') return temperature;
      const throttleReasons: ThrottleReason[] = [];
      if (clocks.quality !== 'failed' && clocks.value.ceilingMHz < clocks.value.hardwareMaxMHz) {
        throttleReasons.push('application-clocks');
      }
      const sample: AcceleratorSample = {
        celsius: temperature.value,
        ...(clocks.quality !== 'failed' ? { coreMHz: clocks.value.curMHz } : {}),
        ...(power && power.quality !== 'failed' ? { watts: power.value.watts } : {}),
        throttleReasons,
      };
      if (temperature.quality !== 'ok') return { ...temperature, value: sample };
      if (clocks.quality === 'failed' || clocks.quality === 'stale') {
        return { quality: 'stale', value: sample, time: temperature.time, error: `clocks: ${clocks.error}` };
      }
      return { quality: 'ok', value: sample, time: temperature.time };
    },
    async limits(): Promise<Reading<AcceleratorLimits>> {
      const time = ctx.now();
      try {
        const frequenciesMHz = await availableMHz(ctx, dir);
        const trips = (await options.temperature.trips?.()) ?? [];
        const slowdownC = trips.find((trip) => trip.type === 'passive')?.celsius;
        const shutdownC = trips.find((trip) => trip.type === 'critical')?.celsius;
        return {
          quality: 'ok',
          time,
          value: {
            frequenciesMHz,
            ...(slowdownC !== undefined ? { slowdownC } : {}),
            ...(shutdownC !== undefined ? { shutdownC } : {}),
          },
        };
      } catch (error) {
        return { quality: 'failed', time, error: errorText(error) };
      }
    },
    async setFrequencyCeiling(mhz: number): Promise<ActuationResult> {
      try {
        const available = await availableMHz(ctx, dir);
        const chosen = [...available].reverse().find((candidate) => candidate <= mhz);
        if (chosen === undefined) {
          return {
            ok: false,
            error: `${mhz} MHz is below the lowest frequency of ${options.policy} (${available[0] ?? '?'} MHz)`,
          };
        }
        await ctx.io.writeFile(`${dir}/scaling_max_freq`, `${Math.round(chosen * 1000)}\n`);
        return { ok: true };
      } catch (error) {
        const why = errorText(error);
        return {
          ok: false,
          error: why.startsWith('EACCES')
            ? `${why} (scaling_max_freq needs root or a udev rule granting the skynode user write access)`
            : why,
        };
      }
    },
  };
}
