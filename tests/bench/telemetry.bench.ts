/**
 * Telemetry end to end (issue 5): the recorder's packet store, the downlink scheduler at the radio's rate, and
 * the size of packed housekeeping.
 *
 * - Recorder ingest: 80-octet TM packets appended to a record series of a real state database (openStateStore in
 *   a temporary directory: SQLite, WAL, synchronous=FULL) and committed as the recorder commits them: after
 *   MAX_BATCH (1000) packets, or on the 1 Hz tick of mission time, with the recorder's default budget. The rate
 *   counts the commits (each one fsync). Also: octets per record on disk after a WAL checkpoint, and the process
 *   memory held while a series grows to 200,000 records (the index lives in SQLite pages, not in the heap; the
 *   RSS growth also holds the V8 heap's and the allocator's reservations, so it varies from run to run).
 * - Downlink scheduler at 10 Mbit/s: DownlinkScheduler in the radio profile with 1,250,000 octets/s, on a
 *   VirtualClock advanced by the real elapsed time in steps of about a millisecond, fed housekeeping-like packets
 *   (encoded beforehand, as the housekeeping service hands them over) at the rate that fills the link, writing
 *   into a sink. CPU time (process.cpuUsage: user + system, every thread of the process) per second of link time;
 *   the details split it into the work inside the steps and the stepping loop's own cost (measured alone), and
 *   show the same with 10 ms steps. The same at unlimited bandwidth (serial profile, rate 0) as fast as the
 *   scheduler goes.
 * - Packed housekeeping size: every housekeeping structure of the flight dictionary, reported once (TC(3,27)) by
 *   the real flight stack in virtual time; its TM(3,25) packet against its fields plus the headers.
 */
import { mkdtempSync, rmSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sim } from '../../boards/sim.js';
import { flightComponents, flightRateGroups } from '../../src/cli/fsw.js';
import type { DownlinkPacket } from '../../src/core/bus.js';
import { type MissionClock, RealClock, VirtualClock } from '../../src/core/clock.js';
import type { MissionDictionary } from '../../src/core/dictionary.js';
import { FlightStack } from '../../src/core/executive.js';
import { silentLogger } from '../../src/core/log.js';
import {
  memoryStateStore,
  openStateStore,
  STATE_DB_FILE,
  type StateStore,
} from '../../src/core/persistence.js';
import { unixMsToCuc } from '../../src/core/time.js';
import type { DataType } from '../../src/core/types.js';
import type { ClcwInit } from '../../src/link/clcw.js';
import { CRC16_LENGTH } from '../../src/link/crc16.js';
import { downlinkFramedCapacity, type LinkProfile } from '../../src/link/profile.js';
import {
  AckFlags,
  decodeTmPacket,
  encodeTcPacket,
  encodeTmPacket,
  TM_SECONDARY_HEADER_LENGTH,
} from '../../src/link/pus.js';
import { encodeIdList, Service } from '../../src/link/pus-services.js';
import { SPACE_PACKET_HEADER_LENGTH } from '../../src/link/space-packet.js';
import { TmFrameLength, tmDataFieldLength } from '../../src/link/tm-frame.js';
import { DownlinkScheduler } from '../../src/services/link/downlink.js';
import { MAX_BATCH, recorder } from '../../src/services/telemetry/recorder.js';
import { Priority } from '../../src/services/tm-source.js';
import { type Benchmark, type Figure, findGc, nowMs } from './harness.js';

const SCID = 0x2a;
const APID = 0x010;
const T0 = Date.UTC(2030, 0, 1);
const MB = 1e6;
/** Timed trials per figure; the best is reported (the host is shared). */
const TRIALS = 3;

const issue5 = (kind: 'min' | 'max', value: number) => ({ kind, value, source: 'issue 5' });

const { gc } = findGc();

let sink = 0;

/** A housekeeping-like TM(3,25) packet of `sourceDataLength` octets of source data. */
function hkPacket(n: number, sourceDataLength: number): Uint8Array {
  const sourceData = new Uint8Array(sourceDataLength);
  for (let i = 0; i < sourceData.length; i++) sourceData[i] = (n * 31 + i * 7) & 0xff;
  return encodeTmPacket({
    apid: APID,
    sequenceCount: n & 0x3fff,
    service: 3,
    subtype: 25,
    messageTypeCounter: n & 0xffff,
    time: unixMsToCuc(T0 + n * 10),
    sourceData,
  });
}

