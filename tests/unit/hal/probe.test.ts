import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { BoardDefinition } from '../../../src/hal/board.js';
import { checkBoard } from '../../../src/hal/check.js';
import { type FileIo, halContext } from '../../../src/hal/io.js';
import { formatProbe, type ProbeReport, probe } from '../../../src/hal/probe.js';
import {
  datacenterTree,
  fakeTools,
  H200_UUIDS,
  jetsonOrinNanoTree,
  raspberryPi5Tree,
  writeBoardFile,
} from '../../support/boards.js';
import { ROOT, tempDir } from '../../support/cli.js';
import { failingIo, fakeTree, setAttribute } from '../../support/sysfs.js';

const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);

/** Probes a tree with only `env`'s tools on PATH (none by default: no host nvidia-smi can answer). */
function probeTree(
  root: string,
  env: NodeJS.ProcessEnv = fakeTools().env,
  io?: FileIo,
): Promise<ProbeReport> {
  return probe(halContext({ now: () => NOW, root, env, ...(io ? { io } : {}) }));
}

/** Loads a suggested board file as `skynode board probe --board FILE` would, from where its import resolves. */
async function loadSuggested(text: string, name: string): Promise<BoardDefinition> {
  const file = writeBoardFile(text, name);
  const module = (await import(pathToFileURL(file).href)) as { default: BoardDefinition };
  return module.default;
}

/**
 * The compiler's errors in board files, checked with the project's compiler options. The files import the
 * repository's src/ by its absolute path, so that every module resolves from where it really is.
 */
