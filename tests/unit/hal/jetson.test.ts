import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jetsonAccelerator, parseNvpModelConf, parseNvpModelQuery } from '../../../src/hal/linux/jetson.js';
import { tempDir } from '../../support/cli.js';
import { fakeExecutable, fakeHal, fakeTree, readAttribute, setAttribute } from '../../support/sysfs.js';

/** nvpmodel.conf of an Orin Nano (JetPack 6, Super modes), trimmed to the lines the driver reads and a few more. */
const NVPMODEL_CONF = `< PARAM TYPE=FILE NAME=CPU_ONLINE >
CORE_0 /sys/devices/system/cpu/cpu0/online
< PARAM TYPE=CLOCK NAME=GPU >
FREQ_TABLE /sys/class/devfreq/17000000.gpu/available_frequencies
MAX_FREQ /sys/class/devfreq/17000000.gpu/max_freq
MIN_FREQ /sys/class/devfreq/17000000.gpu/min_freq

< POWER_MODEL ID=0 NAME=15W >
CPU_ONLINE CORE_0 1
CPU_A78_0 MAX_FREQ 1497600
GPU_POWER_CONTROL_ENABLE GPU_PWR_CNTL_EN on
GPU MIN_FREQ 0
GPU MAX_FREQ 624750000
GPU_POWER_CONTROL_DISABLE GPU_PWR_CNTL_DIS auto

< POWER_MODEL ID=1 NAME=7W >
CPU_ONLINE CORE_0 1
CPU_A78_0 MAX_FREQ 960000
GPU MIN_FREQ 0
GPU MAX_FREQ 408000000

< POWER_MODEL ID=2 NAME=25W >
CPU_ONLINE CORE_0 1
GPU MIN_FREQ 0
GPU MAX_FREQ 918000000

< POWER_MODEL ID=3 NAME=MAXN_SUPER >
CPU_ONLINE CORE_0 1
GPU MIN_FREQ 0
GPU MAX_FREQ -1

< PM_CONFIG DEFAULT=0 >
`;

const GPU = 'sys/class/devfreq/17000000.gpu';
const HZ = '306000000 408000000 510000000 612000000 624750000 714000000 816000000 918000000 1020000000';

function orinNanoTree(options: { ina3221?: boolean; devfreqName?: string } = {}): Record<string, string> {
  const gpu = `sys/class/devfreq/${options.devfreqName ?? '17000000.gpu'}`;
  return {
    'sys/class/devfreq/3d00000.nvdla/cur_freq': '0\n',
    [`${gpu}/cur_freq`]: '624750000\n',
    [`${gpu}/max_freq`]: '624750000\n',
    [`${gpu}/min_freq`]: '306000000\n',
    [`${gpu}/available_frequencies`]: `${HZ}\n`,
    [`${gpu}/device/load`]: '523\n',
    'sys/class/thermal/thermal_zone0/type': 'cpu-thermal\n',
    'sys/class/thermal/thermal_zone0/temp': '48500\n',
    'sys/class/thermal/thermal_zone1/type': 'gpu-thermal\n',
    'sys/class/thermal/thermal_zone1/temp': '47250\n',
    'sys/class/thermal/thermal_zone1/trip_point_0_type': 'critical\n',
    'sys/class/thermal/thermal_zone1/trip_point_0_temp': '105000\n',
    'sys/class/thermal/thermal_zone1/trip_point_1_type': 'passive\n',
    'sys/class/thermal/thermal_zone1/trip_point_1_temp': '95500\n',
    'sys/class/thermal/thermal_zone2/type': 'tj-thermal\n',
    'sys/class/thermal/thermal_zone2/temp': '48900\n',
    'sys/class/hwmon/hwmon0/name': 'pwmfan\n',
    ...(options.ina3221 === false
      ? {}
      : {
          'sys/class/hwmon/hwmon1/name': 'ina3221\n',
          'sys/class/hwmon/hwmon1/in1_label': 'VDD_IN\n',
          'sys/class/hwmon/hwmon1/in1_input': '5072\n',
          'sys/class/hwmon/hwmon1/curr1_input': '1424\n',
          'sys/class/hwmon/hwmon1/in2_label': 'VDD_CPU_GPU_CV\n',
          'sys/class/hwmon/hwmon1/in2_input': '5064\n',
          'sys/class/hwmon/hwmon1/curr2_input': '412\n',
          'sys/class/hwmon/hwmon1/in3_label': 'VDD_SOC\n',
          'sys/class/hwmon/hwmon1/in3_input': '5064\n',
          'sys/class/hwmon/hwmon1/curr3_input': '624\n',
        }),
    'etc/nvpmodel.conf': NVPMODEL_CONF,
  };
}

/** A fake nvpmodel: `-q` prints the mode as L4T does, `-m N` switches it; every call is logged. */
const NVPMODEL = (state: string) => `#!/usr/bin/env bash
state='${state}'
echo "$*" >> "$state/calls.log"
mode=$(cat "$state/mode")
case "$1" in
  -q)
    case "$mode" in 0) name=15W ;; 1) name=7W ;; 2) name=25W ;; 3) name=MAXN_SUPER ;; esac
    echo "NV Power Mode: $name"
    echo "$mode"
    ;;
  -m) echo "$2" > "$state/mode" ;;
  *) echo "Usage: nvpmodel [-m mode] [-q]" >&2; exit 1 ;;
esac
`;

function setup(options: { ina3221?: boolean; devfreqName?: string; mode?: number } = {}) {
  const root = fakeTree(orinNanoTree(options));
  const state = tempDir('skynode-nvpmodel-');
  const bin = join(state, 'bin');
  fakeExecutable(bin, 'nvpmodel', NVPMODEL(state));
  writeFileSync(join(state, 'mode'), String(options.mode ?? 0));
  writeFileSync(join(state, 'calls.log'), '');
  const ctx = { ...fakeHal(root), env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } };
  return {
    ctx,
    root,
    calls: () => readFileSync(join(state, 'calls.log'), 'utf8').split('\n').filter(Boolean),
  };
}