// --- recorder ingest --------------------------------------------------------------------------------------------

/** 59 octets of source data: 80-octet packets. */
const RECORD_PACKETS = Array.from({ length: 4096 }, (_, n) => hkPacket(n, 59));
const RECORD_OCTETS = (RECORD_PACKETS[0] as Uint8Array).length;
/** Packets per timed trial (each on a fresh store). */
const INGEST_PACKETS = 60_000;
/** Records the memory and disk figures grow a series to. */
const GROWN_RECORDS = 200_000;
const GROWTH_SAMPLES = 4;
/** Mission time between two packets: 20,000 packets per second, the target rate. */
const PACKET_SPACING_MS = 1000 / 20_000;
/** What the recorder commits with: its default budget (64 MiB of packets). */
const BUDGET_BYTES = recorder.params.budgetBytes.default;
const ingestTarget = issue5('min', 20_000);

const FILESYSTEMS: Readonly<Record<number, string>> = {
  61267: 'ext2/3/4',
  16914836: 'tmpfs',
  2435016766: 'btrfs',
  1481003842: 'xfs',
  2035054128: 'overlayfs',
  801189825: 'zfs',
};

function filesystemOf(dir: string): string {
  const type = statfsSync(dir).type;
  return `${FILESYSTEMS[type] ?? 'unknown'} (0x${type.toString(16)})`;
}

interface IngestState {
  /** Packets appended so far (their mission times follow on). */
  index: number;
  nextTickMs: number;
  commits: number;
  commitMs: number;
  maxCommitMs: number;
}

/** Appends `count` packets as the recorder does, committing after MAX_BATCH or at each 1 s of mission time. */
function ingest(store: StateStore, state: IngestState, count: number): void {
  const series = store.series('bench');
  const commit = () => {
    const start = nowMs();
    const { stored } = series.flush(BUDGET_BYTES);
    const ms = nowMs() - start;
    if (stored > 0) {
      state.commits += 1;
      state.commitMs += ms;
      state.maxCommitMs = Math.max(state.maxCommitMs, ms);
    }
  };
  for (let i = 0; i < count; i++) {
    const n = state.index++;
    const timeMs = Math.floor(T0 + n * PACKET_SPACING_MS);
    if (timeMs >= state.nextTickMs) {
      commit();
      state.nextTickMs += 1000;
    }
    series.append(timeMs, APID, RECORD_PACKETS[n & 4095] as Uint8Array);
    if (series.pending() >= MAX_BATCH) commit();
  }
  commit();
}

function freshIngest(): IngestState {
  return { index: 0, nextTickMs: T0 + 1000, commits: 0, commitMs: 0, maxCommitMs: 0 };
}

