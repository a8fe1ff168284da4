/**
 * Link layer throughput on one core. Targets: issue 3 (downlink encode >= 100 MB/s; uplink decode + HMAC
 * verification >= 50,000 frames/s).
 *
 * - TM downlink encode: housekeeping-like TM packets (60 octets of source data, CUC time per packet) -> frame
 *   assembler (256-octet serial frames, 1115-octet radio frames) -> KISS or CADU, each with the allocating encoder
 *   and with the one writing into a buffer reused frame after frame. MB/s of packet octets in (the target) and of
 *   framed octets out.
 * - TC uplink decode + verify: SDLS-secured AD frames carrying TC(8,1) health.NOOP, KISS- or CLTU-framed into one
 *   long stream, decoded as the link service does: deframer -> decodeTcFrame -> verifyDecodedTcFrame (anti-replay
 *   window, each ARSN committed) -> decodeTcPacket.
 *
 * Allocation: V8 heap octets allocated per frame, measured with v8.GCProfiler over one long run (heap used at the
 * end less at the start, plus what every garbage collection during the run freed). Typed-array backing stores over
 * 64 octets live outside the V8 heap and are not counted (their JS objects are).
 */
import { randomBytes } from 'node:crypto';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { unixMsToCuc } from '../../src/core/time.js';
import { encodeCadu, writeCadu } from '../../src/link/cadu.js';
import type { ClcwInit } from '../../src/link/clcw.js';
import { CltuDecoder, encodeCltu } from '../../src/link/cltu.js';
import { KissDecoder, kissEncode, kissEncodeInto } from '../../src/link/kiss.js';
import {
  AckFlags,
  decodeTcPacket,
  encodeTcPacket,
  encodeTmPacket,
  tmPacketLength,
} from '../../src/link/pus.js';
import { encodePerformFunction } from '../../src/link/pus-services.js';
import {
  AntiReplayWindow,
  type SdlsKeys,
  type Spi,
  sdlsKey,
  sdlsKeys,
  secureTcFrame,
  verifyDecodedTcFrame,
} from '../../src/link/sdls.js';
import { decodeTcFrame } from '../../src/link/tc-frame.js';
import { TmFrameAssembler, TmFrameLength } from '../../src/link/tm-frame.js';
import { type Benchmark, type Figure, findGc, rate } from './harness.js';

const SCID = 0x2a;
const APID = 0x010;
const NOOP_OPCODE = 0x0101;
const SOURCE_DATA_LENGTH = 60;
/** Packets per timed batch on the downlink. */
const TM_BATCH = 10_000;
/** Frames in the uplink stream (one timed run decodes all of them). */
const TC_FRAMES = 20_000;
/** Read size the uplink stream is fed in, as a serial driver hands it over. */
const UPLINK_CHUNK = 4096;
const MB = 1e6;

/** Timed trials per figure, and the least time each runs; the best trial is reported (the host is shared). */
const TRIALS = 3;
const TRIAL_MS = 300;

/** Runs/s of `work` in TRIALS trials (see harness rate()): the best, and every trial's. */
function bestOf(work: () => void, minMs: number): { best: number; trials: number[] } {
  const trials: number[] = [];
  for (let i = 0; i < TRIALS; i++) trials.push(rate(work, minMs).perSecond);
  return { best: Math.max(...trials), trials };
}

/** A figure's details on its trials: the best is the value, the others show the spread. */
function spread(timing: { trials: number[] }, scale: number, unit = 'MB/s'): Record<string, string> {
  const divisor = unit === 'MB/s' ? MB : 1;
  const all = timing.trials.map((t) => ((t * scale) / divisor).toFixed(unit === 'MB/s' ? 1 : 0));
  return { trials: `best of ${timing.trials.length}; all: ${all.join(', ')} ${unit}` };
}

const downlinkTarget = { kind: 'min' as const, value: 100, source: 'issue 3 (downlink encode >= 100 MB/s)' };
const uplinkTarget = {
  kind: 'min' as const,
  value: 50_000,
  source: 'issue 3 (uplink decode + HMAC verification >= 50,000 frames/s)',
};

// --- allocation -------------------------------------------------------------------------------------------------

const { gc } = findGc();

/** V8 heap octets `work` allocates: heap growth plus what each garbage collection during it freed. */
function heapAllocated(work: () => void): number {
  gc?.();
  const profiler = new GCProfiler();
  const start = getHeapStatistics().used_heap_size;
  profiler.start();
  work();
  const end = getHeapStatistics().used_heap_size;
  const { statistics } = profiler.stop();
  let freed = 0;
  for (const s of statistics)
    freed += Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize);
  return end - start + freed;
}

