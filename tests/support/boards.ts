/**
 * Whole fake machines for `skynode board probe` and `--check`: a Raspberry Pi 5, a Jetson Orin Nano developer
 * kit and a data-centre host with two H200s, laid out as their kernels lay out /sys, /proc and /dev (class entries
 * are links into /sys/devices, attributes end in a newline and are in the kernel's units), and the userspace tools
 * the drivers run (libgpiod v2, nvpmodel, nvidia-smi) as shell scripts that log their command lines.
 *
 * The tools are `/bin/sh` scripts using builtins only, so a PATH holding nothing but their directory runs them:
 * tests pass exactly that PATH, and the host's own tools (a real nvidia-smi on a GPU machine) cannot leak in.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './cli.js';
import { fakeExecutable, fakeTree, type TreeEntry } from './sysfs.js';

/** A thermal zone (`/sys/class/thermal/thermal_zoneN`, a link into /sys/devices/virtual/thermal). */
function thermalZoneEntries(
  n: number,
  type: string,
  milliC: string,
  trips: ReadonlyArray<readonly [type: string, milliC: number]> = [],
): Record<string, TreeEntry> {
  const dir = `sys/devices/virtual/thermal/thermal_zone${n}`;
  const entries: Record<string, TreeEntry> = {
    [`sys/class/thermal/thermal_zone${n}`]: { link: `../../devices/virtual/thermal/thermal_zone${n}` },
    [`${dir}/type`]: `${type}\n`,
    [`${dir}/temp`]: milliC,
    [`${dir}/mode`]: 'enabled\n',
    [`${dir}/policy`]: 'step_wise\n',
  };
  trips.forEach(([tripType, tripMilliC], i) => {
    entries[`${dir}/trip_point_${i}_type`] = `${tripType}\n`;
    entries[`${dir}/trip_point_${i}_temp`] = `${tripMilliC}\n`;
    entries[`${dir}/trip_point_${i}_hyst`] = '2000\n';
  });
  return entries;
}

function coolingDeviceEntries(n: number, type: string, cur: number, max: number): Record<string, TreeEntry> {
  const dir = `sys/devices/virtual/thermal/cooling_device${n}`;
  return {
    [`sys/class/thermal/cooling_device${n}`]: { link: `../../devices/virtual/thermal/cooling_device${n}` },
    [`${dir}/type`]: `${type}\n`,
    [`${dir}/cur_state`]: `${cur}\n`,
    [`${dir}/max_state`]: `${max}\n`,
  };
}

/** An hwmon chip: `/sys/class/hwmon/hwmonN` links to `<device>/hwmon/hwmonN` (or, for a thermal zone, `<device>/hwmonN`). */
function hwmonEntries(
  n: number,
  device: string,
  attributes: Readonly<Record<string, string | number>>,
  layout: 'hwmon-dir' | 'direct' = 'hwmon-dir',
): Record<string, TreeEntry> {
  const dir =
    layout === 'hwmon-dir' ? `sys/devices/${device}/hwmon/hwmon${n}` : `sys/devices/${device}/hwmon${n}`;
  const entries: Record<string, TreeEntry> = {
    [`sys/class/hwmon/hwmon${n}`]: { link: `../../${dir.slice('sys/'.length)}` },
  };
  for (const [file, value] of Object.entries(attributes)) entries[`${dir}/${file}`] = `${value}\n`;
  return entries;
}

/** A cpufreq policy (frequencies in kHz, as sysfs has them). */
function cpufreqEntries(
  name: string,
  khz: { cur: number; min: number; max: number; available?: readonly number[]; governor: string },
): Record<string, TreeEntry> {
  const dir = `sys/devices/system/cpu/cpufreq/${name}`;
  return {
    [`${dir}/scaling_cur_freq`]: `${khz.cur}\n`,
    [`${dir}/scaling_min_freq`]: `${khz.min}\n`,
    [`${dir}/scaling_max_freq`]: `${khz.max}\n`,
    [`${dir}/cpuinfo_min_freq`]: `${khz.min}\n`,
    [`${dir}/cpuinfo_max_freq`]: `${khz.max}\n`,
    [`${dir}/scaling_governor`]: `${khz.governor}\n`,
    ...(khz.available ? { [`${dir}/scaling_available_frequencies`]: `${khz.available.join(' ')} \n` } : {}),
  };
}

