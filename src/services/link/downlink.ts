/**
 * The downlink scheduler: TM packets from the bus wait in a bounded priority queue (verification reports and
 * high-severity events first, then replies, events, housekeeping, playback), go into TM frames per virtual
 * channel (VC 0 real time, VC 1 playback), and leave within the link's bandwidth (a token bucket in octets per
 * second of mission time). A frame that is not full waits at most its latency bound; in the radio profile, idle
 * frames (VC 7) fill the link when there is nothing to send, as a continuous CADU stream needs. When the queue
 * is full the oldest packet of the lowest priority is dropped and counted: never silently.
 */
import type { DownlinkPacket } from '../../core/bus.js';
import type { MissionClock } from '../../core/clock.js';
import type { ClcwInit } from '../../link/clcw.js';
import {
  downlinkFramedCapacity,
  frameDownlinkInto,
  type LinkProfile,
  tmFrameLengthOf,
} from '../../link/profile.js';
import { TmFrameAssembler, writeIdleTmFrame } from '../../link/tm-frame.js';

export interface DownlinkSettings {
  /** Octets per second the link carries; 0: unlimited (the transport paces itself). */
  bandwidthBytesPerS(): number;
  /** Packets that may wait; past this the oldest of the lowest priority is dropped. */
  queueLimit(): number;
  /** Latency bound of a frame by the priority of a packet in it, ms (0: at the end of the current turn). */
  latencyMs(priority: number): number;
}

export interface DownlinkStats {
  packetsIn: number;
  packetsDropped: number;
  framesOut: number;
  bytesOut: number;
  idleFrames: number;
  readonly queued: number;
}