function withStore<R>(work: (store: StateStore, dir: string) => R): R {
  const dir = mkdtempSync(join(tmpdir(), 'skynode-bench-recorder-'));
  const store = openStateStore(dir);
  try {
    return work(store, dir);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function recorderFigures(): Figure[] {
  // Growth first, so that its memory baseline is not raised by the trials' freed page caches.
  const growth = growthFigures();
  // Throughput: fresh store per trial, the commits (fsync) included.
  const trials: Array<{ perSecond: number; commits: number; meanCommitMs: number; maxCommitMs: number }> = [];
  let filesystem = '';
  for (let t = 0; t < TRIALS; t++) {
    withStore((store, dir) => {
      filesystem = filesystemOf(dir);
      const state = freshIngest();
      const start = nowMs();
      ingest(store, state, INGEST_PACKETS);
      const ms = nowMs() - start;
      trials.push({
        perSecond: (INGEST_PACKETS * 1000) / ms,
        commits: state.commits,
        meanCommitMs: state.commitMs / state.commits,
        maxCommitMs: state.maxCommitMs,
      });
    });
  }
  const best = trials.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  return [
    {
      name: `recorder ingest: ${RECORD_OCTETS}-octet TM packets -> SQLite record series, commits included`,
      value: best.perSecond,
      unit: 'packets/s',
      target: ingestTarget,
      details: {
        trials: `best of ${TRIALS}; all: ${trials.map((t) => t.perSecond.toFixed(0)).join(', ')} packets/s`,
        packetsPerTrial: INGEST_PACKETS,
        commitsPerTrial: best.commits,
        commitRule: `flush(${BUDGET_BYTES}) after ${MAX_BATCH} packets or at each 1 s of mission time (packets ${PACKET_SPACING_MS} ms apart)`,
        meanCommitMs: best.meanCommitMs.toFixed(2),
        maxCommitMs: best.maxCommitMs.toFixed(2),
        megabytesPerSecond: ((best.perSecond * RECORD_OCTETS) / MB).toFixed(2),
        store: `openStateStore (WAL, synchronous=FULL) in ${tmpdir()}, filesystem ${filesystem}`,
      },
    },
    ...growth,
  ];
}

const signedMb = (octets: number, digits: number) =>
  `${octets >= 0 ? '+' : ''}${(octets / MB).toFixed(digits)}`;

function growthFigures(): Figure[] {
  return withStore((store, dir): Figure[] => {
    const path = join(dir, STATE_DB_FILE);
    const state = freshIngest();
    store.series('bench');
    gc?.();
    const base = process.memoryUsage();
    const samples: string[] = [];
    let rssDelta = 0;
    let heapDelta = 0;
    let heapTotalDelta = 0;
    let ingestMs = 0;
    for (let k = 0; k < GROWTH_SAMPLES; k++) {
      const start = nowMs();
      ingest(store, state, GROWN_RECORDS / GROWTH_SAMPLES);
      ingestMs += nowMs() - start;
      gc?.();
      const now = process.memoryUsage();
      rssDelta = now.rss - base.rss;
      heapDelta = now.heapUsed - base.heapUsed;
      heapTotalDelta = now.heapTotal - base.heapTotal;
      samples.push(
        `${state.index}: RSS ${signedMb(rssDelta, 1)} MB, heap used ${signedMb(heapDelta, 2)} MB, heap reserved ${signedMb(heapTotalDelta, 1)} MB`,
      );
    }
    const series = store.series('bench');
    const records = series.count();
    const dataBytes = series.sizeBytes();
    const walBefore = fileSize(`${path}-wal`);
    const dbBefore = fileSize(path);
    // A second connection checkpoints the WAL into the database file and truncates it.
    const reader = new Database(path);
    const checkpoint = reader.pragma('wal_checkpoint(TRUNCATE)', { simple: false }) as Array<{
      busy: number;
    }>;
    const cacheSize = reader.pragma('cache_size', { simple: true }) as number;
    const pageSize = reader.pragma('page_size', { simple: true }) as number;
    reader.close();
    const dbAfter = fileSize(path);
    const walAfter = fileSize(`${path}-wal`);
    const perRecord = dbAfter / records;
    return [
      {
        name: `recorder store on disk: state.db size / records after wal_checkpoint(TRUNCATE), ${records} records`,
        value: perRecord,
        unit: 'B/record',
        details: {
          dataOctetsPerRecord: (dataBytes / records).toFixed(1),
          overheadPerRecord: (perRecord - dataBytes / records).toFixed(1),
          dbFileBytes: dbAfter,
          beforeCheckpoint: `state.db ${dbBefore} B + state.db-wal ${walBefore} B = ${((dbBefore + walBefore) / records).toFixed(1)} B/record`,
          checkpoint: `${checkpoint[0]?.busy === 0 ? 'completed' : 'busy'}: WAL ${walBefore} B -> ${walAfter} B`,
          method: 'second better-sqlite3 handle: PRAGMA wal_checkpoint(TRUNCATE), then stat state.db',
        },
      },
      {
        name: `memory held by the recorder index: RSS growth while a series grows to ${records} records`,
        value: rssDelta / MB,
        unit: 'MB',
        details: {
          heapUsedGrowthMb: (heapDelta / MB).toFixed(2),
          heapReservedGrowthMb: (heapTotalDelta / MB).toFixed(1),
          outsideV8HeapGrowthMb: ((rssDelta - heapTotalDelta) / MB).toFixed(1),
          samples: samples.join('; '),
          sqlitePageCache: `cache_size ${cacheSize} per connection (${cacheSize < 0 ? `${((-cacheSize * 1024) / MB).toFixed(1)} MB` : `${cacheSize} pages of ${pageSize} B`} at most): the SQLite share of what grows outside the V8 heap`,
          sustainedPacketsPerSecond: Math.round((GROWN_RECORDS * 1000) / ingestMs),
          gc: gc ? 'collected before each sample' : 'no gc available',
          method: 'process.memoryUsage() after gc, against a baseline taken after opening the store',
        },
      },
    ];
  });
}

// --- downlink scheduler -----------------------------------------------------------------------------------------

/** 60 octets of source data: 81-octet packets, as link.bench.ts. */
const DOWNLINK_PACKETS = Array.from({ length: 4096 }, (_, n) => hkPacket(n, 60));
const DOWNLINK_OCTETS = (DOWNLINK_PACKETS[0] as Uint8Array).length;
const RADIO_RATE = 1_250_000;
/** Real time per run at 10 Mbit/s, after a warm-up of its own, in steps of STEP_MS (setTimeout: about 1.3 ms). */
const REALTIME_MS = 2000;
const WARMUP_MS = 500;
const STEP_MS = 1;
/** The same with coarser steps, as a 10 Hz-ish producer would: shorter runs, shown for comparison. */
const COARSE_STEP_MS = 10;
const COARSE_MS = 1000;
/** The harness alone: the same sleeps and step bookkeeping, no scheduler. */
const BASELINE_MS = 1000;
const UNLIMITED_MS = 400;
const QUEUE_LIMIT = 5000;
const FRAME_LATENCY_MS = 250;
const cpuTarget = issue5('max', 5);
const CLCW: ClcwInit = { vcid: 0, reportValue: 0 };

interface Rig {
  readonly clock: VirtualClock;
  readonly scheduler: DownlinkScheduler;
  readonly written: { octets: number };
  enqueue(): void;
}

function rig(
  profile: LinkProfile,
  rate: number,
  clock: MissionClock = new VirtualClock({ startMs: T0 }),
): Rig & {
  readonly missionClock: MissionClock;
} {
  const written = { octets: 0 };
  const scheduler = new DownlinkScheduler(
    profile,
    SCID,
    () => CLCW,
    clock,
    {
      bandwidthBytesPerS: () => rate,
      queueLimit: () => QUEUE_LIMIT,
      latencyMs: () => FRAME_LATENCY_MS,
    },
    (bytes) => {
      written.octets += bytes.length;
      sink += bytes[bytes.length - 1] as number;
      return true;
    },
  );
  scheduler.setOpen(true);
  let n = 0;
  return {
    clock: clock as VirtualClock,
    missionClock: clock,
    scheduler,
    written,
    enqueue() {
      n = (n + 1) & 4095;
      scheduler.enqueue({
        bytes: DOWNLINK_PACKETS[n] as Uint8Array,
        vcid: 0,
        priority: Priority.housekeeping,
        time: clock.now(),
      });
    },
  };
}

const cpuMicros = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Packets per second of link time that fill the radio link: frames' data fields over the framed octets. */
const RADIO_FILL_PACKETS_PER_S =
  (RADIO_RATE * tmDataFieldLength(TmFrameLength.radio)) / downlinkFramedCapacity('radio') / DOWNLINK_OCTETS;

interface RealtimeRun {
  cpuUs: number;
  stepCpuUs: number;
  linkMs: number;
  steps: number;
  frames: number;
  idleFrames: number;
  octets: number;
  packetsIn: number;
  dropped: number;
  maxQueued: number;
}

/** The radio scheduler kept in step with real time: each step advances the clock by the real time elapsed. */
async function realtimeRun(stepMs: number, durationMs: number): Promise<RealtimeRun> {
  const r = rig('radio', RADIO_RATE);
  const perMs = RADIO_FILL_PACKETS_PER_S / 1000;
  let owed = 0;
  let last = nowMs();
  const step = () => {
    const now = nowMs();
    const dt = now - last;
    last = now;
    r.clock.advanceBy(dt);
    owed += dt * perMs;
    for (; owed >= 1; owed -= 1) r.enqueue();
  };
  const warmupEnd = last + WARMUP_MS;
  while (nowMs() < warmupEnd) {
    await sleep(stepMs);
    step();
  }
  const stats = r.scheduler.stats;
  const before = {
    frames: stats.framesOut,
    idle: stats.idleFrames,
    octets: r.written.octets,
    packetsIn: stats.packetsIn,
    dropped: stats.packetsDropped,
    clock: r.clock.now(),
  };
  const cpu = process.cpuUsage();
  let stepCpuUs = 0;
  let steps = 0;
  let maxQueued = 0;
  const end = nowMs() + durationMs;
  while (nowMs() < end) {
    await sleep(stepMs);
    const stepCpu = process.cpuUsage();
    step();
    stepCpuUs += cpuMicros(stepCpu);
    steps += 1;
    maxQueued = Math.max(maxQueued, stats.queued);
  }
  const cpuUs = cpuMicros(cpu);
  r.scheduler.stop();
  return {
    cpuUs,
    stepCpuUs,
    linkMs: r.clock.now() - before.clock,
    steps,
    frames: stats.framesOut - before.frames,
    idleFrames: stats.idleFrames - before.idle,
    octets: r.written.octets - before.octets,
    packetsIn: stats.packetsIn - before.packetsIn,
    dropped: stats.packetsDropped - before.dropped,
    maxQueued,
  };
}

/**
 * The scheduler on the real clock, as in flight: its own timers (rxjs asyncScheduler) wake it for the token
 * bucket and the latency bound; packets are offered every 10 ms, as the rate groups would. The whole process's CPU
 * over the run is the overhead, the timers' wake-ups included and no stepping harness.
 */
async function realClockRun(durationMs: number): Promise<RealtimeRun> {
  const r = rig('radio', RADIO_RATE, new RealClock());
  const perMs = RADIO_FILL_PACKETS_PER_S / 1000;
  let owed = 0;
  let last = nowMs();
  const feed = setInterval(() => {
    const now = nowMs();
    owed += (now - last) * perMs;
    last = now;
    for (; owed >= 1; owed -= 1) r.enqueue();
  }, 10);
  await sleep(WARMUP_MS);
  const stats = r.scheduler.stats;
  const before = {
    frames: stats.framesOut,
    idle: stats.idleFrames,
    octets: r.written.octets,
    packetsIn: stats.packetsIn,
    dropped: stats.packetsDropped,
    at: nowMs(),
  };
  const cpu = process.cpuUsage();
  let maxQueued = 0;
  const sampler = setInterval(() => {
    maxQueued = Math.max(maxQueued, stats.queued);
  }, 50);
  await sleep(durationMs);
  const cpuUs = cpuMicros(cpu);
  const linkMs = nowMs() - before.at;
  clearInterval(feed);
  clearInterval(sampler);
  r.scheduler.stop();
  return {
    cpuUs,
    stepCpuUs: 0,
    linkMs,
    steps: 0,
    frames: stats.framesOut - before.frames,
    idleFrames: stats.idleFrames - before.idle,
    octets: r.written.octets - before.octets,
    packetsIn: stats.packetsIn - before.packetsIn,
    dropped: stats.packetsDropped - before.dropped,
    maxQueued,
  };
}

/** CPU per second of the stepping loop alone (sleep, clock reads, cpuUsage), as a percentage of one core. */
async function baselinePercent(stepMs: number, durationMs: number): Promise<number> {
  const cpu = process.cpuUsage();
  const start = nowMs();
  const end = start + durationMs;
  while (nowMs() < end) {
    await sleep(stepMs);
    const stepCpu = process.cpuUsage();
    sink += nowMs() > 0 ? cpuMicros(stepCpu) & 1 : 1;
  }
  return (cpuMicros(cpu) / ((nowMs() - start) * 1000)) * 100;
}

interface UnlimitedRun {
  cpuUs: number;
  wallMs: number;
  frames: number;
  octets: number;
  packets: number;
}

/** The serial scheduler with no bandwidth limit, fed as fast as it takes packets; 1 ms of mission time per 100. */
function unlimitedRun(): UnlimitedRun {
  const r = rig('serial', 0);
  const batch = () => {
    for (let i = 0; i < 1000; i++) {
      r.enqueue();
      if (i % 100 === 99) r.clock.advanceBy(1);
    }
  };
  for (let k = 0; k < 50; k++) batch();
  const stats = r.scheduler.stats;
  const frames0 = stats.framesOut;
  const octets0 = r.written.octets;
  const packets0 = stats.packetsIn;
  const cpu = process.cpuUsage();
  const start = nowMs();
  let wallMs = 0;
  do {
    batch();
    wallMs = nowMs() - start;
  } while (wallMs < UNLIMITED_MS);
  const cpuUs = cpuMicros(cpu);
  r.scheduler.stop();
  return {
    cpuUs,
    wallMs,
    frames: stats.framesOut - frames0,
    octets: r.written.octets - octets0,
    packets: stats.packetsIn - packets0,
  };
}

async function downlinkFigures(): Promise<Figure[]> {
  const percent = (run: RealtimeRun) => (run.cpuUs / (run.linkMs * 1000)) * 100;
  const bestRun = (all: RealtimeRun[]) => all.reduce((a, b) => (percent(b) < percent(a) ? b : a));
  const runs: RealtimeRun[] = [];
  for (let t = 0; t < TRIALS; t++) runs.push(await realtimeRun(STEP_MS, REALTIME_MS));
  const best = bestRun(runs);
  const baseline = await baselinePercent(STEP_MS, BASELINE_MS);
  const coarseRuns: RealtimeRun[] = [];
  for (let t = 0; t < TRIALS; t++) coarseRuns.push(await realtimeRun(COARSE_STEP_MS, COARSE_MS));
  const coarse = bestRun(coarseRuns);
  const coarseBaseline = await baselinePercent(COARSE_STEP_MS, BASELINE_MS);
  const linkS = best.linkMs / 1000;
  const unlimited: UnlimitedRun[] = [];
  for (let t = 0; t < TRIALS; t++) unlimited.push(unlimitedRun());
  const framesPerS = (run: UnlimitedRun) => run.frames / (run.wallMs / 1000);
  const fastest = unlimited.reduce((a, b) => (framesPerS(b) > framesPerS(a) ? b : a));
  const label = 'downlink scheduler, radio at 10 Mbit/s (1,250,000 B/s), real-time steps';
  const realRuns: RealtimeRun[] = [];
  for (let t = 0; t < TRIALS; t++) realRuns.push(await realClockRun(REALTIME_MS));
  const real = bestRun(realRuns);
  const realS = real.linkMs / 1000;
  if (sink === -1) throw new Error('unreachable');
  return [
    {
      name: 'downlink scheduler, radio at 10 Mbit/s, on the real clock (its own timers, as in flight): CPU',
      value: percent(real),
      unit: '% of one core',
      target: cpuTarget,
      details: {
        trials: `best of ${TRIALS}; all: ${realRuns.map((r) => percent(r).toFixed(2)).join(', ')} %`,
        framesPerSecond: Math.round(real.frames / realS),
        octetsPerSecond: Math.round(real.octets / realS),
        packetsPerSecond: Math.round(real.packetsIn / realS),
        packetsDropped: real.dropped,
        maxQueued: real.maxQueued,
        method:
          'process.cpuUsage (user + system, all threads) over 2 s of real time after a 0.5 s warm-up; packets offered every 10 ms',
      },
    },
    {
      name: `${label}: CPU per second of link time`,
      value: percent(best),
      unit: '% of one core',
      details: {
        trials: `best of ${TRIALS}; all: ${runs.map((r) => percent(r).toFixed(2)).join(', ')} %`,
        cpuMicrosPerLinkSecond: Math.round(best.cpuUs / linkS),
        withinStepsOnly: `${((best.stepCpuUs / (best.linkMs * 1000)) * 100).toFixed(2)} % (scheduler, clock and feeding, without the event loop's own cost)`,
        harnessAlone: `${baseline.toFixed(2)} % (the same ${STEP_MS} ms sleeps and bookkeeping without a scheduler, ${BASELINE_MS / 1000} s)`,
        coarseSteps: `${percent(coarse).toFixed(2)} % with ${COARSE_STEP_MS} ms steps (best of ${TRIALS} runs of ${COARSE_MS / 1000} s; all: ${coarseRuns.map((r) => percent(r).toFixed(2)).join(', ')} %), harness alone ${coarseBaseline.toFixed(2)} %, ${coarse.dropped} dropped, queue at most ${coarse.maxQueued}`,
        linkSeconds: linkS.toFixed(3),
        steps: `${best.steps} of ${(best.linkMs / best.steps).toFixed(2)} ms on average`,
        packetsPerSecond: Math.round(best.packetsIn / linkS),
        feed: `${RADIO_FILL_PACKETS_PER_S.toFixed(0)} packets/s of ${DOWNLINK_OCTETS} octets (what fills 1103-octet data fields of 1119 framed octets at the link rate), encoded beforehand`,
        idleFramesPercent: ((best.idleFrames / best.frames) * 100).toFixed(1),
        packetsDropped: best.dropped,
        maxQueued: best.maxQueued,
        method: 'process.cpuUsage (user + system, all threads) over the run, after a 0.5 s warm-up',
      },
    },
    {
      name: `${label}: frames`,
      value: best.frames / linkS,
      unit: 'frames/s',
      details: {
        idleFramesPerSecond: Math.round(best.idleFrames / linkS),
        octetsPerSecond: Math.round(best.octets / linkS),
      },
    },
    {
      name: `${label}: CPU per megabyte downlinked`,
      value: best.cpuUs / (best.octets / MB),
      unit: 'µs/MB',
      details: { octetsDownlinked: best.octets, cpuMicros: best.cpuUs },
    },
    {
      name: 'downlink scheduler, serial, unlimited bandwidth (rate 0): frames',
      value: framesPerS(fastest),
      unit: 'frames/s',
      details: {
        trials: `best of ${TRIALS}; all: ${unlimited.map((u) => framesPerS(u).toFixed(0)).join(', ')} frames/s`,
        packetsPerSecond: Math.round(fastest.packets / (fastest.wallMs / 1000)),
        megabytesPerSecondOut: (fastest.octets / MB / (fastest.wallMs / 1000)).toFixed(1),
        cpuPercentOfWall: ((fastest.cpuUs / (fastest.wallMs * 1000)) * 100).toFixed(0),
      },
    },
    {
      name: 'downlink scheduler, serial, unlimited bandwidth (rate 0): CPU per megabyte downlinked',
      value: fastest.cpuUs / (fastest.octets / MB),
      unit: 'µs/MB',
      details: {
        octets: 'KISS-framed 256-octet TM frames written to the sink',
        perMegabyteOfPackets: Math.round(fastest.cpuUs / ((fastest.packets * DOWNLINK_OCTETS) / MB)),
      },
    },
  ];
}

// --- packed housekeeping ----------------------------------------------------------------------------------------

/** Headers around a TM(3,25) report: primary header, PUS TM secondary header, structure ID, packet CRC. */
const HK_HEADERS = SPACE_PACKET_HEADER_LENGTH + TM_SECONDARY_HEADER_LENGTH + 2 + CRC16_LENGTH;

/** Octets of one field: its natural width; strings and bytes their 16-bit length and their octets. */
function fieldOctets(type: DataType, value: unknown): number {
  switch (type.kind) {
    case 'u8':
    case 'i8':
    case 'bool':
    case 'enum':
      return 1;
    case 'u16':
    case 'i16':
      return 2;
    case 'u32':
    case 'i32':
    case 'f32':
      return 4;
    case 'u64':
    case 'i64':
    case 'f64':
      return 8;
    case 'string':
      return 2 + new TextEncoder().encode(String(value ?? '')).length;
    case 'bytes':
      return 2 + (value instanceof Uint8Array ? value.length : 0);
  }
}

/** Every structure reported once by the flight stack (TC(3,27) for all of them): structure ID -> packet. */
async function reportEveryStructure(): Promise<{
  dictionary: MissionDictionary;
  packets: Map<number, Uint8Array>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'skynode-bench-hk-'));
  const clock = new VirtualClock({ startMs: T0 });
  const hardware = sim.open({ stateDir: dir, now: () => clock.now(), clock });
  const stack = FlightStack.create({
    components: flightComponents(),
    clock,
    store: memoryStateStore(),
    logger: silentLogger(clock),
    hal: hardware.devices,
    rateGroups: flightRateGroups,
  });
  const packets = new Map<number, Uint8Array>();
  const ids = stack.dictionary.housekeeping.map((s) => s.id);
  try {
    stack.bus.downlink$.subscribe((p: DownlinkPacket) => {
      const tm = decodeTmPacket(p.bytes);
      if (!tm.ok || tm.value.service !== Service.housekeeping || tm.value.subtype !== 25) return;
      const data = tm.value.sourceData;
      packets.set(((data[0] as number) << 8) | (data[1] as number), p.bytes);
    });
    stack.start();
    clock.advanceBy(3000);
    stack.bus.publishUplink({
      bytes: encodeTcPacket({
        apid: APID,
        sequenceCount: 0,
        ackFlags: AckFlags.none,
        service: Service.housekeeping,
        subtype: 27,
        appData: encodeIdList(ids),
      }),
      vcid: 0,
      time: clock.now(),
    });
    // Commands run after the turn that received them: let that happen, then give the reports time to go.
    await sleep(0);
    clock.advanceBy(1000);
  } finally {
    stack.stop();
    hardware.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { dictionary: stack.dictionary, packets };
}

async function housekeepingFigures(): Promise<Figure[]> {
  const { dictionary, packets } = await reportEveryStructure();
  const rows: Record<string, string> = {};
  let largest = Number.NEGATIVE_INFINITY;
  let missing = 0;
  for (const structure of dictionary.housekeeping) {
    const packet = packets.get(structure.id);
    if (!packet) {
      missing += 1;
      rows[structure.name] = 'not reported';
      continue;
    }
    const decoded = decodeTmPacket(packet);
    if (!decoded.ok) throw new Error(`${structure.name}: ${decoded.reason}`);
    // Values from the packet itself, only for the lengths of strings and bytes.
    let fields = 0;
    const data = decoded.value.sourceData;
    let at = 2;
    for (const name of structure.parameters) {
      const type = dictionary.telemetryByName.get(name)?.type as DataType;
      let value: unknown;
      if (type.kind === 'string' || type.kind === 'bytes') {
        const length = ((data[at] as number) << 8) | (data[at + 1] as number);
        value = type.kind === 'bytes' ? data.subarray(at + 2, at + 2 + length) : 'x'.repeat(length);
      }
      const octets = fieldOctets(type, value);
      fields += octets;
      at += octets;
    }
    const overhead = packet.length - (fields + HK_HEADERS);
    largest = Math.max(largest, overhead);
    rows[structure.name] =
      `${packet.length} B = ${fields} B of ${structure.parameters.length} fields + ${HK_HEADERS} + ${overhead}`;
  }
  return [
    {
      name: 'packed housekeeping size: TM(3,25) length less (fields + headers), largest over the flight structures',
      value: missing > 0 ? Number.POSITIVE_INFINITY : largest,
      unit: 'B',
      target: issue5('max', 0),
      details: {
        structures: dictionary.housekeeping.length,
        notReported: missing,
        headers: `${SPACE_PACKET_HEADER_LENGTH} primary + ${TM_SECONDARY_HEADER_LENGTH} PUS TM secondary + 2 structure ID + ${CRC16_LENGTH} CRC = ${HK_HEADERS}`,
        source:
          'the flight stack (flightComponents, sim board, virtual time) reporting every structure on TC(3,27)',
        ...rows,
      },
    },
  ];
}

export const benchmarks: readonly Benchmark[] = [
  { name: 'recorder ingest', run: recorderFigures },
  { name: 'downlink scheduler at 10 Mbit/s', run: downlinkFigures },
  { name: 'packed housekeeping size', run: housekeepingFigures },
];
