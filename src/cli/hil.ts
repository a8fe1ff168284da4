/**
 * `skynode hil score`: runs a scenario in virtual time with skynode's controller and the three Linux baselines,
 * computes the optimum, and prints the scores. Composition only: the loop is hil/score.ts.
 */
import { parseArgs } from 'node:util';
import type { RigProgress, RigResult } from '../../hil/rig.js';
import { loadScenario, type Scenario, ScenarioError } from '../../hil/scenario.js';
import { type GovernorScore, type ScenarioScore, scoreScenario } from '../../hil/score.js';
import { UsageError } from './fsw.js';

export const HIL_HELP = `skynode hil: the hardware-in-the-loop rig

Usage:
  skynode hil score seeds/NAME.json [--json] [--report DIR]
  skynode hil devices --port PATH[@BAUD] [seeds/NAME.json] [--duration S]
  skynode hil run seeds/NAME.json [--duration S | --quick] [--step-ms MS] [--report DIR] [--json]
  skynode hil run seeds/NAME.json --device-port PATH --ground-port PATH --keys FILE [--baud N] [...]

score runs the scenario in virtual time (as fast as the CPU goes) with skynode's thermal and power control on
the scenario's plant, then with each baseline governor (bang-bang, step-wise, Linux power_allocator with kernel
defaults; all with the same power management), and computes the most compute any controller could deliver
(a linear program over the discretised scenario, HiGHS). A score is delivered / optimum, 0 if the junction
went over its limit or the battery under its floor at any moment.

devices serves the rig's simulated EPS (unit 1) and accelerator controller (unit 2) over Modbus RTU on a serial
port, in real time, from the scenario's plant (the example node without one): point it at a USB-serial adapter
cabled to a board running 'skynode fsw --board sim-serial' (SKYNODE_DEVICE_PORT names the board's end). It
prints the plant and the bus counters every 10 s until interrupted (or for --duration seconds).

run starts the flight software as its own process ('skynode fsw --board sim-serial --clock-follow SOCKET')
against the rig's Modbus devices on one pseudo-terminal pair (the rig's own, python3 unlocking it; socat's
without python3) and the rig's ground station on another
(fresh SDLS keys, COP-1), in accelerated time: the rig owns the mission clock, steps the plant by the scenario's
rig.stepMs (--step-ms), tells the flight software to advance to the same time and waits until it has settled,
step after step. It injects the scenario's faults (plant, sensors, device line noise and disconnection, ground
link loss, uplink replay, command storm, flight software crash and restart), runs its ground script, shows its
progress on stderr and prints the figures and every check; it passes when the junction and battery criteria,
the score (a run of the whole scenario only) and every ground check hold and the flight software exits 0.
--quick runs up to 5 minutes after the scenario's last scripted moment (at least 20 minutes), without a score
(what CI runs for the seeds with a ground script). With --device-port and --ground-port it is a bench: the devices and the ground on
real serial ports, in real time, against a board running 'skynode fsw --board sim-serial' with the same keys.

Options:
  --json        (score) one JSON object: { "scenario", "score", "optimum", "baselines": { "bang_bang",
                "step_wise", "power_allocator" }, "violations", "passed", "failures", "details" };
                (run) the run's figures, verdict, checks, faults and events, without the trace
  --duration S  (devices, run) seconds to run
  --quick       (run) the scripted part of the scenario only, no score
  --step-ms MS  (run) mission ms per clock step (default: the scenario's rig.stepMs, else 100)
  --report DIR  (score, run) write a self-contained HTML report: DIR/NAME.html, DIR/NAME.run.html
  --device-port PATH, --ground-port PATH, --keys FILE, --baud N
                (run) a bench: the rig's ends of the device bus and the ground link, the board's SDLS keys,
                both ports' speed (default 115200)
  -h, --help    this text

Exit status: 0 when the scenario's criteria are met (score, no violation, every ground check), 1 when not,
2 on a usage error, 130 when a run is interrupted (Ctrl-C, SIGTERM: the rig stops its processes first).
`;

/** A scenario file, or a usage error that says what is wrong with it. */
function scenarioFile(file: string): Scenario {
  try {
    return loadScenario(file);
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(error.message);
    throw error;
  }
}

const pct = (value: number) => `${(value * 100).toFixed(1)} %`;

