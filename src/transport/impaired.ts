/**
 * An impaired link for tests: two in-memory byte pipes, A and B, joined by a channel each way that loses,
 * corrupts, duplicates, reorders, delays and paces chunks (a chunk is what one write() carries: a frame, when the
 * caller writes whole frames). Randomness comes from a seeded PRNG and time from the caller's scheduler, so a run
 * is reproducible: the same seed, the same writes at the same (virtual) times give the same deliveries.
 *
 * Per chunk, in order, on the channel it is written into:
 * 1. bandwidth: the chunk queues behind earlier ones and finishes sending `bytes / bandwidth` after the channel
 *    frees up (a chunk that would make the queue exceed `queueLimitBytes` is lost: `queueDropped`);
 * 2. drop with `dropProbability` (the chunk still used its air time);
 * 3. bit errors: each bit flips with probability `bitErrorRate`;
 * 4. duplicate with `duplicateProbability` (the copy arrives right after the original);
 * 5. reorder with `reorderProbability`: the chunk is held back and delivered right after the next chunk to
 *    arrive (or alone after `reorderMaxHoldMs` if none comes);
 * 6. arrival after `latencyMs` plus a uniform jitter in [0, `jitterMs`). Jitter alone never reorders: a chunk
 *    does not arrive before the one sent ahead of it.
 * Delivery always goes through the scheduler (even with no impairment, with zero delay), never inside write().
 */
import type { SchedulerLike, Subscription } from 'rxjs';
import { PipeBase } from './base.js';
import type { PipeStats } from './pipe.js';
import { Prng } from './prng.js';

export interface Impairments {
  /** Probability that a chunk is lost, 0..1. */
  readonly dropProbability?: number;
  /** Probability that each bit of a chunk is flipped, 0..1. */
  readonly bitErrorRate?: number;
  /** Probability that a chunk is delivered twice, 0..1. */
  readonly duplicateProbability?: number;
  /** Probability that a chunk is held back and delivered after the next one, 0..1. */
  readonly reorderProbability?: number;
  /** Longest a held-back chunk waits for a later one; default 1000 ms. */
  readonly reorderMaxHoldMs?: number;
  /** Fixed delay from the end of sending to arrival, ms. */
  readonly latencyMs?: number;
  /** Extra delay, uniform in [0, jitterMs), ms. */
  readonly jitterMs?: number;
  /** Bytes per second the channel carries; unlimited when left out. */
  readonly bandwidthBytesPerSecond?: number;
  /** Most bytes that may wait to be sent (with a bandwidth limit); unlimited when left out. */
  readonly queueLimitBytes?: number;
}

export interface ImpairmentStats {
  /** Chunks written into the channel. */
  readonly sent: number;
  /** Chunks delivered at the far end, duplicates included. */
  readonly delivered: number;
  readonly dropped: number;
  /** Lost because the send queue was full (queueLimitBytes). */
  readonly queueDropped: number;
  /** Lost because the link was down, or the far end closed, when they arrived. */
  readonly lostLinkDown: number;
  /** Chunks with at least one flipped bit, and the bits flipped. */
  readonly corrupted: number;
  readonly bitsFlipped: number;
  readonly duplicated: number;
  /** Chunks delivered after a chunk sent later than them. */
  readonly reordered: number;
  /** Largest number of bytes waiting to be sent. */
  readonly maxQueuedBytes: number;
}

/** Stats of one end; `impairments` counts what happened to the chunks this end wrote. */
export interface ImpairedPipeStats extends PipeStats {
  readonly impairments: ImpairmentStats;
}

export type Direction = 'aToB' | 'bToA';

export interface ImpairedPairOptions extends Impairments {
  readonly scheduler: SchedulerLike;
  /** Seed of the PRNG; default 1. */
  readonly seed?: number;
  /** Impairments of one direction, over the shared ones above. */
  readonly aToB?: Impairments;
  readonly bToA?: Impairments;
  /** Names of the two ends; default `impaired:A` and `impaired:B`. */
  readonly names?: readonly [string, string];
}