const ALLOCATION_METHOD =
  'v8.GCProfiler over one run: heap used growth + octets freed by each GC; backing stores > 64 octets are off-heap, not counted';

// --- downlink ---------------------------------------------------------------------------------------------------

const SOURCE_DATA = new Uint8Array(randomBytes(SOURCE_DATA_LENGTH));
const PACKET_LENGTH = tmPacketLength(SOURCE_DATA_LENGTH);
const T0 = Date.UTC(2030, 0, 1);
const CLCW: ClcwInit = {
  vcid: 0,
  lockout: false,
  wait: false,
  retransmit: false,
  farmBCounter: 0,
  reportValue: 0,
  noRfAvailable: false,
  noBitLock: false,
};
const clcw = () => CLCW;

let sequence = 0;
/** The next housekeeping-like packet: TM(3,25), a counter, spacecraft time 10 ms after the previous one. */
function nextPacket(): Uint8Array {
  const n = sequence++;
  return encodeTmPacket({
    apid: APID,
    sequenceCount: n & 0x3fff,
    service: 3,
    subtype: 25,
    messageTypeCounter: n & 0xffff,
    time: unixMsToCuc(T0 + n * 10),
    sourceData: SOURCE_DATA,
  });
}

/** Packets made once, as the downlink service receives them from the bus (encoded by their services). */
const PREBUILT = Array.from({ length: 4096 }, () => nextPacket());
let prebuiltIndex = 0;
function prebuiltPacket(): Uint8Array {
  prebuiltIndex = (prebuiltIndex + 1) & 4095;
  return PREBUILT[prebuiltIndex] as Uint8Array;
}

interface DownlinkPath {
  readonly name: string;
  readonly frameLength: number;
  /** The downlink service's own path: packets arrive encoded, frames are built in reused buffers. */
  readonly service?: boolean;
  /** Frames the octets of `frame` for the transport; returns the octets written. */
  readonly frame: (frame: Uint8Array) => number;
}

let sink = 0;
const kissBuffer = new Uint8Array(2 * TmFrameLength.serial + 3);
const caduBuffer = new Uint8Array(4 + TmFrameLength.radio);

const DOWNLINK_PATHS: readonly DownlinkPath[] = [
  {
    name: 'downlink service, serial: encoded packets -> reused 256-octet frames -> kissEncodeInto',
    frameLength: TmFrameLength.serial,
    service: true,
    frame: (f) => {
      const n = kissEncodeInto(kissBuffer, 0, f);
      sink += kissBuffer[1]!;
      return n;
    },
  },
  {
    name: 'downlink service, radio: encoded packets -> reused 1115-octet frames -> writeCadu',
    frameLength: TmFrameLength.radio,
    service: true,
    frame: (f) => {
      const n = writeCadu(caduBuffer, 0, f);
      sink += caduBuffer[5]!;
      return n;
    },
  },
  {
    name: 'serial 256-octet frames, assembly only (no framing)',
    frameLength: TmFrameLength.serial,
    frame: (f) => f.length,
  },
  {
    name: 'serial 256-octet frames -> kissEncode',
    frameLength: TmFrameLength.serial,
    frame: (f) => {
      const out = kissEncode(f);
      sink += out[1]!;
      return out.length;
    },
  },
  {
    name: 'serial 256-octet frames -> kissEncodeInto (reused buffer)',
    frameLength: TmFrameLength.serial,
    frame: (f) => {
      const n = kissEncodeInto(kissBuffer, 0, f);
      sink += kissBuffer[1]!;
      return n;
    },
  },
  {
    name: 'radio 1115-octet frames, assembly only (no framing)',
    frameLength: TmFrameLength.radio,
    frame: (f) => f.length,
  },
  {
    name: 'radio 1115-octet frames -> encodeCadu',
    frameLength: TmFrameLength.radio,
    frame: (f) => {
      const out = encodeCadu(f);
      sink += out[5]!;
      return out.length;
    },
  },
  {
    name: 'radio 1115-octet frames -> writeCadu (reused buffer)',
    frameLength: TmFrameLength.radio,
    frame: (f) => {
      const n = writeCadu(caduBuffer, 0, f);
      sink += caduBuffer[5]!;
      return n;
    },
  },
];