/**
 * A GPIO chip: `/sys/bus/gpio/devices/gpiochipN` and `/dev/gpiochipN`, and the legacy class entry
 * `/sys/class/gpio/gpiochip<base>` whose `device` is the controller that holds `gpiochipN`.
 */
function gpioChipEntries(
  n: number,
  controller: string,
  chip: { label: string; lines: number; base: number },
): Record<string, TreeEntry> {
  const device = `sys/devices/${controller}`;
  return {
    [`${device}/gpiochip${n}/dev`]: `254:${n}\n`,
    [`sys/bus/gpio/devices/gpiochip${n}`]: { link: `../../../devices/${controller}/gpiochip${n}` },
    [`dev/gpiochip${n}`]: '',
    [`sys/class/gpio/gpiochip${chip.base}`]: {
      link: `../../devices/${controller}/gpio/gpiochip${chip.base}`,
    },
    [`${device}/gpio/gpiochip${chip.base}/label`]: `${chip.label}\n`,
    [`${device}/gpio/gpiochip${chip.base}/ngpio`]: `${chip.lines}\n`,
    [`${device}/gpio/gpiochip${chip.base}/base`]: `${chip.base}\n`,
    [`${device}/gpio/gpiochip${chip.base}/device`]: { link: `../../../${controller.split('/').pop()}` },
  };
}

/** A watchdog: the class entry with `identity` and `timeout` (seconds), and its /dev node unless `node: false`. */
function watchdogEntries(
  device: string,
  identity: string,
  timeoutS: number,
  node = true,
): Record<string, TreeEntry> {
  const dir = `sys/devices/${device}/watchdog/watchdog0`;
  return {
    'sys/class/watchdog/watchdog0': { link: `../../devices/${device}/watchdog/watchdog0` },
    [`${dir}/identity`]: `${identity}\n`,
    [`${dir}/timeout`]: `${timeoutS}\n`,
    [`${dir}/state`]: 'inactive\n',
    [`${dir}/nowayout`]: '0\n',
    ...(node ? { 'dev/watchdog': '', 'dev/watchdog0': '' } : {}),
  };
}

/**
 * A serial port: `/sys/class/tty/<name>` links to `<device>/tty/<name>`, whose `device` link is the port's
 * device, whose `driver` link names the driver (`../../bus/amba/drivers/uart-pl011`). `node` makes `/dev/<name>`.
 */
function ttyEntries(
  name: string,
  device: string,
  driverPath: string,
  options: { node?: boolean; port?: string } = {},
): Record<string, TreeEntry> {
  const dir = `sys/devices/${device}/tty/${name}`;
  const up = '../'.repeat(device.split('/').length + 1);
  return {
    [`sys/class/tty/${name}`]: { link: `../../devices/${device}/tty/${name}` },
    [`${dir}/dev`]: '204:64\n',
    [`${dir}/device`]: { link: `../../../${device.split('/').pop()}` },
    ...(options.port ? { [`${dir}/port`]: `${options.port}\n` } : {}),
    [`sys/devices/${device}/driver`]: { link: `${up}${driverPath}` },
    [`sys/${driverPath}/uevent`]: '',
    ...(options.node === false ? {} : { [`dev/${name}`]: '' }),
  };
}

/** A virtual tty (tty0, console, ttyTCU0): present in /sys/class/tty, and not a serial port a link could use. */
function virtualTtyEntries(name: string): Record<string, TreeEntry> {
  return {
    [`sys/class/tty/${name}`]: { link: `../../devices/virtual/tty/${name}` },
    [`sys/devices/virtual/tty/${name}/dev`]: '4:0\n',
  };
}

/** A device-tree model string (NUL-terminated, as the kernel exports it), with /proc/device-tree linked to it. */
function deviceTreeModel(model: string): Record<string, TreeEntry> {
  return {
    'sys/firmware/devicetree/base/model': `${model}\0`,
    'sys/firmware/devicetree/base/compatible': 'x\0',
    'proc/device-tree': { link: '/sys/firmware/devicetree/base' },
  };
}