function line(name: string, g: GovernorScore): string {
  const v = g.violations;
  const crossed =
    v.junctionKelvinSeconds > 0 || v.batteryDeficitWh > 0
      ? `  VIOLATION: ${v.junctionKelvinSeconds.toFixed(2)} K s over, ${v.batteryDeficitWh.toFixed(2)} Wh under`
      : '';
  return `${name.padEnd(16)} ${g.score.toFixed(3)}  ${g.averageAcceleratorW.toFixed(0).padStart(4)} W average, junction max ${v.junctionMaxC.toFixed(2)} degC, battery min ${pct(v.batteryMinSoc)}${crossed}`;
}

export function formatScore(result: ScenarioScore): string {
  const o = result.optimum;
  const lines = [
    `scenario ${result.scenario}`,
    `optimum          ${o.compute.toExponential(4)} compute (${o.averagePowerW.toFixed(0)} W average; LP ${o.status} in ${o.solveMs.toFixed(0)} ms; bounds: thermal ${o.bounds.thermalPowerW.toFixed(0)} W, energy ${o.bounds.energyPowerW.toFixed(0)} W)`,
    `                 score  power`,
    line('skynode', result.skynode),
    line('bang_bang', result.baselines.bang_bang),
    line('step_wise', result.baselines.step_wise),
    line('power_allocator', result.baselines.power_allocator),
    `${line('  (as Linux)', result.powerAllocatorAlone)}  <- the governor alone, no energy plan`,
    `skynode delivers ${pct(result.skynode.compute / result.baselines.power_allocator.compute - 1)} more compute than power_allocator (kernel defaults) with the same power management, ${pct(result.skynode.compute / result.powerAllocatorAlone.compute - 1)} more than it as Linux runs it; controller step ${(result.skynode.controllerCpuMsPerStep * 1000).toFixed(1)} us`,
    result.passed ? 'PASS' : `FAIL: ${result.failures.join('; ')}`,
  ];
  return `${lines.join('\n')}\n`;
}

export function scoreJson(result: ScenarioScore): Record<string, unknown> {
  return {
    scenario: result.scenario,
    score: result.score,
    optimum: result.optimum.compute,
    baselines: {
      bang_bang: result.baselines.bang_bang.score,
      step_wise: result.baselines.step_wise.score,
      power_allocator: result.baselines.power_allocator.score,
    },
    violations: result.violations,
    passed: result.passed,
    failures: result.failures,
    details: {
      optimum: result.optimum,
      powerAllocatorAlone: result.powerAllocatorAlone,
      skynode: result.skynode,
      baselines: result.baselines,
    },
  };
}

