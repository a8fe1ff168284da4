import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.js';
import { decodeClcw, encodeClcw } from '../../../src/link/clcw.js';
import { checkCrc16, writeCrc16 } from '../../../src/link/crc16.js';
import { Farm1, type FarmDiscard } from '../../../src/link/farm.js';
import { Fop1, type FopAlert, type FopFrame } from '../../../src/link/fop.js';
import { decodeTcFrame, encodeTcFrame } from '../../../src/link/tc-frame.js';

const ad = (sequenceNumber: number) => ({ type: 'AD' as const, sequenceNumber });

describe('FARM-1', () => {
  it('accepts AD frames in order and advances V(R), wrapping at 256', () => {
    const farm = new Farm1(10, () => true, { vr: 254, state: 'open', retransmit: false, farmBCounter: 0 });
    expect([254, 255, 0, 1].map((ns) => farm.receive(ad(ns)).accepted)).toEqual([true, true, true, true]);
    expect(farm.status).toMatchObject({ vr: 2, lockout: false, wait: false, retransmit: false });
  });

  it('discards a frame ahead of V(R) and asks for retransmission; discards repeats silently', () => {
    const farm = new Farm1(10);
    farm.receive(ad(0));
    expect(farm.receive(ad(2))).toEqual({ accepted: false, reason: 'positive-window' });
    expect(farm.status).toMatchObject({ vr: 1, retransmit: true });
    expect(farm.receive(ad(0))).toEqual({ accepted: false, reason: 'negative-window' });
    expect(farm.receive(ad(1)).accepted).toBe(true);
    expect(farm.status).toMatchObject({ vr: 2, retransmit: false });
  });

  it('locks out on a frame outside the window, and only Unlock gets it out', () => {
    const farm = new Farm1(10);
    expect(farm.receive(ad(100))).toEqual({ accepted: false, reason: 'outside-window' });
    expect(farm.status).toMatchObject({ state: 'lockout', lockout: true });
    const reasons: FarmDiscard[] = [];
    for (const frame of [ad(0), { type: 'BC' as const, command: { kind: 'set-vr' as const, vr: 5 } }]) {
      const verdict = farm.receive(frame);
      if (!verdict.accepted) reasons.push(verdict.reason);
    }
    expect(reasons).toEqual(['lockout', 'set-vr-in-lockout']);
    expect(farm.receive({ type: 'BC', command: { kind: 'unlock' } }).accepted).toBe(true);
    expect(farm.status).toMatchObject({ state: 'open', vr: 0, farmBCounter: 2 });
    expect(farm.receive(ad(0)).accepted).toBe(true);
  });

  it('window edges: N(S) = V(R)+PW-1 is positive window, V(R)-NW negative, beyond either lockout', () => {
    const edge = (ns: number) => {
      const farm = new Farm1(10, () => true, { vr: 50, state: 'open', retransmit: false, farmBCounter: 0 });
      const verdict = farm.receive(ad(ns));
      return verdict.accepted ? 'accepted' : verdict.reason;
    };
    expect(edge(54)).toBe('positive-window');
    expect(edge(55)).toBe('outside-window');
    expect(edge(45)).toBe('negative-window');
    expect(edge(44)).toBe('outside-window');
  });

  it('sets V(R) on a BC Set V(R), counts BD and BC frames modulo 4', () => {
    const farm = new Farm1(10);
    farm.receive({ type: 'BC', command: { kind: 'set-vr', vr: 200 } });
    for (let i = 0; i < 4; i++) farm.receive({ type: 'BD', sequenceNumber: 0 });
    expect(farm.status).toMatchObject({ vr: 200, farmBCounter: 1 });
    expect(farm.receive(ad(200)).accepted).toBe(true);
  });

  it('enters Wait when the buffer is full and leaves it when released', () => {
    let room = false;
    const farm = new Farm1(10, () => room);
    expect(farm.receive(ad(0))).toEqual({ accepted: false, reason: 'no-buffer' });
    expect(farm.status).toMatchObject({ state: 'wait', wait: true, retransmit: true });
    room = true;
    expect(farm.receive(ad(0))).toEqual({ accepted: false, reason: 'no-buffer' });
    farm.bufferReleased();
    expect(farm.receive(ad(0)).accepted).toBe(true);
    expect(farm.status).toMatchObject({ state: 'open', wait: false, retransmit: false, vr: 1 });
  });

  it('restores from a snapshot so a restart accepts no frame twice', () => {
    const first = new Farm1(10);
    for (let ns = 0; ns < 7; ns++) first.receive(ad(ns));
    const restarted = new Farm1(10, () => true, first.snapshot());
    expect(restarted.receive(ad(6))).toEqual({ accepted: false, reason: 'negative-window' });
    expect(restarted.receive(ad(7)).accepted).toBe(true);
  });
});

