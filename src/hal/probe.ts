/**
 * `skynode board probe`: what a Linux machine exposes to the flight software, read through the same drivers the
 * board files use, in everyday units, and a suggested board file. Runs against `/` or any tree shaped like it (a
 * capture from a board, a fake tree in tests).
 */
import { type HalContext, readOptionalInteger, readOptionalText, under } from './io.js';
import { type CpufreqPolicy, listCpufreqPolicies } from './linux/cpufreq.js';
import { type DevfreqEntry, listDevfreq } from './linux/devfreq.js';
import { type GpioChipEntry, listGpioChips } from './linux/gpio.js';
import { type HwmonChannelKind, listHwmon } from './linux/hwmon.js';
import { listNvidiaGpus, type NvidiaGpuRow } from './linux/nvidia-smi.js';
import { listPowerSupplies, type PowerSupplyEntry } from './linux/power-supply.js';
import {
  type CoolingDeviceEntry,
  listCoolingDevices,
  listThermalZones,
  thermalZone,
} from './linux/thermal.js';
import { listWatchdogs, type WatchdogEntry } from './linux/watchdog.js';
import type { TripPoint } from './types.js';

export interface ProbedThermalZone {
  readonly name: string;
  readonly type: string;
  readonly celsius?: number;
  readonly error?: string;
  readonly trips: readonly TripPoint[];
}

export interface ProbedHwmonReading {
  readonly kind: HwmonChannelKind;
  readonly index: number;
  readonly label?: string;
  /** In volts, amps, watts or degrees Celsius. */
  readonly value?: number;
  readonly units: 'V' | 'A' | 'W' | 'degC';
  readonly error?: string;
}

export interface ProbedHwmon {
  readonly name: string;
  readonly chip: string;
  readonly device?: string;
  readonly readings: readonly ProbedHwmonReading[];
}

export interface ProbedSerialPort {
  readonly path: string;
  /** The kernel driver behind it (`ftdi_sio`, `cdc_acm`, `uart-pl011`), when sysfs says. */
  readonly driver?: string;
}

export interface BoardSuggestion {
  /** A board in boards/ that fits, or `generic-linux`. */
  readonly board: string;
  readonly reason: string;
  /** A board file for this machine, from what was found: a starting point to edit. */
  readonly boardFile: string;
}

export interface ProbeReport {
  readonly root: string;
  /** The device tree's or the firmware's name for the machine. */
  readonly model?: string;
  readonly thermalZones: readonly ProbedThermalZone[];
  readonly coolingDevices: readonly CoolingDeviceEntry[];
  readonly hwmon: readonly ProbedHwmon[];
  readonly powerSupplies: readonly PowerSupplyEntry[];
  readonly devfreq: readonly DevfreqEntry[];
  readonly cpufreq: readonly CpufreqPolicy[];
  readonly gpioChips: readonly GpioChipEntry[];
  readonly watchdogs: readonly WatchdogEntry[];
  readonly serialPorts: readonly ProbedSerialPort[];
  readonly nvidiaGpus: readonly NvidiaGpuRow[];
  /** Why no NVIDIA GPU is listed, when nvidia-smi is absent or failed. */
  readonly nvidiaNote?: string;
  readonly suggestion: BoardSuggestion;
}

const HWMON_SCALE: Readonly<
  Record<HwmonChannelKind, { divisor: number; units: ProbedHwmonReading['units'] }>
> = {
  in: { divisor: 1000, units: 'V' },
  curr: { divisor: 1000, units: 'A' },
  power: { divisor: 1_000_000, units: 'W' },
  temp: { divisor: 1000, units: 'degC' },
};

/** Serial ports worth linking to: USB adapters, CDC-ACM radios, SoC UARTs. Legacy 8250 ports without hardware are left out. */
const SERIAL_NAME = /^(ttyUSB\d+|ttyACM\d+|ttyAMA\d+|ttyTHS\d+|ttyS\d+|ttymxc\d+|ttyO\d+|serial\d+)$/;