function typeErrors(files: Readonly<Record<string, string>>): string[] {
  const dir = tempDir('skynode-typecheck-');
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  mkdirSync(join(dir, 'boards'));
  const names = Object.entries(files).map(([name, text]) => {
    const file = join(dir, 'boards', `${name}.ts`);
    writeFileSync(
      file,
      text.replace("'../src/hal/linux/board.js'", `'${join(ROOT, 'src/hal/linux/board.js')}'`),
    );
    return file;
  });
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile.bind(ts.sys));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const program = ts.createProgram(names, options);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('board probe on a Raspberry Pi 5', () => {
  it('lists what is there in volts, amps, watts, degC and MHz', async () => {
    const root = raspberryPi5Tree();
    const report = await probeTree(root);
    expect(report.root).toBe(root);
    expect(report.model).toBe('Raspberry Pi 5 Model B Rev 1.0');
    expect(report.thermalZones).toEqual([
      {
        name: 'thermal_zone0',
        type: 'cpu-thermal',
        celsius: 52.35,
        trips: [
          { type: 'active', celsius: 50, hysteresisC: 2 },
          { type: 'active', celsius: 60, hysteresisC: 2 },
          { type: 'active', celsius: 67.5, hysteresisC: 2 },
          { type: 'active', celsius: 75, hysteresisC: 2 },
          { type: 'critical', celsius: 110, hysteresisC: 2 },
        ],
      },
    ]);
    expect(report.coolingDevices).toMatchObject([
      { name: 'cooling_device0', type: 'pwm-fan', curState: 1, maxState: 4 },
    ]);
    expect(report.hwmon.map((chip) => [chip.name, chip.chip])).toEqual([
      ['hwmon0', 'cpu_thermal'],
      ['hwmon1', 'rp1_adc'],
      ['hwmon2', 'ina219'],
    ]);
    const ina219 = report.hwmon[2];
    expect(ina219?.device).toBe('/sys/devices/platform/axi/1000120000.pcie/1f00074000.i2c/i2c-1/1-0040');
    const reading = (kind: string, index: number) =>
      ina219?.readings.find((r) => r.kind === kind && r.index === index);
    expect(reading('in', 1)).toEqual({ kind: 'in', index: 1, units: 'V', value: 5.123 });
    expect(reading('curr', 1)).toEqual({ kind: 'curr', index: 1, units: 'A', value: 0.812 });
    expect(reading('power', 1)).toEqual({ kind: 'power', index: 1, units: 'W', value: 4.16 });
    expect(report.hwmon[0]?.readings).toEqual([{ kind: 'temp', index: 1, units: 'degC', value: 52.35 }]);
    expect(report.powerSupplies).toMatchObject([
      {
        name: 'battery',
        type: 'Battery',
        present: true,
        readings: { status: 'Discharging', stateOfCharge: 0.87, volts: 7.82, amps: 0.412, celsius: 25.1 },
      },
    ]);
    expect(report.devfreq).toEqual([]);
    expect(report.cpufreq).toEqual([
      {
        name: 'policy0',
        curMHz: 2400,
        minMHz: 1500,
        maxMHz: 2400,
        hardwareMaxMHz: 2400,
        governor: 'ondemand',
      },
    ]);
    expect(report.gpioChips).toEqual([
      { name: 'gpiochip0', label: 'pinctrl-rp1', lines: 54, base: 569, charDevice: true },
    ]);
    expect(report.watchdogs).toEqual([
      {
        name: 'watchdog0',
        identity: 'Broadcom BCM2835 Watchdog timer',
        timeoutS: 15,
        devicePath: '/dev/watchdog0',
        deviceExists: true,
      },
    ]);
    // tty0 and console are not serial ports; the header UART sorts before the debug UART.
    expect(report.serialPorts).toEqual([
      { path: '/dev/ttyAMA0', driver: 'uart-pl011' },
      { path: '/dev/ttyAMA10', driver: 'uart-pl011' },
    ]);
    expect(report.nvidiaGpus).toEqual([]);
    expect(report.nvidiaNote).toMatch(/nvidia-smi not found on PATH/);
  });

  it('suggests raspberry-pi-5 and a board file with the roles found', async () => {
    const { suggestion } = await probeTree(raspberryPi5Tree());
    expect(suggestion.board).toBe('raspberry-pi-5');
    expect(suggestion.reason).toBe("model 'Raspberry Pi 5 Model B Rev 1.0'");
    const file = suggestion.boardFile;
    expect(file).toContain("import { defineLinuxBoard } from '../src/hal/linux/board.js';");
    expect(file).toContain("name: 'my-raspberry-pi-5'");
    expect(file).toContain(
      "accelerator: { driver: 'cpufreq', policy: 'policy0', temperature: { driver: 'thermal-zone', zone: 'cpu-thermal' } },",
    );
    expect(file).toContain("battery: { driver: 'power-supply', name: 'battery' },");
    expect(file).toContain("busMonitor: { driver: 'hwmon', chip: 'ina219', channel: 1 },");
    expect(file).toContain("cpuThermal: { driver: 'thermal-zone', zone: 'cpu-thermal' },");
    expect(file).toContain('GPIO chips: gpiochip0 (pinctrl-rp1)');
    expect(file).toContain("link: { path: '/dev/ttyAMA0', baud: 115200 },");
    expect(file).toContain("watchdog: { driver: 'dev-watchdog', path: '/dev/watchdog0' },");
  });

  it('suggests a board file that loads and whose every role checks out on the machine it was made for', async () => {
    const root = raspberryPi5Tree();
    const tools = fakeTools();
    const { suggestion } = await probeTree(root, tools.env);
    const board = await loadSuggested(suggestion.boardFile, 'my-raspberry-pi-5');
    expect(board.name).toBe('my-raspberry-pi-5');
    expect(board.link).toEqual({ path: '/dev/ttyAMA0', baud: 115200 });
    const check = await checkBoard(board, { stateDir: '', now: () => NOW, root, env: tools.env });
    expect(check.roles.filter((role) => !role.ok)).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.roles.map((role) => role.role).sort()).toEqual([
      'accelerator',
      'battery',
      'busMonitor',
      'link',
      'temperatures.cpuThermal',
      'watchdog',
    ]);
    expect(check.roles.find((role) => role.role === 'busMonitor')?.detail).toBe('5.123 V, 0.812 A, 4.16 W');
    // No tool was needed, and none ran.
    expect(tools.calls()).toEqual([]);
  });

  it('prints the key lines', async () => {
    const root = raspberryPi5Tree();
    const text = formatProbe(await probeTree(root));
    const lines = text.split('\n');
    expect(lines[0]).toBe(`machine: Raspberry Pi 5 Model B Rev 1.0 (tree at ${root})`);
    for (const line of [
      'thermal zones:',
      '  thermal_zone0 cpu-thermal: 52.4 degC; trips active 50, active 60, active 68, active 75, critical 110 degC',
      '  cooling_device0 pwm-fan: state 1 of 4',
      '  hwmon0 cpu_thermal: temp1 52.4 degC',
      '  battery (Battery): Discharging, 87 %, 7.82 V, 0.412 A, 25.1 degC',
      'devfreq:',
      '  (none)',
      '  policy0: 2400 MHz (ceiling 2400, hardware max 2400), governor ondemand',
      '  gpiochip0 pinctrl-rp1: 54 lines',
      '  /dev/watchdog0 Broadcom BCM2835 Watchdog timer, timeout 15 s',
      '  /dev/ttyAMA0 (uart-pl011)',
      "suggested board: raspberry-pi-5 (model 'Raspberry Pi 5 Model B Rev 1.0')",
      'board file for this machine:',
      'export default defineLinuxBoard({',
    ]) {
      expect(lines).toContain(line);
    }
    const ina219 = lines.find((line) => line.startsWith('  hwmon2 ina219: '));
    expect(ina219).toContain('in1 5.123 V');
    expect(ina219).toContain('curr1 0.812 A');
    expect(ina219).toContain('power1 4.160 W');
    expect(text.endsWith('});\n\n')).toBe(true);
  });

  it('reports a thermal zone that reads garbage with its error, and goes on', async () => {
    const root = raspberryPi5Tree();
    setAttribute(root, 'sys/devices/virtual/thermal/thermal_zone0/temp', 'garbage\n');
    const report = await probeTree(root);
    const [zone] = report.thermalZones;
    expect(zone?.celsius).toBeUndefined();
    expect(zone?.error).toMatch(/expected an integer, read 'garbage'/);
    expect(zone?.trips).toHaveLength(5);
    expect(report.hwmon).toHaveLength(3);
    expect(report.suggestion.board).toBe('raspberry-pi-5');
    expect(formatProbe(report)).toMatch(
      /thermal_zone0 cpu-thermal: unreadable \(.*expected an integer.*\); trips/,
    );
  });

  it('reports a zone and a rail failing with EIO (a hung I2C bus) with the error, not a crash', async () => {
    const io = failingIo();
    io.fail('thermal_zone0/temp');
    io.fail('hwmon2/curr1_input');
    const report = await probeTree(raspberryPi5Tree(), undefined, io);
    expect(report.thermalZones[0]).toMatchObject({ name: 'thermal_zone0', type: 'cpu-thermal' });
    expect(report.thermalZones[0]?.celsius).toBeUndefined();
    expect(report.thermalZones[0]?.error).toMatch(/^EIO/);
    const current = report.hwmon[2]?.readings.find((r) => r.kind === 'curr' && r.index === 1);
    expect(current?.value).toBeUndefined();
    expect(current?.error).toMatch(/^EIO/);
    // The rest of the chip still reads.
    expect(report.hwmon[2]?.readings.find((r) => r.kind === 'in' && r.index === 1)?.value).toBe(5.123);
    const text = formatProbe(report);
    expect(text).toMatch(/thermal_zone0 cpu-thermal: unreadable \(EIO/);
    expect(text).toContain('curr1 ?');
  });
});