const PI5_RP1 = 'platform/axi/1000120000.pcie';
const PI5_INA219 = `${PI5_RP1}/1f00074000.i2c/i2c-1/1-0040`;
const PI5_UART0 = `${PI5_RP1}/1f00030000.serial`;

export interface RaspberryPi5Options {
  /** The INA219 on I2C-1 (hwmon2), default true. */
  readonly ina219?: boolean;
  /** The header UART ttyAMA0, default true. */
  readonly uart?: boolean;
}

/**
 * A Raspberry Pi 5 on Raspberry Pi OS bookworm, with an INA219 (`dtoverlay=i2c-sensor,ina219`), a battery HAT
 * registering `battery`, the header UART enabled and the fan at step 1.
 */
export function raspberryPi5Tree(options: RaspberryPi5Options = {}): string {
  return fakeTree({
    ...deviceTreeModel('Raspberry Pi 5 Model B Rev 1.0'),
    ...thermalZoneEntries(0, 'cpu-thermal', '52350\n', [
      ['active', 50000],
      ['active', 60000],
      ['active', 67500],
      ['active', 75000],
      ['critical', 110000],
    ]),
    ...coolingDeviceEntries(0, 'pwm-fan', 1, 4),
    ...hwmonEntries(
      0,
      'virtual/thermal/thermal_zone0',
      { name: 'cpu_thermal', temp1_input: 52350 },
      'direct',
    ),
    ...hwmonEntries(1, `${PI5_RP1}/1f000c8000.adc`, {
      name: 'rp1_adc',
      in1_input: 1431,
      in2_input: 1436,
      temp1_input: 47800,
    }),
    ...(options.ina219 === false
      ? {}
      : hwmonEntries(2, PI5_INA219, {
          name: 'ina219',
          // in0 is the shunt voltage, in1 the bus: mV; curr mA; power uW.
          in0_input: 8,
          in1_input: 5123,
          curr1_input: 812,
          power1_input: 4160000,
          shunt_resistor: 100000,
        })),
    ...cpufreqEntries('policy0', {
      cur: 2400000,
      min: 1500000,
      max: 2400000,
      available: [1500000, 1600000, 1700000, 1800000, 1900000, 2000000, 2100000, 2200000, 2300000, 2400000],
      governor: 'ondemand',
    }),
    ...gpioChipEntries(0, `${PI5_RP1}/1f000d0000.gpio`, { label: 'pinctrl-rp1', lines: 54, base: 569 }),
    ...watchdogEntries('platform/soc@107c000000/107d200000.watchdog', 'Broadcom BCM2835 Watchdog timer', 15),
    ...(options.uart === false ? {} : ttyEntries('ttyAMA0', PI5_UART0, 'bus/amba/drivers/uart-pl011')),
    // The debug UART by the fan connector.
    ...ttyEntries('ttyAMA10', 'platform/soc@107c000000/107d001000.serial', 'bus/amba/drivers/uart-pl011'),
    ...virtualTtyEntries('tty0'),
    ...virtualTtyEntries('console'),
    'sys/class/power_supply/battery': { link: '../../devices/platform/battery-hat/power_supply/battery' },
    'sys/devices/platform/battery-hat/power_supply/battery/type': 'Battery\n',
    'sys/devices/platform/battery-hat/power_supply/battery/status': 'Discharging\n',
    'sys/devices/platform/battery-hat/power_supply/battery/present': '1\n',
    'sys/devices/platform/battery-hat/power_supply/battery/capacity': '87\n',
    'sys/devices/platform/battery-hat/power_supply/battery/voltage_now': '7820000\n',
    'sys/devices/platform/battery-hat/power_supply/battery/current_now': '412000\n',
    'sys/devices/platform/battery-hat/power_supply/battery/temp': '251\n',
  });
}