export class DownlinkScheduler {
  private readonly buckets = new Map<number, DownlinkPacket[]>();
  private priorities: number[] = [];
  private size = 0;
  private readonly assemblers: TmFrameAssembler[];
  /** Framed frames that could not leave yet (bandwidth or transport), oldest first. */
  private readonly waiting: Uint8Array[] = [];
  private readonly scratch: Uint8Array;
  private readonly idleFrame: Uint8Array;
  private readonly latencyTimers: Array<{ unsubscribe(): void } | undefined> = [undefined, undefined];
  private readonly latencyDue = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY];
  private readonly flushQueued = [false, false];
  private pumpTimer: { unsubscribe(): void } | undefined;
  private idleTicker: { unsubscribe(): void } | undefined;
  private tokens = 0;
  private lastRefill: number;
  private mcCount = 0;
  private idleVcCount = 0;
  private open = false;
  private stopped = false;
  readonly stats: DownlinkStats;

  constructor(
    private readonly profile: LinkProfile,
    private readonly scid: number,
    private readonly clcw: () => ClcwInit,
    private readonly clock: MissionClock,
    private readonly settings: DownlinkSettings,
    /** Writes framed octets to the transport; false when it is not open (the octets are kept and retried). */
    private readonly write: (bytes: Uint8Array) => boolean,
  ) {
    const frameLength = tmFrameLengthOf(profile);
    const nextMc = () => {
      const mc = this.mcCount;
      this.mcCount = (mc + 1) & 0xff;
      return mc;
    };
    this.assemblers = [0, 1].map(
      (vcid) =>
        new TmFrameAssembler({ frameLength, scid, vcid, clcw, reuseFrames: true, mcFrameCount: nextMc }),
    );
    this.scratch = new Uint8Array(downlinkFramedCapacity(profile));
    this.idleFrame = new Uint8Array(frameLength);
    this.lastRefill = clock.now();
    const scheduler = this;
    this.stats = {
      packetsIn: 0,
      packetsDropped: 0,
      framesOut: 0,
      bytesOut: 0,
      idleFrames: 0,
      get queued() {
        return scheduler.size;
      },
    };
    // A radio link is never silent: idle frames fill what the bandwidth leaves, checked ten times a second.
    if (profile === 'radio') {
      this.idleTicker = clock.scheduler.schedule(function () {
        scheduler.pump();
        this.schedule(undefined, 100);
      }, 100);
    }
  }

  /** The transport opened (or closed): what waits goes out once it is open. */
  setOpen(open: boolean): void {
    this.open = open;
    if (open) this.pump();
  }

  enqueue(packet: DownlinkPacket): void {
    if (this.stopped) return;
    this.stats.packetsIn += 1;
    let bucket = this.buckets.get(packet.priority);
    if (!bucket) {
      bucket = [];
      this.buckets.set(packet.priority, bucket);
      this.priorities = [...this.buckets.keys()].sort((a, b) => b - a);
    }
    bucket.push(packet);
    this.size += 1;
    while (this.size > this.settings.queueLimit()) this.dropLowest();
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.latencyTimers) timer?.unsubscribe();
    this.pumpTimer?.unsubscribe();
    this.idleTicker?.unsubscribe();
  }

  private dropLowest(): void {
    for (let i = this.priorities.length - 1; i >= 0; i--) {
      const bucket = this.buckets.get(this.priorities[i] as number);
      if (bucket && bucket.length > 0) {
        bucket.shift();
        this.size -= 1;
        this.stats.packetsDropped += 1;
        return;
      }
    }
  }

  private takeHighest(): DownlinkPacket | undefined {
    for (const priority of this.priorities) {
      const bucket = this.buckets.get(priority);
      if (bucket && bucket.length > 0) {
        this.size -= 1;
        return bucket.shift();
      }
    }
    return undefined;
  }

  private refill(): number {
    const rate = this.settings.bandwidthBytesPerS();
    const now = this.clock.now();
    if (rate > 0) {
      // The bucket holds at most a fifth of a second of link, and never less than two frames: no bursts.
      const burst = Math.max(rate / 5, 2 * this.scratch.length);
      this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) * rate) / 1000);
    }
    this.lastRefill = now;
    return rate;
  }

  /** Sends a framed frame if the bandwidth and the transport allow; false if it must wait. */
  private trySend(bytes: Uint8Array, rate: number): boolean {
    if (!this.open) return false;
    if (rate > 0 && this.tokens < bytes.length) return false;
    if (!this.write(bytes)) {
      this.open = false;
      return false;
    }
    if (rate > 0) this.tokens -= bytes.length;
    this.stats.framesOut += 1;
    this.stats.bytesOut += bytes.length;
    return true;
  }

  /** Frames just completed: out at once when nothing waits ahead of them, else copied to wait in order. */
  private emit(frames: Uint8Array[], rate: number): void {
    for (const frame of frames) {
      const bytes = this.scratch.subarray(0, frameDownlinkInto(this.profile, frame, this.scratch));
      if (this.waiting.length > 0 || !this.trySend(bytes, rate)) this.waiting.push(bytes.slice());
    }
  }

  private pump(): void {
    if (this.stopped) return;
    const rate = this.refill();
    for (;;) {
      while (this.waiting.length > 0 && this.trySend(this.waiting[0] as Uint8Array, rate))
        this.waiting.shift();
      // While the transport is down, packets wait in the (bounded, prioritised) queue, not in frames.
      if (this.waiting.length > 0 || !this.open) break;
      const packet = this.takeHighest();
      if (!packet) break;
      const vc = packet.vcid === 1 ? 1 : 0;
      const assembler = this.assemblers[vc] as TmFrameAssembler;
      this.emit(assembler.push(packet.bytes), rate);
      if (assembler.pendingOctets > 0) this.armLatency(vc, this.settings.latencyMs(packet.priority));
    }
    if (this.waiting.length > 0 && rate > 0 && this.open) {
      // Wait for the tokens the next frame needs, but at least 10 ms: on a fast link that sends frames in small
      // bursts rather than waking the process for every frame (most of the cost at 10 Mbit/s).
      const needed = (this.waiting[0] as Uint8Array).length - this.tokens;
      this.pumpTimer?.unsubscribe();
      this.pumpTimer = this.clock.scheduler.schedule(() => this.pump(), Math.max(10, (needed * 1000) / rate));
      return;
    }
    if (this.profile === 'radio' && rate > 0 && this.open && this.size === 0) this.fillIdle(rate);
  }

  private fillIdle(rate: number): void {
    const framed = downlinkFramedCapacity(this.profile);
    while (this.tokens >= framed && this.waiting.length === 0) {
      writeIdleTmFrame(this.idleFrame, 0, {
        frameLength: this.idleFrame.length,
        scid: this.scid,
        mcFrameCount: this.mcCount,
        vcFrameCount: this.idleVcCount,
        clcw: this.clcw(),
      });
      const bytes = this.scratch.subarray(0, frameDownlinkInto(this.profile, this.idleFrame, this.scratch));
      if (!this.trySend(bytes, rate)) break;
      this.mcCount = (this.mcCount + 1) & 0xff;
      this.idleVcCount = (this.idleVcCount + 1) & 0xff;
      this.stats.idleFrames += 1;
    }
  }

  private armLatency(vc: number, latencyMs: number): void {
    if (latencyMs === 0) {
      // "At once": at the end of the current turn (a zero-delay timer would wait a millisecond).
      if (this.flushQueued[vc]) return;
      this.flushQueued[vc] = true;
      queueMicrotask(() => {
        this.flushQueued[vc] = false;
        this.flush(vc);
      });
      return;
    }
    const due = this.clock.now() + latencyMs;
    if (due >= (this.latencyDue[vc] as number)) return;
    this.latencyTimers[vc]?.unsubscribe();
    this.latencyDue[vc] = due;
    this.latencyTimers[vc] = this.clock.scheduler.schedule(() => this.flush(vc), latencyMs);
  }

  private flush(vc: number): void {
    this.latencyTimers[vc]?.unsubscribe();
    this.latencyTimers[vc] = undefined;
    this.latencyDue[vc] = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    const assembler = this.assemblers[vc] as TmFrameAssembler;
    if (assembler.pendingOctets > 0) this.emit(assembler.flush(), this.refill());
    this.pump();
  }
}