describe('board probe on a Jetson Orin Nano', () => {
  it('lists the GPU devfreq node, the thermal zones and the INA3221 rails by label', async () => {
    const report = await probeTree(jetsonOrinNanoTree());
    expect(report.model).toBe('NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super');
    expect(report.devfreq).toMatchObject([
      {
        name: '17000000.gpu',
        governor: 'nvhost_podgov',
        curHz: 612_000_000,
        minHz: 306_000_000,
        maxHz: 1_020_000_000,
      },
    ]);
    expect(report.devfreq[0]?.availableHz).toHaveLength(8);
    expect(report.thermalZones.map((zone) => [zone.type, zone.celsius])).toEqual([
      ['cpu-thermal', 48.5],
      ['gpu-thermal', 47.218],
      ['soc0-thermal', 47.843],
      ['tj-thermal', 48.906],
    ]);
    const ina3221 = report.hwmon.find((chip) => chip.chip === 'ina3221');
    expect(ina3221?.device).toBe('/sys/devices/platform/bus@0/c240000.i2c/i2c-1/1-0040');
    const volts = (index: number) => ina3221?.readings.find((r) => r.kind === 'in' && r.index === index);
    expect(volts(1)).toEqual({ kind: 'in', index: 1, label: 'VDD_IN', units: 'V', value: 5.08 });
    expect(volts(2)).toMatchObject({ label: 'VDD_CPU_GPU_CV', value: 5.072 });
    expect(volts(3)).toMatchObject({ label: 'VDD_SOC', value: 5.064 });
    expect(ina3221?.readings.find((r) => r.kind === 'curr' && r.index === 1)).toMatchObject({
      units: 'A',
      value: 1.216,
    });
    expect(report.cpufreq.map((policy) => [policy.name, policy.curMHz])).toEqual([
      ['policy0', 1728],
      ['policy4', 1344],
    ]);
    expect(report.gpioChips.map((chip) => chip.label)).toEqual(['tegra234-gpio', 'tegra234-gpio-aon']);
    // ttyTCU0, the combined console UART, is not offered for the link.
    expect(report.serialPorts).toEqual([{ path: '/dev/ttyTHS0', driver: 'serial-tegra' }]);
    const text = formatProbe(report);
    expect(text).toContain(
      '  17000000.gpu: 612 MHz (306 MHz..1020 MHz), governor nvhost_podgov, 8 operating points',
    );
    expect(text).toContain('in1 VDD_IN 5.080 V');
  });

  it('suggests jetson-orin-nano, with the devfreq node and the rails by their labels', async () => {
    const root = jetsonOrinNanoTree();
    const { suggestion } = await probeTree(root);
    expect(suggestion.board).toBe('jetson-orin-nano');
    expect(suggestion.reason).toBe('Jetson GPU devfreq node 17000000.gpu');
    const file = suggestion.boardFile;
    expect(file).toContain("accelerator: { driver: 'jetson', devfreq: '17000000.gpu' },");
    expect(file).toContain("busMonitor: { driver: 'hwmon', chip: 'ina3221', label: 'VDD_IN' },");
    expect(file).toContain("vddCpuGpuCv: { driver: 'hwmon', chip: 'ina3221', label: 'VDD_CPU_GPU_CV' },");
    expect(file).toContain("vddSoc: { driver: 'hwmon', chip: 'ina3221', label: 'VDD_SOC' },");
    for (const zone of ['cpu-thermal', 'gpu-thermal', 'soc0-thermal', 'tj-thermal']) {
      expect(file).toContain(`{ driver: 'thermal-zone', zone: '${zone}' }`);
    }
    expect(file).toContain("link: { path: '/dev/ttyTHS0', baud: 115200 },");
    expect(file).toContain("watchdog: { driver: 'dev-watchdog', path: '/dev/watchdog0' },");

    const tools = fakeTools({ nvpmodel: { name: 'MAXN_SUPER', id: 2 } });
    const board = await loadSuggested(file, 'my-jetson-orin-nano');
    const check = await checkBoard(board, { stateDir: '', now: () => NOW, root, env: tools.env });
    expect(check.roles.filter((role) => !role.ok)).toEqual([]);
    expect(check.ok).toBe(true);
    expect(check.roles.find((role) => role.role === 'powerRails.vddSoc')?.detail).toBe(
      '5.064 V, 0.736 A, 3.73 W',
    );
  });
});

