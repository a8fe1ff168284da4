/**
 * `skynode hil run`: the flight software as its own process, on the `sim-serial` board, against the rig's Modbus
 * devices on one pseudo-terminal and the rig's ground station on another, in accelerated time. The rig owns the
 * mission clock: it steps the plant, then tells the flight software (`skynode fsw --clock-follow SOCKET`,
 * src/cli/follow-clock.ts) to advance to the same time and waits until it has (its Modbus traffic settled), step
 * after step, as fast as both go. Meanwhile the ground station runs the scenario's ground script over the link,
 * and the scenario's faults are injected: into the plant, the devices' sensors, the device line, the ground link,
 * and the flight software process itself (killed and started again).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type MissionClock, RealClock, VirtualClock } from '../src/core/clock.js';
import { buildDictionary } from '../src/core/dictionary.js';
import type { Binding } from '../src/thermal/controller.js';
import { Prng } from '../src/transport/prng.js';
import type { ModbusSlaveStats } from './devices/modbus-slave.js';
import { type SerialDevices, startSerialDevices } from './devices/serial-rig.js';
import { optimum, score } from './optimum.js';
import { Plant, type PlantViolations } from './plant/plant.js';
import { openPtyLine, type PtyEnd } from './pty.js';
import { type GroundCheck, type GroundEvent, RigGround, unknownNames } from './rig-ground.js';
import { type Fault, isRigFault, type RigFault, type Scenario } from './scenario.js';
import type { TracePoint } from './score.js';

/**
 * The package's root: the folder above this module that holds bin/skynode.js, whether the module runs from the
 * checkout (hil/) or from the build (dist/hil/, as on a board), so that the flight software starts either way.
 */