/** nvpmodel.conf of an Orin Nano with the Super modes, trimmed to what the driver reads. */
export const ORIN_NANO_NVPMODEL_CONF = `< POWER_MODEL ID=0 NAME=15W >
CPU_ONLINE CORE_0 1
GPU MIN_FREQ 0
GPU MAX_FREQ 624750000

< POWER_MODEL ID=1 NAME=25W >
CPU_ONLINE CORE_0 1
GPU MIN_FREQ 0
GPU MAX_FREQ 918000000

< POWER_MODEL ID=2 NAME=MAXN_SUPER >
CPU_ONLINE CORE_0 1
GPU MIN_FREQ 0
GPU MAX_FREQ -1

< PM_CONFIG DEFAULT=2 >
`;

const ORIN_INA3221 = 'platform/bus@0/c240000.i2c/i2c-1/1-0040';
const ORIN_GPU = 'platform/bus@0/17000000.gpu';
const ORIN_TRIPS: ReadonlyArray<readonly [string, number]> = [
  ['active', 46000],
  ['passive', 99000],
  ['critical', 104500],
];

/** A Jetson Orin Nano developer kit (Super) on JetPack 6. */
export function jetsonOrinNanoTree(): string {
  return fakeTree({
    ...deviceTreeModel('NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super'),
    ...thermalZoneEntries(0, 'cpu-thermal', '48500\n', ORIN_TRIPS),
    ...thermalZoneEntries(1, 'gpu-thermal', '47218\n', ORIN_TRIPS),
    ...thermalZoneEntries(2, 'soc0-thermal', '47843\n', ORIN_TRIPS),
    ...thermalZoneEntries(3, 'tj-thermal', '48906\n', ORIN_TRIPS),
    ...coolingDeviceEntries(0, 'pwm-fan', 1, 3),
    ...hwmonEntries(0, 'platform/pwm-fan', { name: 'pwmfan', pwm1: 68 }),
    ...hwmonEntries(1, ORIN_INA3221, {
      name: 'ina3221',
      in1_label: 'VDD_IN',
      in1_input: 5080,
      curr1_input: 1216,
      in2_label: 'VDD_CPU_GPU_CV',
      in2_input: 5072,
      curr2_input: 320,
      in3_label: 'VDD_SOC',
      in3_input: 5064,
      curr3_input: 736,
      // The shunt voltages carry their channel's label too.
      in4_label: 'VDD_IN',
      in4_input: 6,
      in5_label: 'VDD_CPU_GPU_CV',
      in5_input: 2,
      in6_label: 'VDD_SOC',
      in6_input: 4,
      in7_label: 'sum of shunt voltages',
      in7_input: 12,
      update_interval: 1100,
    }),
    'sys/class/devfreq/17000000.gpu': { link: `../../devices/${ORIN_GPU}/devfreq/17000000.gpu` },
    [`sys/devices/${ORIN_GPU}/devfreq/17000000.gpu/cur_freq`]: '612000000\n',
    [`sys/devices/${ORIN_GPU}/devfreq/17000000.gpu/min_freq`]: '306000000\n',
    [`sys/devices/${ORIN_GPU}/devfreq/17000000.gpu/max_freq`]: '1020000000\n',
    [`sys/devices/${ORIN_GPU}/devfreq/17000000.gpu/available_frequencies`]:
      '306000000 408000000 510000000 612000000 714000000 816000000 918000000 1020000000\n',
    [`sys/devices/${ORIN_GPU}/devfreq/17000000.gpu/governor`]: 'nvhost_podgov\n',
    [`sys/devices/${ORIN_GPU}/devfreq/17000000.gpu/device`]: { link: '../../../17000000.gpu' },
    [`sys/devices/${ORIN_GPU}/load`]: '312\n',
    ...cpufreqEntries('policy0', {
      cur: 1728000,
      min: 115200,
      max: 1728000,
      available: [115200, 729600, 1036800, 1344000, 1497600, 1728000],
      governor: 'schedutil',
    }),
    ...cpufreqEntries('policy4', {
      cur: 1344000,
      min: 115200,
      max: 1728000,
      available: [115200, 729600, 1036800, 1344000, 1497600, 1728000],
      governor: 'schedutil',
    }),
    ...gpioChipEntries(0, 'platform/bus@0/2200000.gpio', { label: 'tegra234-gpio', lines: 164, base: 348 }),
    ...gpioChipEntries(1, 'platform/bus@0/c2f0000.gpio', {
      label: 'tegra234-gpio-aon',
      lines: 32,
      base: 316,
    }),
    ...watchdogEntries('platform/bus@0/2190000.watchdog', 'Tegra WDT', 120),
    ...ttyEntries('ttyTHS0', 'platform/bus@0/3100000.serial', 'bus/platform/drivers/serial-tegra'),
    // The combined UART (the console): not a port for the link.
    ...virtualTtyEntries('ttyTCU0'),
    'etc/nvpmodel.conf': ORIN_NANO_NVPMODEL_CONF,
  });
}

