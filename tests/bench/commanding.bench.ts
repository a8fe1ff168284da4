/**
 * Commanding end to end. Targets: issue 4 (ping round trip over a pseudo-terminal p99 <= 2 ms; >= 20,000
 * commands/s through the on-board pipeline; memory flat under a 60-second command storm).
 *
 * - Round trip over a pty: `skynode fsw` (the build in dist/, made by `npm run bench`) on one end of a socat
 *   pseudo-terminal pair, the ground station library in this process on the other, serial profile, SPI 1.
 * - On-board pipeline, in this process with no transport: TC(8,1) health.NOOP packets put on the bus's uplink,
 *   completion reports counted on its downlink; then the same behind the link service (KISS, SDLS, FARM-1) fed
 *   secured frames through an in-memory pipe pair with no impairment.
 * - Command storm: the on-board pipeline at full rate for 60 s of real time, memory sampled every second.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { flightComponents } from '../../src/cli/fsw.js';
import type { DownlinkPacket } from '../../src/core/bus.js';
import { VirtualClock } from '../../src/core/clock.js';
import { buildDictionary } from '../../src/core/dictionary.js';
import { FlightStack } from '../../src/core/executive.js';
import { silentLogger } from '../../src/core/log.js';
import { memoryStateStore } from '../../src/core/persistence.js';
import { ArsnFile } from '../../src/ground/arsn.js';
import { type CommandOutcome, GroundStation } from '../../src/ground/station.js';
import { kissEncode } from '../../src/link/kiss.js';
import { AckFlags, decodeTmPacket, encodeTcPacket } from '../../src/link/pus.js';
import { encodePerformFunction } from '../../src/link/pus-services.js';
import {
  parseKeyFile,
  type SdlsKeys,
  type Spi,
  sdlsKey,
  sdlsKeys,
  secureTcFrame,
} from '../../src/link/sdls.js';
import { impairedPair } from '../../src/transport/impaired.js';
import { openPipe } from '../../src/transport/pipe.js';
import { type Benchmark, type Figure, findGc, nowMs } from './harness.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const SCID = 0x2a;
const APID = 0x010;
const NOOP_OPCODE = 0x0101;
const MB = 1e6;
/** Commands put on the uplink before the microtask queue is drained: the commanding queue's default limit. */
const BATCH = 16;

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
/** Lets every microtask run (commands execute asynchronously, one at a time). */
const drainMicrotasks = () => new Promise<void>((done) => setImmediate(done));