/** A seeded PRNG (mulberry32) for the lossy channel. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ChannelOptions {
  readonly loss: number;
  readonly bitErrorRate: number;
  readonly reorder: number;
  readonly duplicate: number;
  readonly latencyMs: number;
}

/** One direction of a lossy link in virtual time: drops, flips bits, duplicates, reorders, delays. */
function channel(
  clock: VirtualClock,
  random: () => number,
  options: ChannelOptions,
  deliver: (b: Uint8Array) => void,
) {
  return (bytes: Uint8Array) => {
    if (random() < options.loss) return;
    const copy = bytes.slice();
    for (let bit = 0; bit < copy.length * 8; bit++) {
      if (random() < options.bitErrorRate) copy[bit >> 3] = (copy[bit >> 3] as number) ^ (0x80 >> (bit & 7));
    }
    const delay = options.latencyMs + (random() < options.reorder ? options.latencyMs * 2 : 0) + random();
    clock.scheduler.schedule(() => deliver(copy), delay);
    if (random() < options.duplicate) clock.scheduler.schedule(() => deliver(copy.slice()), delay * 1.5);
  };
}

function copLink(seed: number, options: ChannelOptions) {
  const clock = new VirtualClock({ startMs: 0 });
  const random = prng(seed);
  const farm = new Farm1(10);
  const delivered: number[] = [];
  const rejectedFrames = { fecf: 0, farm: 0 };
  let sendUp: (bytes: Uint8Array) => void = () => {};
  // Each CLCW travels with a count, as in a TM frame's master channel frame count: the ground hands FOP-1 a CLCW
  // only if it is newer than the last one it saw, since a stale report would move N(R) backwards.
  let downCount = 0;
  let newestSeen = -1;
  const sendDown = channel(clock, random, options, (bytes) => {
    if (!checkCrc16(bytes, 0, bytes.length)) return; // the TM frame FECF
    const count = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
    const clcw = decodeClcw(bytes, 4);
    if (!clcw.ok || count <= newestSeen) return;
    newestSeen = count;
    fop.receiveClcw({ ...clcw.value, nr: clcw.value.reportValue });
  });
  const fop = new Fop1(clock.scheduler, (frame: FopFrame) =>
    sendUp(encodeTcFrame({ ...frame, scid: 0x2a, vcid: 0 } as Parameters<typeof encodeTcFrame>[0])),
  );
  sendUp = channel(clock, random, options, (bytes) => {
    const decoded = decodeTcFrame(bytes, { scid: 0x2a });
    if (!decoded.ok) {
      rejectedFrames.fecf++;
      return;
    }
    const verdict = farm.receive(decoded.value);
    if (!verdict.accepted) rejectedFrames.farm++;
    else if (decoded.value.type === 'AD') {
      const view = decoded.value.data;
      delivered.push(((view[0] as number) << 8) | (view[1] as number));
    }
  });
  // The CLCW goes down in every TM frame: here, ten times a second.
  const clcwTimer = clock.scheduler.schedule(function () {
    const s = farm.status;
    const message = new Uint8Array(10);
    new DataView(message.buffer).setUint32(0, downCount++);
    message.set(
      encodeClcw({
        vcid: 0,
        lockout: s.lockout,
        wait: s.wait,
        retransmit: s.retransmit,
        farmBCounter: s.farmBCounter,
        reportValue: s.vr,
      }),
      4,
    );
    writeCrc16(message, 0, 8);
    sendDown(message);
    this.schedule(undefined, 100);
  }, 100);
  return { clock, farm, fop, delivered, rejectedFrames, stop: () => clcwTimer.unsubscribe() };
}