export const H200_UUIDS = [
  'GPU-3c6f8a2e-9b41-5d07-e1a8-6f2b0c94d5e7',
  'GPU-a81d44c0-27f3-4e6b-9c15-d03e8b7a2f96',
] as const;

/** A data-centre host's tree: DMI, ACPI and package thermal zones, intel_pstate, iTCO_wdt, a legacy and a USB UART. */
export function datacenterHostTree(): string {
  return fakeTree({
    'sys/class/dmi/id': { link: '../../devices/virtual/dmi/id' },
    'sys/devices/virtual/dmi/id/sys_vendor': 'Supermicro\n',
    'sys/devices/virtual/dmi/id/product_name': 'SYS-821GE-TNHR\n',
    ...thermalZoneEntries(0, 'acpitz', '27800\n', [['critical', 119000]]),
    ...thermalZoneEntries(1, 'x86_pkg_temp', '41000\n', [
      ['passive', 0],
      ['passive', 0],
    ]),
    ...coolingDeviceEntries(0, 'Processor', 0, 3),
    ...cpufreqEntries('policy0', { cur: 2000000, min: 800000, max: 3800000, governor: 'performance' }),
    // The chipset's watchdog, without a /dev node (udev rules on this host do not create one).
    ...watchdogEntries('pci0000:00/0000:00:1f.4/iTCO_wdt', 'iTCO_wdt', 30, false),
    ...ttyEntries('ttyS0', 'pnp0/00:04/00:04:0/00:04:0.0', 'bus/serial-base/drivers/port', {
      port: '0x3F8',
    }),
    // Declared by the firmware, no UART behind it: left out.
    ...ttyEntries(
      'ttyS1',
      'platform/serial8250/serial8250:0/serial8250:0.1',
      'bus/serial-base/drivers/port',
      {
        port: '0x0000',
      },
    ),
    ...ttyEntries(
      'ttyUSB0',
      'pci0000:00/0000:00:14.0/usb1/1-4/1-4:1.0/ttyUSB0',
      'bus/usb-serial/drivers/ftdi_sio',
    ),
  });
}

export interface FakeTools {
  /** The directory of the scripts: the whole PATH given to the drivers. */
  readonly bin: string;
  /** Each script appends `<tool> <args>` here. */
  readonly log: string;
  /** The environment for the drivers (HalContext.env, BoardEnvironment.env, a child's env): PATH is `bin`. */
  readonly env: NodeJS.ProcessEnv;
  /** The logged command lines, of one tool or all. */
  calls(tool?: string): string[];
}

export interface FakeToolsOptions {
  /** libgpiod v2 tools: gpioget answers these line names (by name) with their level; gpioset only tells its version. */
  readonly gpio?: Readonly<Record<string, 0 | 1>>;
  /** nvpmodel answering `-q` with this mode (`MAXN_SUPER` and its id). */
  readonly nvpmodel?: { readonly name: string; readonly id: number };
  /** nvidia-smi answering the listing, reading and limit queries for two H200s. */
  readonly nvidiaSmi?: boolean;
}

/**
 * Fake tools. gpioset refuses everything but `--version`: a check that tried to drive a line would fail and
 * leave a line in the log, and no holder process can outlive a test.
 */