/** The rig's devices on a real serial port, in real time, until interrupted. */
async function devices(
  port: string | undefined,
  file: string | undefined,
  durationText: string | undefined,
  extra: readonly string[],
): Promise<number> {
  if (!port)
    throw new UsageError('hil devices needs --port PATH[@BAUD] (the rig end: a USB-serial adapter or a pty)');
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const durationS = durationText === undefined ? Number.POSITIVE_INFINITY : Number(durationText);
  if (!(durationS > 0)) throw new UsageError(`--duration takes seconds > 0, not '${durationText}'`);
  const match = /^(.*?)(?:@(\d+))?$/.exec(port);
  const path = match?.[1] ?? port;
  const baud = match?.[2] ? Number(match[2]) : 115200;
  const [{ exampleNode }, { Plant }, { startSerialDevices }, { RealClock }] = await Promise.all([
    import('../../hil/plant/defaults.js'),
    import('../../hil/plant/plant.js'),
    import('../../hil/devices/serial-rig.js'),
    import('../core/clock.js'),
  ]);
  let plantParams = exampleNode();
  if (file) plantParams = scenarioFile(file).plant;
  const plant = new Plant(plantParams);
  const rig = await startSerialDevices({ plant, clock: new RealClock(), path, baud });
  process.stdout.write(
    `serving EPS (unit 1) and accelerator controller (unit 2) on ${path} at ${baud} baud\n`,
  );
  const print = () => {
    const s = plant.state;
    const st = rig.stats;
    process.stdout.write(
      `t=${s.timeS.toFixed(0)} s junction ${s.junctionC.toFixed(1)} degC, accelerator ${s.acceleratorW.toFixed(0)} W (cap ${s.powerCapW.toFixed(0)} W), soc ${(s.soc * 100).toFixed(1)} %, ${s.sunlit ? 'sunlit' : 'eclipse'}; requests ${st.requests}, responses ${st.responses}, crc errors ${st.crcErrors}, exceptions ${st.exceptions}\n`,
    );
  };
  return await new Promise<number>((done) => {
    const timer = setInterval(print, 10_000);
    const stop = () => {
      clearInterval(timer);
      print();
      void rig.close().then(() => done(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (Number.isFinite(durationS)) setTimeout(stop, durationS * 1000);
  });
}

function progressBar(p: RigProgress): string {
  const filled = Math.round(p.fraction * 10);
  const speedup = p.realS > 0 ? p.missionS / p.realS : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(10 - filled)}] ${Math.floor(p.fraction * 100)} % t=${p.missionS.toFixed(0)} s x${speedup.toFixed(0)}`;
}

export function formatRun(result: RigResult): string {
  const v = result.violations;
  const failedChecks = result.checks.filter((c) => !c.passed).length;
  const lines = [
    `scenario ${result.scenario}`,
    `mission time     ${result.missionS.toFixed(1)} s`,
    `real time        ${result.realS.toFixed(1)} s`,
    `speed-up         x${result.speedup.toFixed(1)} (${result.stepMs} ms steps)`,
    `score            ${result.score ? `${result.score.score.toFixed(3)} of the optimum` : 'none (a score needs the whole scenario)'}`,
    `junction max     ${v.junctionMaxC.toFixed(2)} degC`,
    `battery min      ${pct(v.batteryMinSoc)}`,
    `violations       ${v.junctionKelvinSeconds.toFixed(2)} K s over the junction limit, ${v.batteryDeficitWh.toFixed(2)} Wh under the battery floor`,
    `faults injected  ${result.faults.length}`,
    `ground checks    ${result.checks.length - failedChecks} of ${result.checks.length} passed`,
    `device bus       ${result.bus.requests} requests, ${result.bus.crcErrors} CRC errors, ${result.bus.exceptions} exceptions`,
    `ground link      ${result.link.framesIn} frames in, ${result.link.framesRejected} rejected, ${result.link.commandsSent} commands sent`,
    result.bench
      ? "flight software  on the board (a bench: its exit is the board's)"
      : `flight software  exit ${result.fswExitCode}${result.restarts > 0 ? `, restarted ${result.restarts} time(s)` : ''}`,
    ...result.checks.map(
      (c) => `  ${c.passed ? 'pass' : 'FAIL'} t=${c.atS.toFixed(1)} s ${c.what}: ${c.detail}`,
    ),
    result.passed ? 'PASS' : `FAIL: ${result.failures.join('; ')}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Writes a report to DIR/NAME.html and says where. */
async function writeReport(dir: string, name: string, html: string): Promise<void> {
  const [{ mkdirSync, writeFileSync }, { join }] = await Promise.all([
    import('node:fs'),
    import('node:path'),
  ]);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.html`);
  writeFileSync(path, html);
  process.stderr.write(`report: ${path}\n`);
}

/** The flight software as its own process against the rig, in accelerated time. */
async function runAction(
  file: string | undefined,
  values: {
    duration?: string;
    'step-ms'?: string;
    report?: string;
    json?: boolean;
    quick?: boolean;
    'device-port'?: string;
    'ground-port'?: string;
    keys?: string;
    baud?: string;
  },
  extra: readonly string[],
): Promise<number> {
  if (!file) throw new UsageError('hil run needs a scenario file: skynode hil run seeds/NAME.json');
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const durationText = values.duration;
  const stepText = values['step-ms'];
  const durationS = durationText === undefined ? undefined : Number(durationText);
  if (durationS !== undefined && !(durationS > 0)) {
    throw new UsageError(`--duration takes seconds > 0, not '${durationText}'`);
  }
  const stepMs = stepText === undefined ? undefined : Number(stepText);
  if (stepMs !== undefined && (!(stepMs > 0) || !Number.isFinite(stepMs))) {
    throw new UsageError(`--step-ms takes milliseconds > 0, not '${stepText}'`);
  }
  if (values.quick && durationS !== undefined) throw new UsageError('give --quick or --duration, not both');
  const benchPorts = [values['device-port'], values['ground-port']].filter((p) => p !== undefined).length;
  if (benchPorts === 1) {
    throw new UsageError('a bench needs both --device-port PATH and --ground-port PATH (and --keys FILE)');
  }
  if (benchPorts === 0 && (values.keys !== undefined || values.baud !== undefined)) {
    throw new UsageError('--keys and --baud are for a bench: give --device-port and --ground-port too');
  }
  if (benchPorts === 2 && values.keys === undefined) {
    throw new UsageError("a bench's ground needs the keys the board was started with: --keys FILE");
  }
  const baud = values.baud === undefined ? 115200 : Number(values.baud);
  if (!Number.isInteger(baud) || baud <= 0) throw new UsageError(`--baud takes a rate, not '${values.baud}'`);
  const bench =
    benchPorts === 2
      ? {
          devicePort: values['device-port'] as string,
          groundPort: values['ground-port'] as string,
          keysFile: values.keys as string,
          baud,
        }
      : undefined;
  const scenario = scenarioFile(file);
  const { runRig, RigError } = await import('../../hil/rig.js');
  const { quickDurationS } = await import('../../hil/scenario.js');
  const tty = Boolean(process.stderr.isTTY);
  let nextTenth = 0.1;
  let result: RigResult;
  // Ctrl-C or a kill: stop stepping and clean up (the flight software, the serial lines, the scratch directory) before exit.
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    result = await runRig({
      signal: interrupt.signal,
      scenario,
      ...(durationS !== undefined ? { durationS } : {}),
      ...(values.quick ? { durationS: quickDurationS(scenario), skipScore: true } : {}),
      ...(bench ? { bench } : {}),
      ...(stepMs !== undefined ? { stepMs } : {}),
      onProgress: (p) => {
        if (tty) {
          process.stderr.write(`\r${progressBar(p)}`);
        } else if (p.fraction >= nextTenth - 1e-9) {
          while (p.fraction >= nextTenth - 1e-9) nextTenth += 0.1;
          process.stderr.write(`${progressBar(p)}\n`);
        }
      },
    });
  } catch (error) {
    if (tty) process.stderr.write('\n');
    if (interrupt.signal.aborted) {
      process.stderr.write('skynode hil run: interrupted; the flight software and the lines are stopped\n');
      return 130;
    }
    if (error instanceof RigError) {
      process.stderr.write(`skynode hil run: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (tty) process.stderr.write('\n');
  process.stdout.write(values.json ? `${JSON.stringify(runJson(result))}\n` : formatRun(result));
  if (values.report) {
    const { rigReport } = await import('../../hil/report.js');
    await writeReport(values.report, `${scenario.name}.run`, rigReport(result));
  }
  return result.passed ? 0 : 1;
}

/** `hil run --json`: the verdict and figures, without the trace. */
export function runJson(result: RigResult): Record<string, unknown> {
  const { trace: _trace, groundLog: _log, ...rest } = result;
  // null, not left out, when there is no score (a run of part of a scenario).
  return { ...rest, score: result.score ?? null };
}

export async function hilCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      json: { type: 'boolean', default: false },
      report: { type: 'string' },
      port: { type: 'string' },
      duration: { type: 'string' },
      'step-ms': { type: 'string' },
      quick: { type: 'boolean', default: false },
      'device-port': { type: 'string' },
      'ground-port': { type: 'string' },
      keys: { type: 'string' },
      baud: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HIL_HELP);
    return 0;
  }
  const [action, file, ...extra] = positionals;
  if (action === 'devices') return devices(values.port, file, values.duration, extra);
  if (action === 'run') return runAction(file, values, extra);
  if (action !== 'score') {
    throw new UsageError(
      action === undefined
        ? 'hil needs an action: skynode hil score seeds/NAME.json'
        : `unknown hil action '${action}': use score, run or devices`,
    );
  }
  if (!file) throw new UsageError('hil score needs a scenario file: skynode hil score seeds/NAME.json');
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const scenario = scenarioFile(file);
  const result = await scoreScenario(scenario, { traceEveryS: values.report ? 30 : 0 });
  process.stdout.write(values.json ? `${JSON.stringify(scoreJson(result))}\n` : formatScore(result));
  if (values.report) {
    const { htmlReport } = await import('../../hil/report.js');
    await writeReport(values.report, scenario.name, htmlReport(result, scenario.description));
  }
  return result.passed ? 0 : 1;
}