export interface ImpairedPair {
  readonly a: ImpairedPipe;
  readonly b: ImpairedPipe;
  /** Changes a direction's impairments from now on (merged over the current ones). */
  setImpairments(direction: Direction, impairments: Impairments): void;
  impairments(direction: Direction): Impairments;
  /** Takes the link down (both ends 'reconnecting', writes refused, chunks in flight lost) or up again. */
  setLinkUp(up: boolean): void;
  readonly linkUp: boolean;
  /** Closes both ends. */
  close(): Promise<void>;
}

const SHARED_KEYS: ReadonlyArray<keyof Impairments> = [
  'dropProbability',
  'bitErrorRate',
  'duplicateProbability',
  'reorderProbability',
  'reorderMaxHoldMs',
  'latencyMs',
  'jitterMs',
  'bandwidthBytesPerSecond',
  'queueLimitBytes',
];

function validate(impairments: Impairments, where: string): Impairments {
  const probability = (key: keyof Impairments): void => {
    const value = impairments[key];
    if (value !== undefined && !(value >= 0 && value <= 1)) {
      throw new RangeError(`${where}.${key} must be in 0..1 (got ${value})`);
    }
  };
  const nonNegative = (key: keyof Impairments): void => {
    const value = impairments[key];
    if (value !== undefined && !(value >= 0 && Number.isFinite(value))) {
      throw new RangeError(`${where}.${key} must be a finite number >= 0 (got ${value})`);
    }
  };
  probability('dropProbability');
  probability('bitErrorRate');
  probability('duplicateProbability');
  probability('reorderProbability');
  nonNegative('reorderMaxHoldMs');
  nonNegative('latencyMs');
  nonNegative('jitterMs');
  nonNegative('queueLimitBytes');
  const bandwidth = impairments.bandwidthBytesPerSecond;
  if (bandwidth !== undefined && !(bandwidth > 0)) {
    throw new RangeError(`${where}.bandwidthBytesPerSecond must be > 0 (got ${bandwidth})`);
  }
  return impairments;
}