async function probeSerialPorts(ctx: HalContext): Promise<ProbedSerialPort[]> {
  const names = (await ctx.io.readdir(under(ctx, '/sys/class/tty')).catch(() => [] as string[]))
    .filter((name) => SERIAL_NAME.test(name))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const ports: ProbedSerialPort[] = [];
  for (const name of names) {
    const dir = under(ctx, `/sys/class/tty/${name}`);
    // An 8250 port the firmware declared but nothing backs has no I/O port or memory base: skip those.
    if (name.startsWith('ttyS')) {
      const port = await readOptionalText(ctx, `${dir}/port`).catch(() => undefined);
      if (port !== undefined && /^0x0+$/i.test(port)) continue;
    }
    const driver = await ctx.io
      .readlink(`${dir}/device/driver`)
      .then((target) => target.split('/').pop())
      .catch(() => undefined);
    ports.push({ path: `/dev/${name}`, ...(driver ? { driver } : {}) });
  }
  return ports;
}

async function probeModel(ctx: HalContext): Promise<string | undefined> {
  for (const path of ['/proc/device-tree/model', '/sys/firmware/devicetree/base/model']) {
    const model = await readOptionalText(ctx, under(ctx, path)).catch(() => undefined);
    // The device tree's strings end in NUL.
    if (model) return model.replace(/\0+$/, '');
  }
  const vendor = await readOptionalText(ctx, under(ctx, '/sys/class/dmi/id/sys_vendor')).catch(
    () => undefined,
  );
  const product = await readOptionalText(ctx, under(ctx, '/sys/class/dmi/id/product_name')).catch(
    () => undefined,
  );
  const dmi = [vendor, product].filter(Boolean).join(' ');
  return dmi || undefined;
}

/** Reads everything a board file could use. Never rejects on a missing or failing device: it reports it. */
export async function probe(ctx: HalContext): Promise<ProbeReport> {
  const [
    zones,
    coolingDevices,
    chips,
    powerSupplies,
    devfreq,
    cpufreq,
    gpioChips,
    watchdogs,
    serialPorts,
    model,
  ] = await Promise.all([
    listThermalZones(ctx),
    listCoolingDevices(ctx),
    listHwmon(ctx),
    listPowerSupplies(ctx),
    listDevfreq(ctx),
    listCpufreqPolicies(ctx),
    listGpioChips(ctx),
    listWatchdogs(ctx),
    probeSerialPorts(ctx),
    probeModel(ctx),
  ]);
  const nvidia = await listNvidiaGpus(ctx);
  const thermalZones = await Promise.all(
    zones.map(async (zone): Promise<ProbedThermalZone> => {
      const sensor = thermalZone(ctx, { zone: zone.name });
      const [reading, trips] = await Promise.all([sensor.read(), sensor.trips?.().catch(() => []) ?? []]);
      return {
        name: zone.name,
        type: zone.type,
        ...(reading.quality === 'failed' ? { error: reading.error } : { celsius: reading.value }),
        ...(reading.quality !== 'ok' && reading.quality !== 'failed' ? { error: reading.error } : {}),
        trips,
      };
    }),
  );
  const hwmon = await Promise.all(
    chips.map(async (chip): Promise<ProbedHwmon> => {
      const readings = await Promise.all(
        chip.channels.map(async (channel): Promise<ProbedHwmonReading> => {
          const scale = HWMON_SCALE[channel.kind];
          const base = {
            kind: channel.kind,
            index: channel.index,
            units: scale.units,
            ...(channel.label ? { label: channel.label } : {}),
          };
          try {
            const raw = await readOptionalInteger(ctx, `${chip.path}/${channel.kind}${channel.index}_input`);
            return raw === undefined
              ? { ...base, error: 'no _input file' }
              : { ...base, value: raw / scale.divisor };
          } catch (error) {
            return { ...base, error: (error as Error).message };
          }
        }),
      );
      return { name: chip.name, chip: chip.chip, ...(chip.device ? { device: chip.device } : {}), readings };
    }),
  );
  const partial = {
    root: ctx.root,
    ...(model ? { model } : {}),
    thermalZones,
    coolingDevices,
    hwmon,
    powerSupplies,
    devfreq,
    cpufreq,
    gpioChips,
    watchdogs,
    serialPorts,
    nvidiaGpus: nvidia.gpus,
    ...(nvidia.error ? { nvidiaNote: nvidia.error } : {}),
  };
  return { ...partial, suggestion: suggestBoard(partial) };
}