async function waitFor(condition: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = nowMs() + ms;
  while (!condition()) {
    if (nowMs() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await sleep(10);
  }
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

// --- round trip over a pseudo-terminal --------------------------------------------------------------------------

async function stopChild(child: ChildProcess, signal: NodeJS.Signals, ms = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

interface Latencies {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly n: number;
}

async function roundTrips(
  op: () => Promise<CommandOutcome>,
  warmUp: number,
  count: number,
): Promise<Latencies> {
  for (let i = 0; i < warmUp; i++) {
    const outcome = await op();
    if (!outcome.ok) throw new Error(`${outcome.name} failed: ${outcome.failure?.reason}`);
  }
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = nowMs();
    const outcome = await op();
    times.push(nowMs() - started);
    if (!outcome.ok) throw new Error(`${outcome.name} failed: ${outcome.failure?.reason}`);
  }
  times.sort((a, b) => a - b);
  return {
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    max: times.at(-1) ?? Number.NaN,
    n: count,
  };
}

function latencyFigures(what: string, frameLatencyMs: number, l: Latencies, p99Target: boolean): Figure[] {
  const setting = `link.frameLatencyMs ${frameLatencyMs}${frameLatencyMs === 250 ? ' (default)' : frameLatencyMs === 10 ? ' (its minimum)' : ''}`;
  const details = { samples: l.n, setting };
  return [
    {
      name: `${what}, ${setting}: p50`,
      value: l.p50,
      unit: 'ms',
      details: { ...details, p50LessFrameLatencyMs: Number((l.p50 - frameLatencyMs).toFixed(2)) },
    },
    {
      name: `${what}, ${setting}: p99`,
      value: l.p99,
      unit: 'ms',
      ...(p99Target
        ? {
            target: {
              kind: 'max' as const,
              value: 2,
              source: 'issue 4 (ping round trip over a pty p99 <= 2 ms)',
            },
          }
        : {}),
      details: {
        ...details,
        note: 'TM frames are completed by link.frameLatencyMs (an idle packet fills a partial frame) unless full: the reports of one command never fill a 256-octet frame, so the round trip cannot be shorter than that parameter (minimum 10 ms)',
      },
    },
    { name: `${what}, ${setting}: max`, value: l.max, unit: 'ms', details },
  ];
}

/**
 * The floor under the round trip: the same pseudo-terminal pair with a bare echo (serialport in another Node
 * process) where the flight software would be, and the same serial pipe on this side. Whatever the flight stack
 * adds is the round trip less this.
 */
async function echoFloor(near: string, far: string): Promise<Figure[]> {
  const script = `const { SerialPort } = require(${JSON.stringify(join(ROOT, 'node_modules/serialport'))});
const port = new SerialPort({ path: ${JSON.stringify(far)}, baudRate: 115200 });
port.on('data', (d) => port.write(d));
port.on('open', () => process.stdout.write('open\\n'));`;
  const echo = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let open = false;
  echo.stdout?.on('data', () => {
    open = true;
  });
  const pipe = openPipe(`serial:${near}`, { scheduler: asyncScheduler });
  try {
    await waitFor(
      () => open && pipe.state.kind === 'open',
      5000,
      () => 'the echo process and the pipe to open',
    );
    let pending: (() => void) | undefined;
    const subscription = pipe.data$.subscribe(() => pending?.());
    const frame = new Uint8Array(60).fill(0x41);
    const times: number[] = [];
    for (let i = 0; i < 2030; i++) {
      const started = nowMs();
      await new Promise<void>((resolveEcho) => {
        pending = resolveEcho;
        pipe.write(frame);
      });
      if (i >= 30) times.push(nowMs() - started);
    }
    subscription.unsubscribe();
    times.sort((a, b) => a - b);
    const details = {
      samples: times.length,
      note: 'no flight software: a 60-octet write echoed by a bare serialport process over the same socat pty pair; the round trips below cannot be shorter than this on this machine',
    };
    return [
      {
        name: 'bare echo over the same pty pair (floor): p50',
        value: percentile(times, 0.5),
        unit: 'ms',
        details,
      },
      {
        name: 'bare echo over the same pty pair (floor): p99',
        value: percentile(times, 0.99),
        unit: 'ms',
        details,
      },
    ];
  } finally {
    await pipe.close();
    await stopChild(echo, 'SIGTERM');
  }
}

async function ptyRoundTrip(): Promise<Figure[]> {
  if (!existsSync(MAIN)) throw new Error('no build: run `npm run build` first (npm run bench does)');
  const dir = mkdtempSync(join(tmpdir(), 'skynode-bench-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const keysFile = join(dir, 'keys.json');
  writeFileSync(
    keysFile,
    JSON.stringify({
      '1': { algorithm: 'hmac-sha256', key: randomBytes(32).toString('hex') },
      '2': { algorithm: 'aes-256-gcm', key: randomBytes(32).toString('hex') },
    }),
  );
  const children: ChildProcess[] = [];
  const closers: Array<() => Promise<void>> = [];
  try {
    const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(socat);
    let socatLog = '';
    socat.stderr?.on('data', (data: Buffer) => {
      socatLog += data.toString();
    });
    await waitFor(
      () => existsSync(a) && existsSync(b),
      5000,
      () => `socat's links (socat said: ${socatLog})`,
    );

    const floor = await echoFloor(b, a);

    const fsw = spawn(
      process.execPath,
      [
        MAIN,
        'fsw',
        '--board',
        'sim',
        '--link',
        `serial:${a}`,
        '--keys',
        keysFile,
        '--state-dir',
        join(dir, 'fsw-state'),
        '--telemetry-log',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.unshift(fsw);
    let linkOpen = false;
    let partial = '';
    let stderr = '';
    // Read the log all along: a child whose stdout pipe fills up stalls.
    fsw.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (linkOpen) return;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines)
        if (line.includes('"event":"link.PIPE_STATE"') && line.includes('"state":"open"')) linkOpen = true;
    });
    fsw.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    await waitFor(
      () => linkOpen || fsw.exitCode !== null,
      15_000,
      () => `the flight software's link to open (stderr: ${stderr})`,
    );
    if (!linkOpen) throw new Error(`skynode fsw exited with ${fsw.exitCode}: ${stderr}`);

    const keys = parseKeyFile(readFileSync(keysFile, 'utf8'));
    if (!keys.ok) throw new Error(keys.error);
    const pipe = openPipe(`serial:${b}`, { scheduler: asyncScheduler });
    closers.unshift(() => pipe.close());
    const counters = ArsnFile.inDirectory(join(dir, 'ground'));
    const station = new GroundStation({
      pipe,
      profile: 'serial',
      dictionary: buildDictionary(flightComponents()),
      scheduler: asyncScheduler,
      keys: keys.keys,
      nextArsn: (spi) => counters.take(spi),
    });
    closers.unshift(() => station.close());
    await station.connect(10_000);

    const figures: Figure[] = [...floor];
    const measure = async (frameLatencyMs: number, warmUp: number, count: number) => {
      const ping = await roundTrips(() => station.ping(10_000), warmUp, count);
      const noop = await roundTrips(() => station.send('health.NOOP', {}, 10_000), warmUp, count);
      figures.push(
        ...latencyFigures('ping TC(17,1) -> TM(17,2) + completion', frameLatencyMs, ping, true),
        ...latencyFigures('health.NOOP send -> completion report', frameLatencyMs, noop, false),
      );
    };
    // The default latency bound makes every round trip last about 250 ms: a few samples are enough.
    const reported = await station.reportParameters(['link.frameLatencyMs'], 10_000);
    await measure(Number(reported['link.frameLatencyMs']), 3, 20);
    const set = await station.setParameters({ 'link.frameLatencyMs': 10 }, 10_000);
    if (!set.ok) throw new Error(`setting link.frameLatencyMs failed: ${set.failure?.reason}`);
    await measure(10, 30, 300);
    return figures;
  } finally {
    for (const close of closers) await close().catch(() => {});
    for (const child of children) await stopChild(child, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- the on-board pipeline, in process --------------------------------------------------------------------------

/** TC(8,1) health.NOOP packets, one per sequence count, asking for every verification report. */
function noopPackets(count: number): Uint8Array[] {
  const appData = encodePerformFunction(NOOP_OPCODE, new Uint8Array(0));
  return Array.from({ length: count }, (_, i) =>
    encodeTcPacket({
      apid: APID,
      sequenceCount: i & 0x3fff,
      ackFlags: AckFlags.all,
      service: 8,
      subtype: 1,
      sourceId: 1,
      appData,
    }),
  );
}

/** Counts the verification reports on a stack's downlink: completions, and failures of any stage. */
function countReports(stack: FlightStack): { completed: number; failed: number } {
  const counts = { completed: 0, failed: 0 };
  stack.bus.downlink$.subscribe((p: DownlinkPacket) => {
    const decoded = decodeTmPacket(p.bytes);
    if (!decoded.ok || decoded.value.service !== 1) return;
    const subtype = decoded.value.subtype;
    if (subtype === 7) counts.completed++;
    else if (subtype === 2 || subtype === 4 || subtype === 6 || subtype === 8) counts.failed++;
  });
  return counts;
}

interface DriveOptions {
  readonly clock: VirtualClock;
  readonly counts: { completed: number; failed: number };
  /** Puts command `i` on its way. */
  readonly send: (i: number) => void;
  readonly durationMs: number;
  /** Most commands to send (frames prepared in advance run out). */
  readonly maxCommands?: number;
  /** Called about once a second of real time, with the seconds elapsed. */
  readonly everySecond?: (seconds: number) => void;
}

/**
 * Sends batches of BATCH commands, advances the virtual mission clock to the real time elapsed (rate groups run,
 * the pipe pair delivers) and drains the microtask queue, until `durationMs` of real time have passed. Throws if
 * a batch does not complete.
 */
async function drive(options: DriveOptions): Promise<{ commands: number; seconds: number }> {
  const { clock, counts, send } = options;
  const limit = options.maxCommands ?? Number.POSITIVE_INFINITY;
  const t0 = nowMs();
  const v0 = clock.now();
  const completedBefore = counts.completed;
  const failedBefore = counts.failed;
  /** Commands of this drive that reported completion or a failure. */
  const done = () => counts.completed + counts.failed - completedBefore - failedBefore;
  let sent = 0;
  let nextSecond = 1;
  let elapsed = 0;
  while (elapsed < options.durationMs && sent + BATCH <= limit) {
    for (let k = 0; k < BATCH; k++) send(sent++);
    clock.advanceTo(v0 + (nowMs() - t0));
    await drainMicrotasks();
    for (let spins = 0; done() < sent && spins < 100; spins++) {
      clock.advanceTo(v0 + (nowMs() - t0));
      await drainMicrotasks();
    }
    if (done() < sent) throw new Error(`${sent - done()} of ${sent} commands did not complete`);
    elapsed = nowMs() - t0;
    if (options.everySecond && elapsed >= nextSecond * 1000) {
      options.everySecond(nextSecond);
      nextSecond++;
    }
  }
  return { commands: counts.completed - completedBefore, seconds: (nowMs() - t0) / 1000 };
}

function onboardStack() {
  const clock = new VirtualClock();
  const stack = FlightStack.start({
    components: flightComponents(),
    clock,
    store: memoryStateStore(),
    logger: silentLogger(clock),
  });
  const counts = countReports(stack);
  const packets = noopPackets(0x4000);
  const send = (i: number) =>
    stack.bus.publishUplink({ bytes: packets[i & 0x3fff]!, vcid: 0, time: clock.now() });
  return { clock, stack, counts, send };
}

/** Timed trials of the pipelines, and how long each runs; the best is reported (the host may be shared). */
const TRIALS = 3;
const TRIAL_MS = 700;
/** Frames prepared per trial of the link path: a trial ends after TRIAL_MS or when they run out. */
const FRAMES_PER_TRIAL = 20_000;
const LINK_WARM_UP = 2000;

async function trials(
  counts: { completed: number; failed: number },
  run: () => Promise<{ commands: number; seconds: number }>,
): Promise<{ best: number; all: number[]; commands: number; failed: number }> {
  const all: number[] = [];
  let commands = 0;
  let failed = 0;
  for (let i = 0; i < TRIALS; i++) {
    const before = counts.completed;
    const failedBefore = counts.failed;
    const r = await run();
    const n = counts.completed - before;
    commands += n;
    failed += counts.failed - failedBefore;
    all.push(n / r.seconds);
  }
  return { best: Math.max(...all), all, commands, failed };
}

const trialDetails = (t: { all: number[] }) =>
  `best of ${t.all.length} trials of up to ${TRIAL_MS} ms; all: ${t.all.map((v) => v.toFixed(0)).join(', ')} commands/s`;

async function busPipeline(): Promise<Figure> {
  const { clock, stack, counts, send } = onboardStack();
  try {
    await drive({ clock, counts, send, durationMs: 300 }); // warm-up
    const t = await trials(counts, () => drive({ clock, counts, send, durationMs: TRIAL_MS }));
    return {
      name: 'TC(8,1) health.NOOP on the bus uplink -> completion report',
      value: t.best,
      unit: 'commands/s',
      target: { kind: 'min', value: 20_000, source: 'issue 4 (>= 20,000 commands/s on board)' },
      details: {
        trials: trialDetails(t),
        commands: t.commands,
        failed: t.failed,
        batch: `${BATCH} commands, then the microtask queue drained (setImmediate); virtual clock kept at real time`,
        components: 'events, link (no pipe), housekeeping, modes, commanding, health',
      },
    };
  } finally {
    stack.stop();
  }
}

/** The uplink through the link service: KISS -> TC frame -> SDLS -> FARM-1 -> bus -> commanding. */
async function linkPipeline(spi: Spi): Promise<Figure> {
  const clock = new VirtualClock();
  const pair = impairedPair({ scheduler: clock.scheduler });
  const keys: SdlsKeys = sdlsKeys(sdlsKey(1, randomBytes(32)), sdlsKey(2, randomBytes(32)));
  const stack = FlightStack.start({
    components: flightComponents({ profile: 'serial', pipe: pair.a, keys }),
    clock,
    store: memoryStateStore(),
    logger: silentLogger(clock),
  });
  try {
    clock.advanceBy(0);
    const counts = countReports(stack);
    const packets = noopPackets(0x4000);
    const built = nowMs();
    // FARM-1 accepts N(S) = V(R) in order: frame i carries N(S) i mod 256 and ARSN i + 1.
    const wire = Array.from({ length: LINK_WARM_UP + TRIALS * FRAMES_PER_TRIAL }, (_, i) =>
      kissEncode(
        secureTcFrame(
          {
            scid: SCID,
            vcid: 0,
            type: 'AD',
            sequenceNumber: i & 0xff,
            spi,
            arsn: i + 1,
            payload: packets[i & 0x3fff]!,
          },
          keys,
        ),
      ),
    );
    const buildMs = nowMs() - built;
    let refused = 0;
    const send = (i: number) => {
      if (!pair.b.write(wire[i]!)) refused++;
    };
    let next = 0;
    const sendNext = () => send(next++);
    await drive({ clock, counts, send: sendNext, durationMs: 60_000, maxCommands: LINK_WARM_UP });
    const t = await trials(counts, () =>
      drive({ clock, counts, send: sendNext, durationMs: TRIAL_MS, maxCommands: FRAMES_PER_TRIAL }),
    );
    return {
      name: `KISS + SDLS SPI ${spi} frames through the link service (FARM-1) -> completion report`,
      value: t.best,
      unit: 'commands/s',
      target: { kind: 'min', value: 20_000, source: 'issue 4 (>= 20,000 commands/s on board)' },
      details: {
        trials: trialDetails(t),
        commands: t.commands,
        failed: t.failed,
        writesRefused: refused,
        transport:
          'impairedPair with no impairment, one write per KISS frame, virtual clock kept at real time',
        batch: `${BATCH} frames, then the pair delivers and the microtask queue is drained`,
        perFrame: 'FARM-1 state and ARSN stored (memory state store) before the packet goes on',
        msToBuildFrames: Math.round(buildMs),
      },
    };
  } finally {
    stack.stop();
    await pair.close();
  }
}

// --- the command storm ------------------------------------------------------------------------------------------

function slopePerMinute(samples: ReadonlyArray<{ t: number; v: number }>): number {
  const n = samples.length;
  if (n < 2) return Number.NaN;
  const mt = samples.reduce((s, p) => s + p.t, 0) / n;
  const mv = samples.reduce((s, p) => s + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of samples) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  return (num / den) * 60;
}

async function commandStorm(durationS: number): Promise<Figure[]> {
  const { gc, how } = findGc();
  const { clock, stack, counts, send } = onboardStack();
  const heap: Array<{ t: number; v: number }> = [];
  const rss: Array<{ t: number; v: number }> = [];
  const sample = (t: number) => {
    gc?.();
    const m = process.memoryUsage();
    heap.push({ t, v: m.heapUsed / MB });
    rss.push({ t, v: m.rss / MB });
  };
  try {
    sample(0);
    const r = await drive({ clock, counts, send, durationMs: durationS * 1000, everySecond: sample });
    sample(r.seconds);
    const last40 = heap.filter((s) => s.t >= durationS - 40);
    const values = (xs: ReadonlyArray<{ v: number }>) => xs.map((s) => s.v);
    const method = `process.memoryUsage() once a second, after a full collection: ${how}`;
    const figure = (name: string, value: number, unit = 'MB'): Figure => ({
      name,
      value,
      unit,
      details: { method },
    });
    return [
      {
        name: `commands executed in ${durationS} s`,
        value: r.commands / r.seconds,
        unit: 'commands/s',
        details: { commands: r.commands, failed: counts.failed, samples: heap.length },
      },
      figure('heapUsed at start', heap[0]?.v ?? Number.NaN),
      figure('heapUsed at end', heap.at(-1)?.v ?? Number.NaN),
      figure('heapUsed max', Math.max(...values(heap))),
      {
        name: 'heapUsed slope over the last 40 s',
        value: slopePerMinute(last40),
        unit: 'MB/min',
        details: {
          method: `least-squares fit of ${last40.length} samples; ${method}`,
          target: 'issue 4: memory flat (no figure given)',
        },
      },
      figure('rss at start', rss[0]?.v ?? Number.NaN),
      figure('rss at end', rss.at(-1)?.v ?? Number.NaN),
      figure('rss max', Math.max(...values(rss))),
      {
        name: 'rss slope over the last 40 s',
        value: slopePerMinute(rss.filter((s) => s.t >= durationS - 40)),
        unit: 'MB/min',
        details: { method },
      },
    ];
  } finally {
    stack.stop();
  }
}

export const benchmarks: readonly Benchmark[] = [
  { name: 'command round trip over a pty', run: ptyRoundTrip },
  {
    name: 'on-board command pipeline',
    async run(): Promise<Figure[]> {
      return [await busPipeline(), await linkPipeline(1), await linkPipeline(2)];
    },
  },
  { name: 'command storm memory', run: () => commandStorm(60) },
];