describe('board probe on a data-centre host', () => {
  it('lists the GPUs nvidia-smi reports and suggests nvidia-datacenter', async () => {
    const { root, env, tools } = datacenterTree();
    const report = await probeTree(root, env);
    expect(report.model).toBe('Supermicro SYS-821GE-TNHR');
    expect(report.nvidiaGpus).toEqual([
      {
        index: 0,
        uuid: H200_UUIDS[0],
        name: 'NVIDIA H200',
        celsius: 34,
        watts: 74.12,
        powerCapW: 700,
        coreMHz: 345,
      },
      {
        index: 1,
        uuid: H200_UUIDS[1],
        name: 'NVIDIA H200',
        celsius: 36,
        watts: 76.4,
        powerCapW: 700,
        coreMHz: 345,
      },
    ]);
    expect(report.nvidiaNote).toBeUndefined();
    expect(tools.calls('nvidia-smi')).toEqual([
      'nvidia-smi --query-gpu=index,uuid,name,temperature.gpu,power.draw,power.limit,clocks.sm --format=csv,noheader,nounits',
    ]);
    expect(report.thermalZones.map((zone) => zone.type)).toEqual(['acpitz', 'x86_pkg_temp']);
    expect(report.cpufreq[0]).toMatchObject({ curMHz: 2000, maxMHz: 3800 });
    expect(report.watchdogs).toMatchObject([{ identity: 'iTCO_wdt', deviceExists: false }]);
    // ttyS1 has no UART behind it (port 0x0000).
    expect(report.serialPorts).toEqual([
      { path: '/dev/ttyS0', driver: 'port' },
      { path: '/dev/ttyUSB0', driver: 'ftdi_sio' },
    ]);
    expect(report.suggestion.board).toBe('nvidia-datacenter');
    expect(report.suggestion.reason).toBe('nvidia-smi lists NVIDIA H200, NVIDIA H200');

    const file = report.suggestion.boardFile;
    expect(file).toContain(`accelerator: { driver: 'nvidia-smi', uuid: '${H200_UUIDS[0]}' },`);
    expect(file).toContain("x86PkgTemp: { driver: 'thermal-zone', zone: 'x86_pkg_temp' },");
    // The USB adapter rather than the legacy port; no /dev/watchdog0, so systemd's watchdog.
    expect(file).toContain("link: { path: '/dev/ttyUSB0', baud: 115200 },");
    expect(file).toContain("watchdog: { driver: 'systemd' },");

    const text = formatProbe(report);
    expect(text).toContain(`  0 NVIDIA H200 ${H200_UUIDS[0]}: 34 degC, 74.1 W of 700 W, 345 MHz`);
    expect(text).toContain('  /dev/watchdog0 iTCO_wdt, timeout 30 s (no /dev node)');
    expect(text).toContain('suggested board: nvidia-datacenter (nvidia-smi lists NVIDIA H200, NVIDIA H200)');
  });

  it('suggests a board file whose accelerator reads the GPU it names', async () => {
    const { root, env } = datacenterTree();
    const { suggestion } = await probeTree(root, env);
    const board = await loadSuggested(suggestion.boardFile, 'my-nvidia-datacenter');
    const check = await checkBoard(board, { stateDir: '', now: () => NOW, root, env });
    expect(check.roles.filter((role) => !role.ok)).toEqual([]);
    expect(check.roles.find((role) => role.role === 'accelerator')).toMatchObject({
      ok: true,
      detail: '34.0 degC, 74.1 W, cap 700 W, 345 MHz, throttled: idle',
    });
  });
});