function packageRoot(): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'bin', 'skynode.js'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no bin/skynode.js above ${import.meta.dirname}`);
  }
}
const ROOT = packageRoot();
const BIN = join(ROOT, 'bin', 'skynode.js');

/**
 * Where a run keeps its pseudo-terminal links, sockets and the flight software's state: memory (/dev/shm) where
 * there is one. The recorder and the parameter store fsync every commit, as they must in flight; on a scratch
 * directory that lives as long as the run, a disk's fsync would only slow the accelerated clock down.
 */
function scratchDir(): string {
  const shm = '/dev/shm';
  try {
    accessSync(shm, constants.W_OK);
    return shm;
  } catch {
    return tmpdir();
  }
}

/** The rig's mission epoch: a fixed start, so runs repeat. */
export const RIG_EPOCH_MS = Date.UTC(2026, 0, 1);

export class RigError extends Error {
  override name = 'RigError';
}

export interface RigProgress {
  /** 0..1 of the run. */
  readonly fraction: number;
  readonly missionS: number;
  /** Real time since the flight software connected, s. */
  readonly realS: number;
}

export interface RigOptions {
  readonly scenario: Scenario;
  /** Mission seconds to run (default: the scenario's duration). */
  readonly durationS?: number;
  /** Mission ms per clock step (default: the scenario's rig.stepMs, 100 unless it says otherwise). */
  readonly stepMs?: number;
  /** Called about every 1 % of the run. */
  readonly onProgress?: (progress: RigProgress) => void;
  /** Real ms to wait for one answer of the flight software before giving up (default 10 000). */
  readonly replyTimeoutMs?: number;
  /** Mission seconds between trace points (default 10). */
  readonly traceEveryS?: number;
  /**
   * A bench with real cables: the devices and the ground station on real serial ports, in real time, against
   * the flight software running on the board (started there, with these ports' far ends and the same keys).
   */
  readonly bench?: RigBench;
  /** Aborts the run (Ctrl-C): the flight software, socat and the scratch directory are cleaned up. */
  readonly signal?: AbortSignal;
  /** Skip the optimum (a linear program; seconds for three orbits): no score then. A run shorter than the
   * scenario has none either. */
  readonly skipScore?: boolean;
}

export interface RigBench {
  /** The rig's end of the device bus, e.g. /dev/ttyUSB0. */
  readonly devicePort: string;
  /** The rig's end of the ground link, e.g. /dev/ttyUSB2. */
  readonly groundPort: string;
  /** Both ports' speed (8N1); default 115200. */
  readonly baud?: number;
  /** The SDLS keys the board's flight software was started with (PROTOCOL.md, "Keys"). */
  readonly keysFile: string;
}

export interface RigScore {
  /** Delivered / optimum, 0 on any violation. */
  readonly score: number;
  readonly optimumCompute: number;
  readonly optimumStatus: string;
}

export interface RigResult {
  readonly scenario: string;
  readonly description: string;
  readonly missionS: number;
  readonly realS: number;
  /** Mission seconds per real second. */
  readonly speedup: number;
  readonly stepMs: number;
  readonly violations: PlantViolations;
  readonly computeTotal: number;
  readonly score: RigScore | undefined;
  readonly limits: { readonly junctionMaxC: number; readonly batteryFloorSoc: number };
  readonly passed: boolean;
  readonly failures: readonly string[];
  /** The last flight software process's exit status (null: killed by a signal, or a bench's board). */
  readonly fswExitCode: number | null;
  /** A bench: the flight software ran on the board, not as the rig's process. */
  readonly bench: boolean;
  /** Times the flight software was killed and started again (fsw-crash faults). */
  readonly restarts: number;
  /** Every ground-script step and injected fault that has a verdict. */
  readonly checks: readonly GroundCheck[];
  /** The faults injected, when, in words. */
  readonly faults: ReadonlyArray<{ readonly atS: number; readonly what: string }>;
  /** Events the ground received. */
  readonly events: readonly GroundEvent[];
  /** The plant over the run, with the mode and binding the flight software reported. */
  readonly trace: readonly TracePoint[];
  /** The device bus as the rig's devices saw it, and the line faults. */
  readonly bus: ModbusSlaveStats & { readonly corruptedOctets: number; readonly droppedOctets: number };
  /** The ground link: frames and packets received, rejected, commands sent. */
  readonly link: ReturnType<RigGround['station']['linkStats']>;
  /** What the ground station logged (recoveries, COP-1 alerts, faults). */
  readonly groundLog: readonly string[];
}

/** Keeps the last `max` lines a stream wrote, for the diagnosis of a failed run. */
function tail(stream: NodeJS.ReadableStream | null, max = 40): string[] {
  const lines: string[] = [];
  let buffered = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
    if (lines.length > max) lines.splice(0, lines.length - max);
  });
  return lines;
}

/** The clock socket: each flight software process connects once; the rig talks to the latest. */
class ClockServer {
  private readonly server: Server;
  private waiting: ((socket: Socket) => void) | undefined;
  private queued: Socket[] = [];

  private constructor(
    readonly path: string,
    server: Server,
  ) {
    this.server = server;
    server.on('connection', (socket) => {
      if (this.waiting) {
        const take = this.waiting;
        this.waiting = undefined;
        take(socket);
      } else this.queued.push(socket);
    });
  }

  static async listen(path: string): Promise<ClockServer> {
    const server = createServer();
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(path, () => done());
    });
    return new ClockServer(path, server);
  }

  /** The next connection. */
  next(): Promise<Socket> {
    const queued = this.queued.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise<Socket>((done) => {
      this.waiting = done;
    });
  }

  close(): Promise<void> {
    for (const socket of this.queued.splice(0)) socket.destroy();
    return new Promise<void>((done) => this.server.close(() => done()));
  }
}

/** One flight software process, following the rig's clock. */
class FlightProcess {
  readonly out: string[];
  readonly err: string[];
  readonly exit: Promise<number | null>;
  exited = false;
  private socket: Socket | undefined;
  private replies: string[] = [];
  private wake: (() => void) | undefined;
  private socketClosed = false;

  constructor(
    private readonly child: ChildProcess,
    private readonly replyTimeoutMs: number,
    private readonly epochMs: number,
  ) {
    this.out = tail(child.stdout);
    this.err = tail(child.stderr);
    this.exit = new Promise<number | null>((done) =>
      child.once('exit', (code) => {
        this.exited = true;
        this.wake?.();
        done(code);
      }),
    );
  }

  said(): string {
    return [...this.err, ...this.out.slice(-10)].join('\n');
  }

  /** Waits for the process to connect to the clock socket. */
  async attach(server: ClockServer, timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const socket = await Promise.race([
      server.next(),
      this.exit.then(() => {
        throw new RigError(`the flight software exited before connecting:\n${this.said()}`);
      }),
      new Promise<never>((_, fail) => {
        timer = setTimeout(
          () =>
            fail(new RigError(`the flight software did not connect within ${timeoutMs} ms:\n${this.said()}`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    this.socket = socket;
    socket.setEncoding('utf8');
    let buffered = '';
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      this.replies.push(...parts.filter((p) => p.trim()));
      this.wake?.();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.socketClosed = true;
      this.wake?.();
    });
  }

  /** Tells the flight software to advance to `ms` and waits for its answer. */
  async advance(ms: number): Promise<void> {
    const socket = this.socket;
    if (!socket) throw new RigError('the flight software is not connected');
    socket.write(`${JSON.stringify({ advanceTo: ms })}\n`);
    const deadline = Date.now() + this.replyTimeoutMs;
    while (this.replies.length === 0) {
      if (this.socketClosed || this.exited) {
        throw new RigError(
          `the flight software went away at t=${(ms - this.epochMs) / 1000} s:\n${this.said()}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new RigError(`no answer from the flight software within ${this.replyTimeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((done) => {
        this.wake = done;
        timer = setTimeout(done, left);
      });
      clearTimeout(timer);
      this.wake = undefined;
    }
    const reply = JSON.parse(this.replies.shift() as string) as { at?: unknown };
    if (reply.at !== ms) throw new RigError(`the flight software answered ${JSON.stringify(reply)} to ${ms}`);
  }

  /** SIGTERM (an orderly stop) and its exit status. */
  async stop(): Promise<number | null> {
    if (!this.exited) this.child.kill('SIGTERM');
    return this.exit;
  }

  /** SIGKILL: a crash, as far as the flight software can tell. */
  async kill(): Promise<void> {
    if (!this.exited) this.child.kill('SIGKILL');
    await this.exit;
    this.socket?.destroy();
  }
}

/** What a fault does, in words, for the report. */
function describeFault(fault: Fault | RigFault): string {
  switch (fault.kind) {
    case 'radiator-degradation':
    case 'solar-degradation':
    case 'capacity-fade':
      return `${fault.kind} ${(fault.value * 100).toFixed(0)} %`;
    case 'sensor-stuck':
    case 'sensor-fail':
    case 'sensor-heal':
      return `${fault.kind} ${fault.sensor}`;
    case 'sensor-bias':
    case 'sensor-noise':
      return `${fault.kind} ${fault.sensor} ${fault.value ?? 0}${fault.sensor === 'junction' ? ' K' : ' (fraction)'}`;
    case 'link-loss':
    case 'device-disconnect':
      return `${fault.kind} for ${fault.durationS} s`;
    case 'device-line-noise':
      return `device-line-noise (bit error rate ${fault.bitErrorRate}) for ${fault.durationS} s`;
    case 'command-storm':
      return `command-storm ${fault.count} x ${fault.command}`;
    case 'uplink-replay':
    case 'fsw-crash':
      return fault.kind;
  }
}

export async function runRig(options: RigOptions): Promise<RigResult> {
  const { scenario, bench } = options;
  const durationS = options.durationS ?? scenario.durationS;
  const stepMs = options.stepMs ?? scenario.rig.stepMs;
  const replyTimeoutMs = options.replyTimeoutMs ?? 10_000;
  const traceEveryS = options.traceEveryS ?? 10;
  if (!(durationS > 0)) throw new RigError(`duration must be > 0 s, not ${durationS}`);
  if (!(stepMs > 0)) throw new RigError(`step must be > 0 ms, not ${stepMs}`);
  if (bench) {
    const crash = scenario.rigFaults.find((f) => f.kind === 'fsw-crash');
    if (crash) {
      throw new RigError(
        `${scenario.name}: an fsw-crash fault (at ${crash.atS} s) needs the rig to own the flight software's process; on a bench it runs on the board`,
      );
    }
  }

  // The flight software's dictionary, as its ground sees it: the names in the script must be in it.
  const { flightComponents } = await import('../src/cli/fsw.js');
  const dictionary = buildDictionary(flightComponents());
  const problems = unknownNames(
    dictionary,
    scenario.ground,
    scenario.rigFaults.flatMap((f) => (f.kind === 'command-storm' ? [f.command] : [])),
  );
  if (problems.length > 0) throw new RigError(`${scenario.name}: ${problems.join('; ')}`);
  // The optimum first (it takes a few seconds of CPU), so that it does not slow the lockstep down. A score needs
  // the whole scenario: over part of an orbit the optimum's plan and the controller's are not comparable.
  const whole = durationS >= scenario.durationS - 1e-6;
  const best = options.skipScore || !whole ? undefined : await optimum(scenario.plant, durationS);

  const dir = mkdtempSync(join(scratchDir(), 'skynode-rig-'));
  const cleanup: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  let flight: FlightProcess | undefined;
  try {
    // Two serial lines, the device bus and the ground link: pseudo-terminal pairs, or a bench's real ports.
    let deviceEnd: PtyEnd;
    let groundEnd: PtyEnd;
    let programEnds: { devices: string; ground: string } | undefined;
    if (bench) {
      deviceEnd = { path: bench.devicePort };
      groundEnd = { path: bench.groundPort };
    } else {
      try {
        const deviceLine = await openPtyLine(dir, 'devices');
        cleanup.push(() => deviceLine.close());
        const groundLine = await openPtyLine(dir, 'ground');
        cleanup.push(() => groundLine.close());
        deviceEnd = deviceLine.rig;
        groundEnd = groundLine.rig;
        programEnds = { devices: deviceLine.program, ground: groundLine.program };
      } catch (error) {
        throw new RigError((error as Error).message);
      }
    }

    const virtual = bench ? undefined : new VirtualClock({ startMs: RIG_EPOCH_MS });
    const clock: MissionClock = virtual ?? new RealClock();
    const epochMs = clock.now();
    const plant = new Plant(scenario.plant);
    let devices: SerialDevices;
    try {
      devices = await startSerialDevices({
        plant,
        clock,
        path: deviceEnd.path,
        ...(bench ? { baud: bench.baud ?? 115200 } : { pty: deviceEnd }),
        stepMs,
      });
    } catch (error) {
      throw new RigError(`cannot open the device port ${deviceEnd.path}: ${(error as Error).message}`);
    }
    cleanup.push(() => devices.close());
    let ground: RigGround;
    try {
      ground = new RigGround({
        dir,
        clock,
        line: groundEnd,
        dictionary,
        epochMs,
        archive: scenario.ground.some((step) => 'recoverGaps' in step),
        ...(bench ? { keysFile: bench.keysFile, baud: bench.baud ?? 115200 } : {}),
      });
    } catch (error) {
      throw new RigError(`cannot open the ground port ${groundEnd.path}: ${(error as Error).message}`);
    }
    cleanup.push(() => ground.close());
    const prng = new Prng(scenario.seed);
    const random = () => prng.next();

    let server: ClockServer | undefined;
    const startFlight = (): FlightProcess => {
      if (!server || !programEnds) throw new RigError('no flight software process on a bench');
      const child = spawn(
        process.execPath,
        [
          BIN,
          'fsw',
          '--board',
          'sim-serial',
          '--state-dir',
          join(dir, 'state'),
          '--telemetry-log',
          '0',
          '--link',
          `serial:${programEnds.ground}`,
          '--keys',
          ground.keysFile,
          '--clock-follow',
          server.path,
        ],
        {
          cwd: ROOT,
          env: { ...process.env, SKYNODE_DEVICE_PORT: programEnds.devices },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      return new FlightProcess(child, replyTimeoutMs, epochMs);
    };
    if (!bench) {
      const listening = await ClockServer.listen(join(dir, 'clock.sock'));
      server = listening;
      cleanup.push(() => listening.close());
      flight = startFlight();
      await flight.attach(listening);
    }

    const started = performance.now();
    const faults: Array<Fault | RigFault> = [...scenario.faults, ...scenario.rigFaults].sort(
      (a, b) => a.atS - b.atS,
    );
    const applied: Array<{ atS: number; what: string }> = [];
    const background = new Set<Promise<void>>();
    const inBackground = (work: Promise<void>) => {
      background.add(work);
      void work.finally(() => background.delete(work));
    };
    let restarts = 0;
    const steps = Math.ceil((durationS * 1000) / stepMs);
    const reportEvery = Math.max(1, Math.floor(steps / 100));
    const traceEvery = Math.max(1, Math.round((traceEveryS * 1000) / stepMs));
    const trace: TracePoint[] = [];
    const sample = () => {
      const s = plant.state;
      const mode = ground.station.value('power.mode');
      const binding = ground.station.value('thermal.binding');
      trace.push({
        timeS: (clock.now() - epochMs) / 1000,
        junctionC: s.junctionC,
        radiatorC: s.radiatorC,
        capW: s.powerCapW,
        acceleratorW: s.acceleratorW,
        soc: s.soc,
        solarW: s.solarW,
        sunlit: s.sunlit,
        mode: typeof mode === 'string' ? mode : 'NOMINAL',
        binding: (typeof binding === 'string' ? binding : 'none') as Binding,
      });
    };

    const applyRigFault = async (fault: RigFault): Promise<void> => {
      switch (fault.kind) {
        case 'link-loss':
          ground.loseLink(fault.durationS);
          return;
        case 'uplink-replay':
          ground.replayLastUplink();
          return;
        case 'command-storm':
          inBackground(ground.storm(fault.count, fault.command, fault.args ?? {}));
          return;
        case 'device-line-noise':
          devices.setLineNoise(fault.bitErrorRate, random);
          clock.scheduler.schedule(() => devices.setLineNoise(0), fault.durationS * 1000);
          return;
        case 'device-disconnect':
          devices.setConnected(false);
          clock.scheduler.schedule(() => devices.setConnected(true), fault.durationS * 1000);
          return;
        case 'fsw-crash': {
          if (!server) return; // refused above on a bench
          // Mission time stands still while the node reboots: the plant waits for the flight software.
          await flight?.kill();
          restarts += 1;
          flight = startFlight();
          await flight.attach(server);
          await flight.advance(clock.now());
          inBackground(
            ground.connect().catch((error: Error) => {
              ground.log.push(`t=${ground.nowS.toFixed(1)} s reconnect after restart: ${error.message}`);
            }),
          );
          return;
        }
      }
    };
    let nextFault = 0;
    const applyDue = async (timeS: number) => {
      while (nextFault < faults.length && (faults[nextFault]?.atS ?? Number.POSITIVE_INFINITY) <= timeS) {
        const fault = faults[nextFault++];
        if (!fault) continue;
        applied.push({ atS: timeS, what: describeFault(fault) });
        if (isRigFault(fault)) await applyRigFault(fault);
        else applyFault(fault, plant, devices, random);
      }
    };

    // The ground listens from the start; its script runs once COP-1 is up.
    const script = ground
      .connect(bench ? Math.max(60, durationS) : 60)
      .then(() => ground.runScript(scenario.ground))
      .catch((error: Error) => {
        ground.checks.push({
          atS: ground.nowS,
          what: 'ground link up',
          passed: false,
          detail: error.message,
        });
      });
    inBackground(script);

    const stopIfAborted = () => {
      if (options.signal?.aborted) throw new RigError('interrupted');
    };
    const progress = (i: number) => {
      if ((i + 1) % reportEvery === 0 || i + 1 === steps) {
        options.onProgress?.({
          fraction: (i + 1) / steps,
          missionS: ((i + 1) * stepMs) / 1000,
          realS: (performance.now() - started) / 1000,
        });
      }
    };
    if (flight && virtual) {
      // Lockstep: the plant steps, then the flight software catches up, as fast as both go.
      const lockstep = flight;
      await lockstep.advance(clock.now());
      sample();
      for (let i = 0; i < steps; i++) {
        stopIfAborted();
        await applyDue((i * stepMs) / 1000);
        virtual.advanceBy(stepMs);
        await (flight ?? lockstep).advance(clock.now());
        if ((i + 1) % traceEvery === 0) sample();
        progress(i);
      }
    } else {
      // A bench: real time; the devices step the plant on the clock, the board's flight software keeps its own.
      sample();
      for (let i = 0; i < steps; i++) {
        stopIfAborted();
        await applyDue((i * stepMs) / 1000);
        const due = epochMs + (i + 1) * stepMs;
        await new Promise<void>((done) =>
          clock.scheduler.schedule(() => done(), Math.max(0, due - clock.now())),
        );
        if ((i + 1) % traceEvery === 0) sample();
        progress(i);
      }
    }
    const realS = (performance.now() - started) / 1000;
    const missionS = (steps * stepMs) / 1000;

    // The run is over: the flight software stops on SIGTERM and must exit 0.
    const last = flight;
    const fswExitCode = last ? await last.stop() : null;
    const state = plant.state;
    const v = state.violations;
    const failures: string[] = [];
    const criteria = scenario.criteria;
    if (v.junctionKelvinSeconds > criteria.maxJunctionKelvinSeconds) {
      failures.push(
        `junction over ${scenario.plant.limits.junctionMaxC} degC for ${v.junctionKelvinSeconds.toFixed(2)} K s`,
      );
    }
    if (v.batteryDeficitWh > criteria.maxBatteryDeficitWh) {
      failures.push(`battery ${v.batteryDeficitWh.toFixed(2)} Wh under its floor`);
    }
    const rigScore: RigScore | undefined = best
      ? {
          score: score(state.computeTotal, best.compute, v),
          optimumCompute: best.compute,
          optimumStatus: best.status,
        }
      : undefined;
    if (rigScore && rigScore.score < criteria.minScore) {
      failures.push(`score ${rigScore.score.toFixed(3)} below ${criteria.minScore}`);
    }
    const unfinished = scenario.ground.length - ground.stepsRun;
    if (unfinished > 0) {
      failures.push(`${unfinished} ground-script step(s) not reached before the run ended`);
    }
    if (background.size > 0 && unfinished === 0) {
      failures.push('a command storm was still in progress when the run ended');
    }
    for (const check of ground.checks) {
      if (!check.passed) failures.push(`t=${check.atS.toFixed(1)} s ${check.what}: ${check.detail}`);
    }
    if (last && fswExitCode !== 0) {
      failures.push(`the flight software exited with ${fswExitCode}:\n${last.said()}`);
    }
    return {
      scenario: scenario.name,
      description: scenario.description,
      missionS,
      realS,
      speedup: missionS / realS,
      stepMs,
      violations: v,
      computeTotal: state.computeTotal,
      score: rigScore,
      limits: scenario.plant.limits,
      passed: failures.length === 0,
      failures,
      fswExitCode,
      bench: bench !== undefined,
      restarts,
      checks: [...ground.checks],
      faults: applied,
      events: [...ground.events],
      trace,
      bus: { ...devices.stats, ...devices.line },
      link: ground.station.linkStats(),
      groundLog: [...ground.log],
    };
  } finally {
    if (flight && !flight.exited) await flight.kill();
    for (const step of cleanup.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // Best effort: the run's result (or its error) is what matters.
      }
    }
  }
}

function applyFault(fault: Fault, plant: Plant, devices: SerialDevices, random: () => number): void {
  switch (fault.kind) {
    case 'radiator-degradation':
      plant.setRadiatorDegradation(fault.value);
      return;
    case 'solar-degradation':
      plant.setSolarDegradation(fault.value);
      return;
    case 'capacity-fade':
      plant.setCapacityFade(fault.value);
      return;
    case 'sensor-stuck':
      devices.devices.stick(fault.sensor);
      return;
    case 'sensor-bias':
      // The scenario's units: K for the junction, a fraction of the reading for the battery's charge and the array.
      devices.devices.bias(fault.sensor, fault.value ?? 0);
      return;
    case 'sensor-noise':
      devices.devices.noise(fault.sensor, fault.value ?? 0, random);
      return;
    case 'sensor-fail':
      devices.devices.fail(fault.sensor);
      return;
    case 'sensor-heal':
      devices.devices.heal(fault.sensor);
      return;
  }
}