describe('jetson accelerator', () => {
  it('reads temperature, rail power, clock, load and the power mode of an Orin Nano', async () => {
    const fake = setup();
    const gpu = jetsonAccelerator(fake.ctx);
    expect(await gpu.read()).toEqual({
      quality: 'ok',
      time: fake.ctx.now(),
      value: {
        celsius: 47.25,
        watts: 2.086,
        powerCapW: 15,
        coreMHz: 624.75,
        utilization: 0.523,
        // 15W holds the GPU at 624.75 MHz of its 1020 MHz, and it runs there.
        throttleReasons: ['power-cap'],
      },
    });
    expect(gpu.info.driver).toBe('jetson');
    expect(gpu.info.source).toContain('17000000.gpu');
    expect(fake.calls()).toEqual(['-q']);
  });

  it('infers a thermal slowdown above the passive trip', async () => {
    const fake = setup();
    setAttribute(fake.root, 'sys/class/thermal/thermal_zone1/temp', '96000\n');
    setAttribute(fake.root, `${GPU}/cur_freq`, '510000000\n');
    const reading = await jetsonAccelerator(fake.ctx).read();
    expect(reading.value).toMatchObject({ celsius: 96, coreMHz: 510, throttleReasons: ['sw-thermal'] });
  });

  it('has no power cap in MAXN', async () => {
    const fake = setup({ mode: 3 });
    setAttribute(fake.root, `${GPU}/cur_freq`, '1020000000\n');
    const reading = await jetsonAccelerator(fake.ctx).read();
    expect(reading.quality).toBe('ok');
    expect(reading.value?.powerCapW).toBeUndefined();
    expect(reading.value?.throttleReasons).toEqual([]);
  });

  it('picks the highest power mode within a cap', async () => {
    const fake = setup();
    const gpu = jetsonAccelerator(fake.ctx);
    expect(await gpu.setPowerCap!(10)).toEqual({ ok: true });
    expect(fake.calls()).toEqual(['-m 1']);
    expect((await gpu.read()).value?.powerCapW).toBe(7);
    expect(await gpu.setPowerCap!(30)).toEqual({ ok: true });
    expect(fake.calls().at(-1)).toBe('-m 2');
  });

  it('refuses a cap below every mode without running nvpmodel', async () => {
    const fake = setup();
    const result = await jetsonAccelerator(fake.ctx).setPowerCap!(5);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain('7W (1)');
    expect(fake.calls()).toEqual([]);
  });

  it('sets a frequency ceiling as devfreq max_freq in Hz, snapped down', async () => {
    const fake = setup();
    const gpu = jetsonAccelerator(fake.ctx);
    expect(await gpu.setFrequencyCeiling!(700)).toEqual({ ok: true });
    expect(readAttribute(fake.root, `${GPU}/max_freq`)).toBe('624750000');
    await gpu.setFrequencyCeiling!(100);
    expect(readAttribute(fake.root, `${GPU}/max_freq`)).toBe('306000000');
  });

  it('still reads the temperature without an INA3221', async () => {
    const fake = setup({ ina3221: false });
    const reading = await jetsonAccelerator(fake.ctx).read();
    expect(reading.quality).toBe('ok');
    expect(reading.value?.celsius).toBe(47.25);
    expect(reading.value?.watts).toBeUndefined();
  });

  it('fails without the GPU thermal zone', async () => {
    const fake = setup();
    const reading = await jetsonAccelerator(fake.ctx, { thermalType: 'GPU-therm' }).read();
    expect(reading.quality).toBe('failed');
    expect(reading.quality === 'failed' && reading.error).toContain('GPU-therm');
  });

  it('finds the GPU under its older devfreq name', async () => {
    const fake = setup({ devfreqName: '17000000.ga10b' });
    const gpu = jetsonAccelerator(fake.ctx);
    expect((await gpu.read()).value?.coreMHz).toBe(624.75);
    await gpu.setFrequencyCeiling!(500);
    expect(readAttribute(fake.root, 'sys/class/devfreq/17000000.ga10b/max_freq')).toBe('408000000');
  });

  it('reads limits from nvpmodel.conf, devfreq and the trip points', async () => {
    const fake = setup();
    expect(await jetsonAccelerator(fake.ctx).limits()).toEqual({
      quality: 'ok',
      time: fake.ctx.now(),
      value: {
        minPowerCapW: 7,
        maxPowerCapW: 25,
        defaultPowerCapW: 15,
        frequenciesMHz: [306, 408, 510, 612, 624.75, 714, 816, 918, 1020],
        slowdownC: 95.5,
        shutdownC: 105,
      },
    });
  });
});

describe('nvpmodel parsing', () => {
  it('reads modes and their GPU ceilings', () => {
    const { modes, defaultId } = parseNvpModelConf(NVPMODEL_CONF);
    expect(defaultId).toBe(0);
    expect(modes).toEqual([
      { id: 0, name: '15W', watts: 15, gpuMaxHz: 624750000 },
      { id: 1, name: '7W', watts: 7, gpuMaxHz: 408000000 },
      { id: 2, name: '25W', watts: 25, gpuMaxHz: 918000000 },
      { id: 3, name: 'MAXN_SUPER' },
    ]);
  });

  it('reads the current mode past warnings', () => {
    expect(parseNvpModelQuery('NVPM WARN: fan mode is not set!\nNV Power Mode: 7W\n1\n')).toEqual({
      name: '7W',
      id: 1,
    });
  });
});