function downlinkFigures(path: DownlinkPath): Figure[] {
  const assembler = new TmFrameAssembler({
    frameLength: path.frameLength,
    scid: SCID,
    vcid: 0,
    clcw,
    reuseFrames: path.service ?? false,
  });
  const packetSource = path.service ? prebuiltPacket : nextPacket;
  const frames: Uint8Array[] = [];
  let framesOut = 0;
  let octetsOut = 0;
  const batch = () => {
    for (let i = 0; i < TM_BATCH; i++) {
      frames.length = 0;
      assembler.push(packetSource(), frames);
      for (const f of frames) {
        octetsOut += path.frame(f);
        framesOut++;
      }
    }
  };
  let packetsIn = 0;
  const counted = () => {
    batch();
    packetsIn += TM_BATCH;
  };
  const timing = bestOf(counted, TRIAL_MS);
  const packetsPerSecond = TM_BATCH * timing.best;
  // Frames and framed octets per packet over every run (warm-ups included): they do not depend on timing.
  const framesPerSecond = (packetsPerSecond * framesOut) / packetsIn;
  const octetsOutPerSecond = (packetsPerSecond * octetsOut) / packetsIn;
  framesOut = 0;
  const allocated = heapAllocated(() => {
    for (let k = 0; k < 5; k++) batch();
  });
  const allocatedFrames = framesOut;
  return [
    {
      name: `${path.name}: packets in`,
      value: (packetsPerSecond * PACKET_LENGTH) / MB,
      unit: 'MB/s',
      ...(path.service ? { target: downlinkTarget } : {}),
      details: {
        packetsPerSecond: Math.round(packetsPerSecond),
        packetOctets: PACKET_LENGTH,
        ...spread(timing, TM_BATCH * PACKET_LENGTH),
        includes: path.service
          ? 'TmFrameAssembler.push (reused frames) + framing; packets encoded beforehand by their services'
          : 'encodeTmPacket (with unixMsToCuc) + TmFrameAssembler.push + framing',
      },
    },
    {
      name: `${path.name}: framed octets out`,
      value: octetsOutPerSecond / MB,
      unit: 'MB/s',
      details: {
        framesPerSecond: Math.round(framesPerSecond),
        octetsPerFrameOut: Math.round(octetsOutPerSecond / framesPerSecond),
      },
    },
    {
      name: `${path.name}: heap allocated per frame`,
      value: allocated / allocatedFrames,
      unit: 'B/frame',
      details: {
        perPacket: Math.round(allocated / (5 * TM_BATCH)),
        frames: allocatedFrames,
        gc: gc ? 'collected before' : 'no gc available',
        method: ALLOCATION_METHOD,
      },
    },
  ];
}

function packetEncodingFigures(): Figure[] {
  const timing = bestOf(() => {
    for (let i = 0; i < TM_BATCH; i++) sink += nextPacket()[0]!;
  }, TRIAL_MS);
  const packetsPerSecond = TM_BATCH * timing.best;
  const allocated = heapAllocated(() => {
    for (let i = 0; i < 5 * TM_BATCH; i++) sink += nextPacket()[0]!;
  });
  return [
    {
      name: `TM(3,25) packet encoding alone (${PACKET_LENGTH} octets)`,
      value: (packetsPerSecond * PACKET_LENGTH) / MB,
      unit: 'MB/s',
      details: {
        packetsPerSecond: Math.round(packetsPerSecond),
        ...spread(timing, TM_BATCH * PACKET_LENGTH),
      },
    },
    {
      name: 'TM(3,25) packet encoding alone: heap allocated per packet',
      value: allocated / (5 * TM_BATCH),
      unit: 'B/packet',
      details: { method: ALLOCATION_METHOD },
    },
  ];
}

// --- uplink -----------------------------------------------------------------------------------------------------

const KEYS: SdlsKeys = sdlsKeys(sdlsKey(1, randomBytes(32)), sdlsKey(2, randomBytes(32)));