describe('board probe on an empty tree', () => {
  it('finds nothing, suggests generic-linux and does not crash', async () => {
    const root = fakeTree({});
    const report = await probeTree(root, fakeTools().env);
    expect(report.model).toBeUndefined();
    for (const section of [
      report.thermalZones,
      report.coolingDevices,
      report.hwmon,
      report.powerSupplies,
      report.devfreq,
      report.cpufreq,
      report.gpioChips,
      report.watchdogs,
      report.serialPorts,
      report.nvidiaGpus,
    ]) {
      expect(section).toEqual([]);
    }
    expect(report.suggestion.board).toBe('generic-linux');
    expect(report.suggestion.reason).toMatch(/no board file in boards\/ matches this machine/);
    const file = report.suggestion.boardFile;
    expect(file).toContain("name: 'my-board'");
    expect(file).toContain("description: 'this machine'");
    expect(file).toContain("watchdog: { driver: 'systemd' },");
    expect(file).not.toContain('accelerator');
    expect(file).not.toContain('link:');
    const text = formatProbe(report);
    expect(text).toContain('machine: unknown model');
    expect(text).toContain('  (none: no /sys/class/thermal)');
    expect(text).toContain('suggested board: generic-linux');
  });

  it('loads the suggestion for an empty machine, whose only role is the systemd watchdog', async () => {
    const root = tempDir('skynode-empty-');
    const report = await probeTree(root);
    const board = await loadSuggested(report.suggestion.boardFile, 'my-board');
    const check = await checkBoard(board, { stateDir: '', now: () => NOW, root, env: {} });
    expect(check.ok).toBe(true);
    expect(check.roles.map((role) => role.role)).toEqual(['watchdog']);
  });
});

describe('suggested board files', () => {
  it('type-check under the project compiler options', async () => {
    const datacenter = datacenterTree();
    const [pi, jetson, host, empty] = await Promise.all([
      probeTree(raspberryPi5Tree()),
      probeTree(jetsonOrinNanoTree()),
      probeTree(datacenter.root, datacenter.env),
      probeTree(fakeTree({})),
    ]);
    const errors = typeErrors({
      'my-raspberry-pi-5': pi.suggestion.boardFile,
      'my-jetson-orin-nano': jetson.suggestion.boardFile,
      'my-nvidia-datacenter': host.suggestion.boardFile,
      'my-board': empty.suggestion.boardFile,
      // A control: the compiler does look at the files, and a wrong driver name is an error.
      broken: pi.suggestion.boardFile.replace("driver: 'cpufreq'", "driver: 'cpu-freq'"),
    });
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.filter((error) => !error.includes('/boards/broken.ts: '))).toEqual([]);
  });
});
