import { describe, expect, it } from 'vitest';
import jetsonOrinNano from '../../../boards/jetson-orin-nano.js';
import nvidiaDatacenter from '../../../boards/nvidia-datacenter.js';
import raspberryPi5 from '../../../boards/raspberry-pi-5.js';
import type { BoardEnvironment } from '../../../src/hal/board.js';
import { type BoardCheck, checkBoard, formatCheck, type RoleCheck } from '../../../src/hal/check.js';
import {
  datacenterTree,
  fakeTools,
  jetsonOrinNanoTree,
  LOAD_SWITCH_LEVELS,
  raspberryPi5Tree,
} from '../../support/boards.js';
import { readAttribute } from '../../support/sysfs.js';

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);

function environment(root: string, env: NodeJS.ProcessEnv): BoardEnvironment {
  return { stateDir: '', now: () => NOW, root, env };
}

function role(check: BoardCheck, name: string): RoleCheck {
  const found = check.roles.find((r) => r.role === name);
  if (!found) throw new Error(`no role ${name} in ${check.roles.map((r) => r.role).join(', ')}`);
  return found;
}

describe('checkBoard: raspberry-pi-5', () => {
  it('reads every role of the board file on a matching Pi 5', async () => {
    const root = raspberryPi5Tree();
    const tools = fakeTools({ gpio: LOAD_SWITCH_LEVELS });
    const check = await checkBoard(raspberryPi5, environment(root, tools.env));
    expect(check.board).toBe('raspberry-pi-5');
    expect(check.roles.filter((r) => !r.ok)).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.roles.map((r) => r.role).sort()).toEqual([
      'accelerator',
      'battery',
      'busMonitor',
      'link',
      'loadSwitches[0] heater',
      'loadSwitches[1] fan',
      'temperatures.rp1',
      'temperatures.soc',
      'watchdog',
    ]);
    expect(role(check, 'accelerator')).toEqual({
      role: 'accelerator',
      source: 'cpufreq policy0 + cpu-thermal',
      ok: true,
      detail: '52.4 degC, 4.2 W, 2400 MHz',
    });
    expect(role(check, 'battery').detail).toBe('87 %, 7.82 V, -0.412 A, discharging');
    expect(role(check, 'busMonitor')).toMatchObject({
      source: 'hwmon2 ina219',
      detail: '5.123 V, 0.812 A, 4.16 W',
    });
    expect(role(check, 'temperatures.soc').detail).toBe('52.4 degC');
    expect(role(check, 'temperatures.rp1')).toMatchObject({ source: 'hwmon1 rp1_adc', detail: '47.8 degC' });
    expect(role(check, 'loadSwitches[0] heater')).toMatchObject({
      source: 'gpio gpiochip0:GPIO17',
      detail: 'off',
    });
    expect(role(check, 'loadSwitches[1] fan').detail).toBe('on');
    expect(role(check, 'link')).toEqual({
      role: 'link',
      source: '/dev/ttyAMA0@115200',
      ok: true,
      detail: 'serial port present',
    });
    expect(role(check, 'watchdog')).toEqual({
      role: 'watchdog',
      source: '/dev/watchdog0',
      ok: true,
      detail: 'present: Broadcom BCM2835 Watchdog timer, timeout 15 s (not opened: that would arm it)',
    });
    const text = formatCheck(check);
    expect(text).toMatch(/^ok {4}busMonitor +hwmon2 ina219: 5\.123 V, 0\.812 A, 4\.16 W$/m);
    expect(text.trimEnd().split('\n').pop()).toBe('board raspberry-pi-5: every role resolves');
  });

  it('never opens the watchdog: the device node is left as it was', async () => {
    const root = raspberryPi5Tree();
    const tools = fakeTools({ gpio: LOAD_SWITCH_LEVELS });
    await checkBoard(raspberryPi5, environment(root, tools.env));
    // A kick writes a byte and the magic close a 'V'; the check wrote neither.
    expect(readAttribute(root, 'dev/watchdog0')).toBe('');
    expect(readAttribute(root, 'dev/watchdog')).toBe('');
  });

  it('reads the load switches and switches none of them, not even the fan the board starts on', async () => {
    const tools = fakeTools({ gpio: LOAD_SWITCH_LEVELS });
    await checkBoard(raspberryPi5, environment(raspberryPi5Tree(), tools.env));
    // gpioset ran only to tell its version (which picks the tools' command line); no line was requested.
    expect(tools.calls('gpioset').filter((call) => call !== 'gpioset --version')).toEqual([]);
    expect(tools.calls('gpioget').sort()).toEqual([
      'gpioget -c gpiochip0 --numeric --as-is GPIO17',
      'gpioget -c gpiochip0 --numeric --as-is GPIO27',
    ]);
  });

  it('fails the roles whose devices are missing (no INA219, no UART), saying what is wrong', async () => {
    const root = raspberryPi5Tree({ ina219: false, uart: false });
    const tools = fakeTools({ gpio: LOAD_SWITCH_LEVELS });
    const check = await checkBoard(raspberryPi5, environment(root, tools.env));
    expect(check.ok).toBe(false);
    expect(
      check.roles
        .filter((r) => !r.ok)
        .map((r) => r.role)
        .sort(),
    ).toEqual(['busMonitor', 'link']);
    const bus = role(check, 'busMonitor');
    expect(bus.detail).toMatch(/^failed: no hwmon chip named 'ina219'/);
    expect(bus.detail).toContain('hwmon0 cpu_thermal, hwmon1 rp1_adc');
    expect(role(check, 'link').detail).toBe(
      '/dev/ttyAMA0 does not exist: plug in the adapter or enable the UART, or give --link',
    );
    // The accelerator's power comes from the INA219 too, but its temperature and clocks read: it is still usable.
    expect(role(check, 'accelerator')).toMatchObject({ ok: true, detail: '52.4 degC, 2400 MHz' });
    expect(role(check, 'battery').ok).toBe(true);
    expect(role(check, 'watchdog').ok).toBe(true);
    const text = formatCheck(check);
    expect(text).toMatch(/^FAIL {2}busMonitor +ina219: failed: no hwmon chip named 'ina219'/m);
    expect(text).toMatch(/^FAIL {2}link +\/dev\/ttyAMA0@115200: \/dev\/ttyAMA0 does not exist/m);
    expect(text.trimEnd().split('\n').pop()).toBe('board raspberry-pi-5: 2 of 9 roles fail');
  });

  it('fails the load switches when the libgpiod tools are missing, and says how to install them', async () => {
    const check = await checkBoard(raspberryPi5, environment(raspberryPi5Tree(), fakeTools().env));
    expect(check.ok).toBe(false);
    expect(role(check, 'loadSwitches[0] heater')).toMatchObject({
      ok: false,
      detail:
        'failed: load heater: gpioset not found on PATH: install the libgpiod tools (apt install gpiod)',
    });
  });
});