const isJetsonGpu = (entry: DevfreqEntry): boolean => /\.(gpu|ga10b|gv11b|gp10b)$/.test(entry.name);

/** A TypeScript property key for a zone type or rail label: `cpu-thermal` -> `cpuThermal`. */
function roleKey(text: string): string {
  const words = text
    .replace(/[^A-Za-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter(Boolean);
  const key = words
    .map((word, i) => (i === 0 ? word.toLowerCase() : word[0]?.toUpperCase() + word.slice(1).toLowerCase()))
    .join('');
  return /^[a-z]/.test(key) ? key : `t${key}`;
}

/** The thermal zone that best stands for the processor: the types kernels give SoC and CPU package sensors. */
function processorZone(zones: readonly ProbedThermalZone[]): ProbedThermalZone | undefined {
  const preferred = [
    'cpu-thermal',
    'cpu_thermal',
    'x86_pkg_temp',
    'soc_thermal',
    'soc-thermal',
    'cpu0-thermal',
  ];
  return zones.find((zone) => preferred.includes(zone.type.toLowerCase())) ?? zones[0];
}

export function suggestBoard(report: Omit<ProbeReport, 'suggestion'>): BoardSuggestion {
  const model = report.model ?? '';
  const jetsonGpu = report.devfreq.find(isJetsonGpu);
  let board = 'generic-linux';
  let reason = 'no board file in boards/ matches this machine; the suggested file below fits what was found';
  if (report.nvidiaGpus.length > 0) {
    board = 'nvidia-datacenter';
    reason = `nvidia-smi lists ${report.nvidiaGpus.map((gpu) => gpu.name).join(', ')}`;
  } else if (/jetson|orin/i.test(model) || jetsonGpu) {
    board = 'jetson-orin-nano';
    reason = jetsonGpu ? `Jetson GPU devfreq node ${jetsonGpu.name}` : `model '${model}'`;
  } else if (/raspberry pi 5/i.test(model)) {
    board = 'raspberry-pi-5';
    reason = `model '${model}'`;
  }

  const lines: string[] = [];
  const zone = processorZone(report.thermalZones);
  if (report.nvidiaGpus.length > 0) {
    lines.push(`  accelerator: { driver: 'nvidia-smi', uuid: '${report.nvidiaGpus[0]?.uuid}' },`);
  } else if (jetsonGpu) {
    lines.push(`  accelerator: { driver: 'jetson', devfreq: '${jetsonGpu.name}' },`);
  } else if (report.cpufreq[0] && zone) {
    lines.push(
      `  accelerator: { driver: 'cpufreq', policy: '${report.cpufreq[0].name}', temperature: { driver: 'thermal-zone', zone: '${zone.type || zone.name}' } },`,
    );
  }
  const battery = report.powerSupplies.find((supply) => supply.type === 'Battery');
  if (battery) lines.push(`  battery: { driver: 'power-supply', name: '${battery.name}' },`);
  const input = report.powerSupplies.find((supply) => ['Mains', 'USB', 'Solar'].includes(supply.type));
  if (input)
    lines.push(
      `  // The charger input stands in for the solar array on a bench.`,
      `  solar: { driver: 'power-supply', name: '${input.name}' },`,
    );
  const monitors = report.hwmon.filter((chip) => /^ina(219|226|230|231|3221|260|238)$/.test(chip.chip));
  const railOf = (chip: ProbedHwmon, reading: ProbedHwmonReading): string =>
    reading.label
      ? `{ driver: 'hwmon', chip: '${chip.chip}', label: '${reading.label}' }`
      : `{ driver: 'hwmon', chip: '${chip.chip}', channel: ${reading.index} }`;
  const rails = monitors.flatMap((chip) =>
    chip.readings
      .filter((reading) => reading.kind === 'curr')
      .map((reading) => {
        // The INA3221 labels its voltage channels (`in1_label` VDD_IN), not its currents: a current takes the
        // label of the voltage of its channel.
        const label =
          reading.label ?? chip.readings.find((r) => r.kind === 'in' && r.index === reading.index)?.label;
        return {
          chip,
          reading: label ? { ...reading, label } : reading,
          key: roleKey(label ?? `${chip.chip} ${reading.index}`),
        };
      }),
  );
  const bus = rails.find((rail) => /vdd_in|vin|bus/i.test(rail.reading.label ?? '')) ?? rails[0];
  if (bus) lines.push(`  busMonitor: ${railOf(bus.chip, bus.reading)},`);
  const otherRails = rails.filter((rail) => rail !== bus);
  if (otherRails.length > 0) {
    lines.push('  powerRails: {');
    for (const rail of otherRails) lines.push(`    ${rail.key}: ${railOf(rail.chip, rail.reading)},`);
    lines.push('  },');
  }
  if (report.thermalZones.length > 0) {
    lines.push('  temperatures: {');
    const used = new Set<string>();
    for (const z of report.thermalZones) {
      let key = roleKey(z.type || z.name);
      while (used.has(key)) key = `${key}${used.size}`;
      used.add(key);
      lines.push(
        `    ${key}: { driver: 'thermal-zone', zone: '${z.type && report.thermalZones.filter((o) => o.type === z.type).length === 1 ? z.type : z.name}' },`,
      );
    }
    lines.push('  },');
  }
  if (report.gpioChips.length > 0) {
    const chips = report.gpioChips
      .map((chip) => `${chip.name}${chip.label ? ` (${chip.label})` : ''}`)
      .join(', ');
    lines.push(
      `  // GPIO chips: ${chips}. Add load switches in shedding order, for example:`,
      `  // loadSwitches: [{ driver: 'gpio', name: 'heater', chip: '${report.gpioChips[0]?.name}', line: 17 }],`,
    );
  }
  const port = report.serialPorts.find((p) => !p.path.startsWith('/dev/ttyS')) ?? report.serialPorts[0];
  if (port) lines.push(`  link: { path: '${port.path}', baud: 115200 },`);
  const dog = report.watchdogs.find((w) => w.deviceExists);
  lines.push(
    dog
      ? `  watchdog: { driver: 'dev-watchdog', path: '${dog.devicePath}' },`
      : `  watchdog: { driver: 'systemd' },`,
  );
  const name = board === 'generic-linux' ? 'my-board' : `my-${board}`;
  const boardFile = [
    `// boards/${name}.ts: suggested by \`skynode board probe\`${report.model ? ` on ${report.model}` : ''}. Check it with`,
    `// \`skynode board probe --board boards/${name}.ts --check\`.`,
    `import { defineLinuxBoard } from '../src/hal/linux/board.js';`,
    '',
    'export default defineLinuxBoard({',
    `  name: '${name}',`,
    `  description: '${(report.model ?? 'this machine').replace(/'/g, '')}',`,
    ...lines,
    '});',
    '',
  ].join('\n');
  return { board, reason, boardFile };
}

const fixed = (value: number | undefined, digits: number): string =>
  value === undefined ? '?' : value.toFixed(digits);

const MHZ = (hz: number): string => `${Math.round(hz / 1e6)} MHz`;

/** The report as a person reads it. */
export function formatProbe(report: ProbeReport): string {
  const out: string[] = [];
  const section = (title: string, rows: readonly string[], empty: string): void => {
    out.push(`${title}:`);
    out.push(...(rows.length > 0 ? rows.map((row) => `  ${row}`) : [`  (${empty})`]));
  };
  out.push(
    `machine: ${report.model ?? 'unknown model'}${report.root === '/' ? '' : ` (tree at ${report.root})`}`,
  );
  section(
    'thermal zones',
    report.thermalZones.map((zone) => {
      const trips = zone.trips.map((trip) => `${trip.type} ${fixed(trip.celsius, 0)}`).join(', ');
      const value = zone.celsius !== undefined ? `${fixed(zone.celsius, 1)} degC` : 'unreadable';
      return `${zone.name} ${zone.type}: ${value}${zone.error ? ` (${zone.error})` : ''}${trips ? `; trips ${trips} degC` : ''}`;
    }),
    'none: no /sys/class/thermal',
  );
  section(
    'cooling devices',
    report.coolingDevices.map(
      (d) => `${d.name} ${d.type}: state ${d.curState ?? '?'} of ${d.maxState ?? '?'}`,
    ),
    'none',
  );
  section(
    'hwmon',
    report.hwmon.map((chip) => {
      const values = chip.readings.map((r) => {
        const name = `${r.kind}${r.index}${r.label ? ` ${r.label}` : ''}`;
        const digits = r.units === 'degC' ? 1 : 3;
        return r.value !== undefined ? `${name} ${fixed(r.value, digits)} ${r.units}` : `${name} ?`;
      });
      return `${chip.name} ${chip.chip}: ${values.join(', ') || 'no channels'}`;
    }),
    'none',
  );
  section(
    'power supplies',
    report.powerSupplies.map((s) => {
      const r = s.readings;
      const parts = [
        s.online !== undefined ? (s.online ? 'online' : 'offline') : undefined,
        r.status,
        r.stateOfCharge !== undefined ? `${fixed(r.stateOfCharge * 100, 0)} %` : undefined,
        r.volts !== undefined ? `${fixed(r.volts, 2)} V` : undefined,
        r.amps !== undefined ? `${fixed(r.amps, 3)} A` : undefined,
        r.watts !== undefined ? `${fixed(r.watts, 2)} W` : undefined,
        r.celsius !== undefined ? `${fixed(r.celsius, 1)} degC` : undefined,
      ].filter(Boolean);
      return `${s.name} (${s.type || 'unknown type'}): ${parts.join(', ')}`;
    }),
    'none',
  );
  section(
    'devfreq',
    report.devfreq.map(
      (d) =>
        `${d.name}: ${MHZ(d.curHz)} (${MHZ(d.minHz)}..${MHZ(d.maxHz)})${d.governor ? `, governor ${d.governor}` : ''}${d.availableHz.length > 0 ? `, ${d.availableHz.length} operating points` : ''}`,
    ),
    'none',
  );
  section(
    'cpufreq',
    report.cpufreq.map(
      (p) =>
        `${p.name}: ${fixed(p.curMHz, 0)} MHz (ceiling ${fixed(p.maxMHz, 0)}, hardware max ${fixed(p.hardwareMaxMHz, 0)})${p.governor ? `, governor ${p.governor}` : ''}`,
    ),
    'none',
  );
  section(
    'GPIO chips',
    report.gpioChips.map(
      (c) =>
        `${c.name}${c.label ? ` ${c.label}` : ''}${c.lines !== undefined ? `: ${c.lines} lines` : ''}${c.charDevice ? '' : ' (no /dev node)'}`,
    ),
    'none',
  );
  section(
    'watchdogs',
    report.watchdogs.map(
      (w) =>
        `${w.devicePath}${w.identity ? ` ${w.identity}` : ''}${w.timeoutS !== undefined ? `, timeout ${w.timeoutS} s` : ''}${w.deviceExists ? '' : ' (no /dev node)'}`,
    ),
    'none',
  );
  section(
    'serial ports',
    report.serialPorts.map((p) => `${p.path}${p.driver ? ` (${p.driver})` : ''}`),
    'none',
  );
  section(
    'NVIDIA GPUs',
    report.nvidiaGpus.map(
      (g) =>
        `${g.index} ${g.name} ${g.uuid}: ${fixed(g.celsius, 0)} degC, ${fixed(g.watts, 1)} W of ${fixed(g.powerCapW, 0)} W, ${fixed(g.coreMHz, 0)} MHz`,
    ),
    report.nvidiaNote ?? 'none',
  );
  out.push('', `suggested board: ${report.suggestion.board} (${report.suggestion.reason})`);
  out.push('board file for this machine:', '', report.suggestion.boardFile);
  return `${out.join('\n')}\n`;
}