describe('COP-1 over a lossy link', () => {
  it.each([42, 7, 2024, 99, 123456])(
    'delivers 1,000 commands exactly once and in order through 20 percent loss, bit errors, reordering and duplicates (seed %i)',
    async (seed) => {
      const link = copLink(seed, {
        loss: 0.2,
        bitErrorRate: 2e-4,
        reorder: 0.1,
        duplicate: 0.05,
        latencyMs: 20,
      });
      const alerts: FopAlert[] = [];
      link.fop.alerts$.subscribe((a) => alerts.push(a));
      link.fop.initiate();
      const acknowledged: number[] = [];
      const all = Array.from({ length: 1000 }, (_, i) =>
        link.fop.transmitAd(Uint8Array.of(i >> 8, i & 0xff, 0xaa)).then((ns) => acknowledged.push(ns)),
      );
      for (let t = 0; t < 50_000 && acknowledged.length < 1000; t++) {
        link.clock.advanceBy(100);
        await Promise.resolve();
      }
      link.stop();
      expect({
        acknowledged: acknowledged.length,
        fop: link.fop.status,
        farm: link.farm.status,
        alerts,
      }).toMatchObject({
        acknowledged: 1000,
        alerts: [],
      });
      await Promise.all(all);
      expect(link.delivered).toEqual(Array.from({ length: 1000 }, (_, i) => i));
      expect(acknowledged).toHaveLength(1000);
      // The link really was impaired: frames were lost, corrupted (caught by the FECF) and retransmitted.
      expect(link.rejectedFrames.fecf).toBeGreaterThan(0);
      expect(link.rejectedFrames.farm).toBeGreaterThan(0);
      expect(link.fop.stats.retransmitted).toBeGreaterThan(100);
    },
  );

  it('raises a limit alert and gives the queue up when the link is dead', async () => {
    const link = copLink(7, { loss: 1, bitErrorRate: 0, reorder: 0, duplicate: 0, latencyMs: 10 });
    const alerts: FopAlert[] = [];
    link.fop.alerts$.subscribe((a) => alerts.push(a));
    link.fop.initiate();
    const outcomes = Array.from({ length: 3 }, () =>
      link.fop.transmitAd(Uint8Array.of(0, 0)).then(
        () => 'acknowledged',
        (e: Error) => e.message,
      ),
    );
    link.clock.advanceBy(60_000);
    link.stop();
    expect(await Promise.all(outcomes)).toEqual([
      'COP-1 alert (limit): sent 10 times without acknowledgement',
      'COP-1 alert (limit): sent 10 times without acknowledgement',
      'COP-1 alert (limit): sent 10 times without acknowledgement',
    ]);
    expect(alerts).toEqual([{ reason: 'limit', detail: 'sent 10 times without acknowledgement', lost: 3 }]);
    expect(link.fop.status.state).toBe('initial');
  });

  it('reports lockout, and recovers with Unlock', async () => {
    const link = copLink(3, { loss: 0, bitErrorRate: 0, reorder: 0, duplicate: 0, latencyMs: 5 });
    const alerts: string[] = [];
    link.fop.alerts$.subscribe((a) => alerts.push(a.reason));
    // The ground believes V(S) is 100 while FARM-1 expects 0: its first frame locks FARM-1 out.
    link.fop.initiate(100);
    const lost = link.fop.transmitAd(Uint8Array.of(0, 1)).catch((e: Error) => e.message);
    link.clock.advanceBy(500);
    expect(await lost).toMatch(/lockout/);
    expect(alerts).toEqual(['lockout']);
    const unlocked = link.fop.initiateWithUnlock();
    link.clock.advanceBy(500);
    await unlocked;
    expect(link.fop.status).toMatchObject({ state: 'active', vs: 0 });
    const ok = link.fop.transmitAd(Uint8Array.of(0, 2));
    link.clock.advanceBy(500);
    expect(await ok).toBe(0);
    expect(link.delivered).toEqual([2]);
  });

  it('resynchronises both ends with Set V(R)', async () => {
    const link = copLink(5, { loss: 0.3, bitErrorRate: 0, reorder: 0, duplicate: 0, latencyMs: 5 });
    const done = link.fop.initiateWithSetVr(77);
    link.clock.advanceBy(10_000);
    await done;
    expect(link.farm.status.vr).toBe(77);
    const sent = link.fop.transmitAd(Uint8Array.of(0, 9));
    link.clock.advanceBy(10_000);
    expect(await sent).toBe(77);
  });

  it('refuses AD requests before the service is initiated', async () => {
    const link = copLink(1, { loss: 0, bitErrorRate: 0, reorder: 0, duplicate: 0, latencyMs: 5 });
    await expect(link.fop.transmitAd(Uint8Array.of(1))).rejects.toThrow(/not initiated/);
    link.stop();
  });
});