/** TC(8,1) health.NOOP in SDLS-secured AD frames: N(S) and ARSN increasing, one frame per packet. */
function securedFrames(spi: Spi, count: number): Uint8Array[] {
  const appData = encodePerformFunction(NOOP_OPCODE, new Uint8Array(0));
  return Array.from({ length: count }, (_, i) =>
    secureTcFrame(
      {
        scid: SCID,
        vcid: 0,
        type: 'AD',
        sequenceNumber: i & 0xff,
        spi,
        arsn: i + 1,
        payload: encodeTcPacket({
          apid: APID,
          sequenceCount: i & 0x3fff,
          ackFlags: AckFlags.all,
          service: 8,
          subtype: 1,
          sourceId: 1,
          appData,
        }),
      },
      KEYS,
    ),
  );
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface UplinkDeframer {
  push(chunk: Uint8Array, out: Uint8Array[]): Uint8Array[];
}

/** Decodes the whole stream as the link service does; returns the packets decoded. Throws on any rejection. */
function decodeUplink(stream: Uint8Array, deframer: UplinkDeframer, radio: boolean): number {
  const window = new AntiReplayWindow();
  const frames: Uint8Array[] = [];
  let packets = 0;
  for (let at = 0; at < stream.length; at += UPLINK_CHUNK) {
    frames.length = 0;
    deframer.push(stream.subarray(at, at + UPLINK_CHUNK), frames);
    for (const bytes of frames) {
      const decoded = decodeTcFrame(bytes, { scid: SCID, allowTrailing: radio });
      if (!decoded.ok) throw new Error(`frame rejected: ${decoded.reason} ${decoded.detail}`);
      const frame = decoded.value;
      if (frame.type === 'BC') throw new Error('unexpected BC frame');
      const verified = verifyDecodedTcFrame(bytes, frame, KEYS, window.last, decoded.length);
      if (!verified.ok) throw new Error(`frame rejected: ${verified.reason} ${verified.detail}`);
      window.commit(verified.value.spi, verified.value.arsn);
      const packet = decodeTcPacket(verified.value.payload);
      if (!packet.ok) throw new Error(`packet rejected: ${packet.reason} ${packet.detail}`);
      sink += packet.value.sequenceCount;
      packets++;
    }
  }
  return packets;
}

function uplinkFigures(
  label: string,
  framing: 'kiss' | 'cltu',
  frames: readonly Uint8Array[],
  target?: typeof uplinkTarget,
): Figure[] {
  const radio = framing === 'cltu';
  const stream = concat(frames.map((f) => (radio ? encodeCltu(f) : kissEncode(f))));
  const deframer = (): UplinkDeframer => (radio ? new CltuDecoder() : new KissDecoder());
  const run = () => {
    const n = decodeUplink(stream, deframer(), radio);
    if (n !== frames.length) throw new Error(`${label}: ${n} of ${frames.length} frames decoded`);
  };
  const timing = bestOf(run, TRIAL_MS);
  const framesPerSecond = frames.length * timing.best;
  const frameOctets = frames.reduce((n, f) => n + f.length, 0);
  const allocated = heapAllocated(() => {
    for (let k = 0; k < 3; k++) run();
  });
  return [
    {
      name: `${label}: frames`,
      value: framesPerSecond,
      unit: 'frames/s',
      ...(target ? { target } : {}),
      details: {
        frameOctets: Math.round(frameOctets / frames.length),
        framedOctets: Math.round(stream.length / frames.length),
        framesPerRun: frames.length,
        readSize: UPLINK_CHUNK,
        ...spread(timing, frames.length, 'frames/s'),
      },
    },
    {
      name: `${label}: TC frame octets`,
      value: (framesPerSecond * frameOctets) / frames.length / MB,
      unit: 'MB/s',
      details: { framedOctetsPerSecond: Math.round((framesPerSecond * stream.length) / frames.length) },
    },
    {
      name: `${label}: heap allocated per frame`,
      value: allocated / (3 * frames.length),
      unit: 'B/frame',
      details: { gc: gc ? 'collected before' : 'no gc available', method: ALLOCATION_METHOD },
    },
  ];
}

export const benchmarks: readonly Benchmark[] = [
  {
    name: 'TM downlink encode',
    run(): Figure[] {
      const figures = [...packetEncodingFigures()];
      for (const path of DOWNLINK_PATHS) figures.push(...downlinkFigures(path));
      if (sink === -1) throw new Error('unreachable');
      return figures;
    },
  },
  {
    name: 'TC uplink decode + verify',
    run(): Figure[] {
      const hmac = securedFrames(1, TC_FRAMES);
      const gcm = securedFrames(2, TC_FRAMES);
      const figures = [
        ...uplinkFigures('KISS, SPI 1 HMAC-SHA-256', 'kiss', hmac, uplinkTarget),
        ...uplinkFigures('KISS, SPI 2 AES-256-GCM', 'kiss', gcm),
        ...uplinkFigures('CLTU (BCH, randomized), SPI 1 HMAC-SHA-256', 'cltu', hmac, uplinkTarget),
      ];
      if (sink === -1) throw new Error('unreachable');
      return figures;
    },
  },
];
