/**
 * `skynode hil run`: the flight software as its own process, on the `sim-serial` board, against the rig's Modbus
 * devices on a pseudo-terminal, in accelerated time. The rig owns the mission clock: it steps the plant, then
 * tells the flight software (`skynode fsw --clock-follow SOCKET`, src/cli/follow-clock.ts) to advance to the same
 * time and waits until it has (its Modbus traffic settled), step after step, as fast as both go.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { VirtualClock } from '../src/core/clock.js';
import { type SerialDevices, startSerialDevices } from './devices/serial-rig.js';
import { Plant, type PlantViolations } from './plant/plant.js';
import type { Fault, Scenario } from './scenario.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/skynode.js');

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
  /** Mission ms per clock step (default 100: the plant's step and the thermal rate group's period). */
  readonly stepMs?: number;
  /** Called about every 1 % of the run. */
  readonly onProgress?: (progress: RigProgress) => void;
  /** Real ms to wait for one answer of the flight software before giving up (default 10 000). */
  readonly replyTimeoutMs?: number;
}

export interface RigResult {
  readonly scenario: string;
  readonly missionS: number;
  readonly realS: number;
  /** Mission seconds per real second. */
  readonly speedup: number;
  readonly violations: PlantViolations;
  readonly computeTotal: number;
  readonly passed: boolean;
  readonly failures: readonly string[];
  /** The flight software's exit status (null: killed by a signal). */
  readonly fswExitCode: number | null;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

async function waitFor(condition: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new RigError(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Faults the rig cannot inject through its Modbus devices. */
function unsupported(faults: readonly Fault[]): string | undefined {
  const noise = faults.find((f) => f.kind === 'sensor-noise');
  if (noise) {
    return `sensor-noise faults (at ${noise.atS} s) are not supported by 'hil run': the rig's Modbus devices have no noise model (use 'hil score')`;
  }
  const batteryBias = faults.find((f) => f.kind === 'sensor-bias' && f.sensor === 'battery');
  if (batteryBias) {
    return `a battery sensor-bias (at ${batteryBias.atS} s) is not supported by 'hil run': the scenario biases the state of charge, the rig's EPS only its temperature (use 'hil score')`;
  }
  return undefined;
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

export async function runRig(options: RigOptions): Promise<RigResult> {
  const { scenario } = options;
  const durationS = options.durationS ?? scenario.durationS;
  const stepMs = options.stepMs ?? 100;
  const replyTimeoutMs = options.replyTimeoutMs ?? 10_000;
  if (!(durationS > 0)) throw new RigError(`duration must be > 0 s, not ${durationS}`);
  if (!(stepMs > 0)) throw new RigError(`step must be > 0 ms, not ${stepMs}`);
  const refusal = unsupported(scenario.faults);
  if (refusal) throw new RigError(refusal);

  const dir = mkdtempSync(join(tmpdir(), 'skynode-rig-'));
  const cleanup: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  let fsw: ChildProcess | undefined;
  let fswExit: Promise<number | null> = Promise.resolve(null);
  let fswExited = false;
  try {
    // The serial line: a pseudo-terminal pair, the rig on one end, the flight software on the other.
    const ptyA = join(dir, 'rig');
    const ptyB = join(dir, 'fsw');
    const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${ptyA}`, `pty,raw,echo=0,link=${ptyB}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const socatLog = tail(socat.stderr);
    let socatError: string | undefined;
    socat.once('error', (error) => {
      socatError = error.message;
    });
    cleanup.push(async () => {
      if (socat.exitCode !== null || socat.signalCode !== null) return;
      const exited = new Promise<void>((done) => socat.once('exit', () => done()));
      socat.kill('SIGTERM');
      await exited;
    });
    await waitFor(
      () => {
        if (socatError) throw new RigError(`cannot start socat: ${socatError}`);
        return existsSync(ptyA) && existsSync(ptyB);
      },
      `socat's pseudo-terminals (socat said: ${socatLog.join(' ')})`,
      5000,
    );

    // The clock socket: the flight software connects and follows the rig's clock.
    const socketPath = join(dir, 'clock.sock');
    let connection: Socket | undefined;
    const server: Server = createServer((socket) => {
      if (connection) {
        socket.destroy();
        return;
      }
      connection = socket;
    });
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(socketPath, () => done());
    });
    cleanup.push(
      () =>
        new Promise<void>((done) => {
          connection?.destroy();
          server.close(() => done());
        }),
    );

    const clock = new VirtualClock({ startMs: RIG_EPOCH_MS });
    const plant = new Plant(scenario.plant);
    const devices: SerialDevices = await startSerialDevices({ plant, clock, path: ptyA, stepMs });
    cleanup.push(() => devices.close());

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
        '--clock-follow',
        socketPath,
      ],
      { cwd: ROOT, env: { ...process.env, SKYNODE_DEVICE_PORT: ptyB }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    fsw = child;
    const fswOut = tail(child.stdout);
    const fswErr = tail(child.stderr);
    fswExit = new Promise<number | null>((done) =>
      child.once('exit', (code) => {
        fswExited = true;
        done(code);
      }),
    );
    const fswSaid = () => [...fswErr, ...fswOut.slice(-10)].join('\n');
    await waitFor(
      () => {
        if (fswExited) throw new RigError(`the flight software exited before connecting:\n${fswSaid()}`);
        return connection !== undefined;
      },
      'the flight software to connect to the clock socket',
      30_000,
    );
    const socket = connection as unknown as Socket;
    socket.setEncoding('utf8');
    let buffered = '';
    const replies: string[] = [];
    let wake: (() => void) | undefined;
    let socketClosed = false;
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      replies.push(...parts.filter((p) => p.trim()));
      wake?.();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      socketClosed = true;
      wake?.();
    });
    void fswExit.then(() => wake?.());

    /** Tells the flight software to advance to `ms` and waits for its answer. */
    const advance = async (ms: number): Promise<void> => {
      socket.write(`${JSON.stringify({ advanceTo: ms })}\n`);
      const deadline = Date.now() + replyTimeoutMs;
      while (replies.length === 0) {
        if (socketClosed || fswExited) {
          throw new RigError(
            `the flight software went away at t=${(ms - RIG_EPOCH_MS) / 1000} s:\n${fswSaid()}`,
          );
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new RigError(`no answer from the flight software within ${replyTimeoutMs} ms`);
        await new Promise<void>((done) => {
          wake = done;
          setTimeout(done, left);
        });
        wake = undefined;
      }
      const reply = JSON.parse(replies.shift() as string) as { at?: unknown };
      if (reply.at !== ms)
        throw new RigError(`the flight software answered ${JSON.stringify(reply)} to ${ms}`);
    };

    const started = performance.now();
    const faults = [...scenario.faults].sort((a, b) => a.atS - b.atS);
    let nextFault = 0;
    const steps = Math.ceil((durationS * 1000) / stepMs);
    const reportEvery = Math.max(1, Math.floor(steps / 100));
    await advance(clock.now());
    for (let i = 0; i < steps; i++) {
      const timeS = (i * stepMs) / 1000;
      while (nextFault < faults.length && (faults[nextFault]?.atS ?? Number.POSITIVE_INFINITY) <= timeS) {
        const fault = faults[nextFault++];
        if (fault) applyFault(fault, plant, devices);
      }
      clock.advanceBy(stepMs);
      await advance(clock.now());
      if ((i + 1) % reportEvery === 0 || i + 1 === steps) {
        options.onProgress?.({
          fraction: (i + 1) / steps,
          missionS: ((i + 1) * stepMs) / 1000,
          realS: (performance.now() - started) / 1000,
        });
      }
    }
    const realS = (performance.now() - started) / 1000;
    const missionS = (steps * stepMs) / 1000;

    // The run is over: the flight software stops on SIGTERM (and on the socket closing) and must exit 0.
    child.kill('SIGTERM');
    const fswExitCode = await fswExit;
    const state = plant.state;
    const v = state.violations;
    const failures: string[] = [];
    if (v.junctionKelvinSeconds > scenario.criteria.maxJunctionKelvinSeconds) {
      failures.push(
        `junction over ${scenario.plant.limits.junctionMaxC} degC for ${v.junctionKelvinSeconds.toFixed(2)} K s`,
      );
    }
    if (v.batteryDeficitWh > scenario.criteria.maxBatteryDeficitWh) {
      failures.push(`battery ${v.batteryDeficitWh.toFixed(2)} Wh under its floor`);
    }
    if (fswExitCode !== 0) failures.push(`the flight software exited with ${fswExitCode}:\n${fswSaid()}`);
    return {
      scenario: scenario.name,
      missionS,
      realS,
      speedup: missionS / realS,
      violations: v,
      computeTotal: state.computeTotal,
      passed: failures.length === 0,
      failures,
      fswExitCode,
    };
  } finally {
    if (fsw && !fswExited) {
      fsw.kill('SIGKILL');
      await fswExit;
    }
    for (const step of cleanup.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // Best effort: the run's result (or its error) is what matters.
      }
    }
  }
}

function applyFault(fault: Fault, plant: Plant, devices: SerialDevices): void {
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
      // The scenario's bias: K for the junction, a fraction of the reading for the solar array; the devices'
      // bias: degC, and W (taken at the moment of the fault).
      devices.devices.bias(
        fault.sensor,
        fault.sensor === 'junction' ? (fault.value ?? 0) : (fault.value ?? 0) * plant.state.solarW,
      );
      return;
    case 'sensor-fail':
      devices.devices.fail(fault.sensor);
      return;
    case 'sensor-heal':
      devices.devices.heal(fault.sensor);
      return;
    case 'sensor-noise':
      throw new RigError('sensor-noise faults are not supported by hil run');
  }
}