export function fakeTools(options: FakeToolsOptions = {}): FakeTools {
  const bin = tempDir('skynode-tools-');
  const log = join(bin, 'calls.log');
  const prelude = (name: string) => `#!/bin/sh\necho "${name} $*" >> '${log}'\n`;
  if (options.gpio) {
    const lines = Object.entries(options.gpio)
      .map(([line, level]) => `  '${line}') echo ${level} ;;`)
      .join('\n');
    fakeExecutable(
      bin,
      'gpioset',
      `${prelude('gpioset')}if [ "$1" = "--version" ]; then echo "gpioset (libgpiod) v2.1"; exit 0; fi
echo "gpioset: this test does not drive lines" >&2
exit 1
`,
    );
    fakeExecutable(
      bin,
      'gpioget',
      `${prelude('gpioget')}for arg in "$@"; do line="$arg"; done
case "$line" in
${lines}
  *) echo "gpioget: cannot find line '$line'" >&2; exit 1 ;;
esac
`,
    );
    fakeExecutable(bin, 'gpioinfo', `${prelude('gpioinfo')}echo "gpiochip0 - 54 lines:"\n`);
  }
  if (options.nvpmodel) {
    fakeExecutable(
      bin,
      'nvpmodel',
      `${prelude('nvpmodel')}if [ "$1" = "-q" ]; then echo "NV Power Mode: ${options.nvpmodel.name}"; echo ${options.nvpmodel.id}; exit 0; fi
echo "nvpmodel: this test does not change modes" >&2
exit 1
`,
    );
  }
  if (options.nvidiaSmi) {
    const [first, second] = H200_UUIDS;
    fakeExecutable(
      bin,
      'nvidia-smi',
      `${prelude('nvidia-smi')}case "$1" in
  --query-gpu=index,uuid,name,temperature.gpu,power.draw,power.limit,clocks.sm)
    echo "0, ${first}, NVIDIA H200, 34, 74.12, 700.00, 345"
    echo "1, ${second}, NVIDIA H200, 36, 76.40, 700.00, 345" ;;
  --query-gpu=index,uuid,name,temperature.gpu,power.draw,power.limit,enforced.power.limit,clocks.sm,clocks.mem,utilization.gpu,clocks_event_reasons.active)
    echo "0, ${first}, NVIDIA H200, 34, 74.12, 700.00, 700.00, 345, 3201, 0, 0x0000000000000001" ;;
  --query-gpu=power.min_limit,power.max_limit,power.default_limit)
    echo "200.00, 700.00, 700.00" ;;
  --query-supported-clocks=graphics)
    echo 1980; echo 1965; echo 345 ;;
  -q)
    echo "    GPU Shutdown Temp                 : 92 C"
    echo "    GPU Slowdown Temp                 : 89 C" ;;
  *) echo "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help."; exit 2 ;;
esac
`,
    );
  }
  return {
    bin,
    log,
    env: { PATH: bin },
    calls(tool) {
      if (!existsSync(log)) return [];
      return readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line !== '' && (tool === undefined || line.startsWith(`${tool} `)));
    },
  };
}

/** The GPIO lines of the Pi 5 and Jetson board files' load switches, as gpioget reads them. */
export const LOAD_SWITCH_LEVELS: Readonly<Record<string, 0 | 1>> = {
  GPIO17: 0,
  GPIO27: 1,
  'PQ.05': 0,
  'PQ.06': 1,
};

/** The data-centre host: its tree, and an environment whose PATH holds a fake nvidia-smi listing two H200s. */
export function datacenterTree(): { root: string; env: NodeJS.ProcessEnv; tools: FakeTools } {
  const tools = fakeTools({ nvidiaSmi: true });
  return { root: datacenterHostTree(), env: tools.env, tools };
}

/**
 * Writes a suggested board file where its `import ... from '../src/hal/linux/board.js'` resolves, without
 * writing into the repository: `<tmp>/boards/<name>.ts` beside a link `<tmp>/src` to the repository's src/ (and a
 * package.json making the directory ESM, as the repository's is). Returns the file's path.
 */
export function writeBoardFile(text: string, name = 'my-board'): string {
  const dir = tempDir('skynode-boardfile-');
  mkdirSync(join(dir, 'boards'));
  symlinkSync(join(ROOT, 'src'), join(dir, 'src'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const file = join(dir, 'boards', `${name}.ts`);
  writeFileSync(file, text);
  return file;
}