function shared(options: ImpairedPairOptions): Impairments {
  const out: Record<string, number> = {};
  for (const key of SHARED_KEYS) {
    const value = options[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** Flips each bit of `bytes` with probability `rate` (in place); returns the number flipped. */
export function flipBits(bytes: Uint8Array, rate: number, prng: Prng): number {
  const totalBits = bytes.length * 8;
  if (rate <= 0 || totalBits === 0) return 0;
  if (rate >= 1) {
    for (let i = 0; i < bytes.length; i++) bytes[i] = ~bytes[i]! & 0xff;
    return totalBits;
  }
  // Gaps between flipped bits are geometric: draw them instead of one number per bit.
  const logKeep = Math.log1p(-rate);
  let flips = 0;
  let position = -1;
  for (;;) {
    const gap = Math.floor(Math.log(1 - prng.next()) / logKeep);
    position += 1 + gap;
    if (position >= totalBits) break;
    bytes[position >> 3]! ^= 0x80 >> (position & 7);
    flips += 1;
  }
  return flips;
}

interface InFlight {
  readonly bytes: Uint8Array;
  readonly duplicate: boolean;
  readonly hold: boolean;
}

interface MutableImpairmentStats {
  sent: number;
  delivered: number;
  dropped: number;
  queueDropped: number;
  lostLinkDown: number;
  corrupted: number;
  bitsFlipped: number;
  duplicated: number;
  reordered: number;
  maxQueuedBytes: number;
}

/** One direction of the link. */
class Channel {
  readonly stats: MutableImpairmentStats = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    queueDropped: 0,
    lostLinkDown: 0,
    corrupted: 0,
    bitsFlipped: 0,
    duplicated: 0,
    reordered: 0,
    maxQueuedBytes: 0,
  };
  /** When the channel finishes sending what it has queued. */
  private busyUntil = Number.NEGATIVE_INFINITY;
  private lastArrival = Number.NEGATIVE_INFINITY;
  private held: InFlight | undefined;
  private holdTimer: Subscription | undefined;
  private readonly pending = new Set<Subscription>();

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly prng: Prng,
    public impairments: Impairments,
    /** Hands a chunk to the far end; false if it could not take it (closed, link down). */
    private readonly deliverTo: (bytes: Uint8Array) => boolean,
  ) {}

  send(bytes: Uint8Array): void {
    const imp = this.impairments;
    const now = this.scheduler.now();
    const length = bytes.byteLength;
    this.stats.sent += 1;

    let sentAt = now;
    const bandwidth = imp.bandwidthBytesPerSecond;
    if (bandwidth !== undefined) {
      const start = Math.max(now, this.busyUntil);
      const backlog = ((start - now) * bandwidth) / 1000;
      if (imp.queueLimitBytes !== undefined && backlog + length > imp.queueLimitBytes) {
        this.stats.queueDropped += 1;
        return;
      }
      this.stats.maxQueuedBytes = Math.max(this.stats.maxQueuedBytes, Math.round(backlog + length));
      sentAt = start + (length * 1000) / bandwidth;
      this.busyUntil = sentAt;
    }

    if (this.prng.chance(imp.dropProbability ?? 0)) {
      this.stats.dropped += 1;
      return;
    }
    const copy = bytes.slice();
    const flips = flipBits(copy, imp.bitErrorRate ?? 0, this.prng);
    if (flips > 0) {
      this.stats.corrupted += 1;
      this.stats.bitsFlipped += flips;
    }
    const duplicate = this.prng.chance(imp.duplicateProbability ?? 0);
    const hold = this.prng.chance(imp.reorderProbability ?? 0);
    const jitter = (imp.jitterMs ?? 0) > 0 ? this.prng.next() * (imp.jitterMs ?? 0) : 0;
    const arrival = Math.max(sentAt + (imp.latencyMs ?? 0) + jitter, this.lastArrival);
    this.lastArrival = arrival;
    this.later(arrival - now, () => this.arrive({ bytes: copy, duplicate, hold }));
  }

  /** Forgets everything in flight (link down, far end closed): counted as lost. */
  flush(): void {
    for (const sub of this.pending) sub.unsubscribe();
    const lost =
      this.pending.size - (this.holdTimer !== undefined ? 1 : 0) + (this.held !== undefined ? 1 : 0);
    this.stats.lostLinkDown += Math.max(0, lost);
    this.pending.clear();
    this.held = undefined;
    this.holdTimer = undefined;
    this.busyUntil = Number.NEGATIVE_INFINITY;
    this.lastArrival = Number.NEGATIVE_INFINITY;
  }

  /** Cancels everything scheduled, without counting (closing). */
  cancel(): void {
    for (const sub of this.pending) sub.unsubscribe();
    this.pending.clear();
    this.held = undefined;
    this.holdTimer = undefined;
  }

  private later(delayMs: number, work: () => void): Subscription {
    let done = false;
    let sub: Subscription | undefined;
    sub = this.scheduler.schedule(
      () => {
        done = true;
        if (sub !== undefined) this.pending.delete(sub);
        work();
      },
      Math.max(0, delayMs),
    );
    // A scheduler may run the work at once (a synchronous one): then there is nothing pending to track.
    if (!done) this.pending.add(sub);
    return sub;
  }

  private arrive(chunk: InFlight): void {
    if (chunk.hold && this.held === undefined) {
      this.held = chunk;
      this.holdTimer = this.later(this.impairments.reorderMaxHoldMs ?? 1000, () => {
        this.holdTimer = undefined;
        const held = this.held;
        this.held = undefined;
        if (held !== undefined) this.hand(held);
      });
      return;
    }
    this.hand(chunk);
    const held = this.held;
    if (held !== undefined) {
      this.held = undefined;
      if (this.holdTimer !== undefined) {
        this.pending.delete(this.holdTimer);
        this.holdTimer.unsubscribe();
        this.holdTimer = undefined;
      }
      this.stats.reordered += 1;
      this.hand(held);
    }
  }

  private hand(chunk: InFlight): void {
    if (!this.deliverTo(chunk.bytes)) {
      this.stats.lostLinkDown += 1;
      return;
    }
    this.stats.delivered += 1;
    if (chunk.duplicate) {
      this.stats.duplicated += 1;
      if (this.deliverTo(chunk.bytes.slice())) this.stats.delivered += 1;
    }
  }
}

/** How an end is wired into its link (made by impairedPair). */
export interface LinkEnd {
  /** Puts a chunk this end wrote onto the channel towards the far end. */
  send(bytes: Uint8Array): void;
  /** What happened to the chunks this end wrote. */
  stats(): ImpairmentStats;
  /** Whether the link is up (chunks reach this end). */
  up(): boolean;
  /** This end is closing. */
  closing(): void;
}

/** One end of an impaired link. */
export class ImpairedPipe extends PipeBase {
  private readonly end: LinkEnd;

  /** Made by impairedPair. */
  constructor(name: string, scheduler: SchedulerLike, end: LinkEnd) {
    super(name, scheduler, undefined);
    this.end = end;
    this.opened('impaired link');
  }

  override get stats(): ImpairedPipeStats {
    return { ...super.stats, impairments: this.end.stats() };
  }

  write(bytes: Uint8Array): boolean {
    if (this.closing || this.state.kind !== 'open') return this.refuse(bytes);
    this.countOut(bytes.byteLength);
    this.end.send(bytes);
    return true;
  }

  /** Takes a chunk from the channel; false when this end cannot (closed, link down). For impairedPair. */
  take(bytes: Uint8Array): boolean {
    if (this.closing || !this.end.up()) return false;
    this.received(bytes);
    return true;
  }

  /** The link went up or down, or the far end closed. For impairedPair. */
  linkChanged(up: boolean, reason: string): void {
    if (up) this.opened('impaired link');
    else this.setState({ kind: 'reconnecting', attempt: 1, delayMs: 0, reason });
  }

  protected release(): Promise<void> {
    this.end.closing();
    return Promise.resolve();
  }
}

/** Two connected in-memory pipes with the given impairments. */
export function impairedPair(options: ImpairedPairOptions): ImpairedPair {
  const seed = options.seed ?? 1;
  const base = validate(shared(options), 'impairments');
  const aImpairments = { ...base, ...validate(options.aToB ?? {}, 'aToB') };
  const bImpairments = { ...base, ...validate(options.bToA ?? {}, 'bToA') };
  const [nameA, nameB] = options.names ?? ['impaired:A', 'impaired:B'];
  const { scheduler } = options;
  let up = true;
  let aClosed = false;
  let bClosed = false;
  const ends: { a?: ImpairedPipe; b?: ImpairedPipe } = {};
  const aToB = new Channel(
    scheduler,
    Prng.derive(seed, 'aToB'),
    aImpairments,
    (bytes) => ends.b?.take(bytes) ?? false,
  );
  const bToA = new Channel(
    scheduler,
    Prng.derive(seed, 'bToA'),
    bImpairments,
    (bytes) => ends.a?.take(bytes) ?? false,
  );
  const a = new ImpairedPipe(nameA, scheduler, {
    send: (bytes) => aToB.send(bytes),
    stats: () => ({ ...aToB.stats }),
    up: () => up && !bClosed,
    closing: () => {
      aClosed = true;
      aToB.cancel();
      bToA.cancel();
      if (!bClosed) b.linkChanged(false, 'far end closed');
    },
  });
  const b: ImpairedPipe = new ImpairedPipe(nameB, scheduler, {
    send: (bytes) => bToA.send(bytes),
    stats: () => ({ ...bToA.stats }),
    up: () => up && !aClosed,
    closing: () => {
      bClosed = true;
      aToB.cancel();
      bToA.cancel();
      if (!aClosed) a.linkChanged(false, 'far end closed');
    },
  });
  ends.a = a;
  ends.b = b;

  return {
    a,
    b,
    setImpairments(direction, impairments) {
      const channel = direction === 'aToB' ? aToB : bToA;
      channel.impairments = { ...channel.impairments, ...validate(impairments, direction) };
    },
    impairments(direction) {
      return { ...(direction === 'aToB' ? aToB : bToA).impairments };
    },
    setLinkUp(next) {
      if (next === up) return;
      up = next;
      if (aClosed || bClosed) return;
      if (!next) {
        aToB.flush();
        bToA.flush();
      }
      a.linkChanged(next, 'link down');
      b.linkChanged(next, 'link down');
    },
    get linkUp() {
      return up;
    },
    async close() {
      await Promise.all([a.close(), b.close()]);
    },
  };
}