describe('checkBoard: jetson-orin-nano', () => {
  it('reads every role of the board file on a matching Orin Nano', async () => {
    const root = jetsonOrinNanoTree();
    const tools = fakeTools({ gpio: LOAD_SWITCH_LEVELS, nvpmodel: { name: 'MAXN_SUPER', id: 2 } });
    const check = await checkBoard(jetsonOrinNano, environment(root, tools.env));
    expect(check.roles.filter((r) => !r.ok)).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.roles.map((r) => r.role).sort()).toEqual([
      'accelerator',
      'busMonitor',
      'link',
      'loadSwitches[0] heater',
      'loadSwitches[1] camera',
      'powerRails.cpuGpuCv',
      'powerRails.soc',
      'temperatures.board',
      'temperatures.cpu',
      'temperatures.gpu',
      'temperatures.soc',
      'watchdog',
    ]);
    // GPU 47.2 degC; VDD_CPU_GPU_CV 5.072 V x 0.320 A; 612 MHz; MAXN_SUPER states no power cap.
    expect(role(check, 'accelerator')).toMatchObject({
      source: 'Jetson GPU (devfreq 17000000.gpu, thermal_zone1)',
      detail: '47.2 degC, 1.6 W, 612 MHz',
    });
    expect(role(check, 'busMonitor')).toMatchObject({
      source: 'hwmon1 ina3221 channel 1 (VDD_IN)',
      detail: '5.080 V, 1.216 A, 6.18 W',
    });
    expect(role(check, 'powerRails.cpuGpuCv').detail).toBe('5.072 V, 0.320 A, 1.62 W');
    expect(role(check, 'powerRails.soc').source).toBe('hwmon1 ina3221 channel 3 (VDD_SOC)');
    expect(role(check, 'temperatures.board')).toMatchObject({
      source: 'thermal_zone3 (tj-thermal)',
      detail: '48.9 degC',
    });
    expect(role(check, 'loadSwitches[0] heater').detail).toBe('off');
    expect(role(check, 'loadSwitches[1] camera').detail).toBe('on');
    expect(role(check, 'link').source).toBe('/dev/ttyTHS0@115200');
    expect(role(check, 'watchdog').detail).toBe(
      'present: Tegra WDT, timeout 120 s (not opened: that would arm it)',
    );
    // nvpmodel was asked, never told.
    expect(tools.calls('nvpmodel').every((call) => call === 'nvpmodel -q')).toBe(true);
    expect(tools.calls('gpioset').filter((call) => call !== 'gpioset --version')).toEqual([]);
    expect(readAttribute(root, 'dev/watchdog0')).toBe('');
  });

  it('fails the rails and the accelerator on a Pi 5 tree, which has no INA3221 or GPU', async () => {
    const tools = fakeTools({ gpio: LOAD_SWITCH_LEVELS });
    const check = await checkBoard(jetsonOrinNano, environment(raspberryPi5Tree(), tools.env));
    expect(check.ok).toBe(false);
    expect(role(check, 'accelerator').detail).toMatch(/^failed: no thermal zone of type gpu-thermal/);
    expect(role(check, 'busMonitor').detail).toMatch(/^failed: no hwmon chip named 'ina3221'/);
    expect(role(check, 'temperatures.gpu').detail).toMatch(
      /^failed: thermal zone 'gpu-thermal' not found .*\(zones: thermal_zone0 \(cpu-thermal\)\)/,
    );
    expect(role(check, 'link').ok).toBe(false);
    // The Pi's watchdog0 is there all the same.
    expect(role(check, 'watchdog').ok).toBe(true);
  });
});

describe('checkBoard: nvidia-datacenter', () => {
  it('reads the GPU through nvidia-smi and reports the systemd watchdog without touching it', async () => {
    const { root, env, tools } = datacenterTree();
    const check = await checkBoard(nvidiaDatacenter, environment(root, env));
    expect(check.ok).toBe(true);
    expect(role(check, 'accelerator').detail).toBe('34.0 degC, 74.1 W, cap 700 W, 345 MHz, throttled: idle');
    expect(role(check, 'temperatures.cpu').detail).toBe('41.0 degC');
    expect(role(check, 'link').detail).toBe('serial port present');
    expect(role(check, 'watchdog')).toMatchObject({ source: 'systemd', ok: true });
    // Read-only queries: no -pl, no --lock-gpu-clocks.
    expect(tools.calls('nvidia-smi').filter((call) => /-pl |--lock-gpu-clocks/.test(call))).toEqual([]);
  });
});
