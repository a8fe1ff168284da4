import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.js';
import { unixMsToCuc } from '../../../src/core/time.js';
import { CaduSynchronizer } from '../../../src/link/cadu.js';
import { KissDecoder } from '../../../src/link/kiss.js';
import { type LinkProfile, tmFrameLengthOf } from '../../../src/link/profile.js';
import { decodeTmPacket, encodeTmPacket } from '../../../src/link/pus.js';
import { decodeTmFrame, TmPacketExtractor } from '../../../src/link/tm-frame.js';
import { DownlinkScheduler } from '../../../src/services/link/downlink.js';

function rig(profile: LinkProfile, settings: { rate?: number; limit?: number; latency?: number } = {}) {
  const clock = new VirtualClock({ startMs: 0 });
  const written: Array<{ at: number; bytes: Uint8Array }> = [];
  let open = true;
  const scheduler = new DownlinkScheduler(
    profile,
    0x2a,
    () => ({ vcid: 0, reportValue: 0 }),
    clock,
    {
      bandwidthBytesPerS: () => settings.rate ?? 0,
      queueLimit: () => settings.limit ?? 1000,
      latencyMs: (priority) => (priority >= 80 ? 0 : (settings.latency ?? 100)),
    },
    (bytes) => {
      if (!open) return false;
      written.push({ at: clock.now(), bytes: bytes.slice() });
      return true;
    },
  );
  scheduler.setOpen(true);
  let seq = 0;
  const packet = (service: number, priority: number, size = 60) => {
    const bytes = encodeTmPacket({
      apid: 0x10,
      sequenceCount: seq++,
      service,
      subtype: 1,
      time: unixMsToCuc(clock.now()),
      sourceData: new Uint8Array(size),
    });
    scheduler.enqueue({ bytes, vcid: 0, priority, time: clock.now() });
  };
  /** What the ground would decode: frames, then packets (service and sequence count) in arrival order. */
  const decode = () => {
    const frames =
      profile === 'serial'
        ? new KissDecoder().push(Uint8Array.from(written.flatMap((w) => [...w.bytes])))
        : new CaduSynchronizer({ frameLength: tmFrameLengthOf(profile) }).push(
            Uint8Array.from(written.flatMap((w) => [...w.bytes])),
          );
    const decoded = frames.map((f) => decodeTmFrame(f, { frameLength: tmFrameLengthOf(profile) }));
    const extractor = new TmPacketExtractor();
    const packets: string[] = [];
    let idle = 0;
    for (const d of decoded) {
      if (!d.ok) throw new Error(d.detail);
      if (d.value.vcid === 7) {
        idle++;
        continue;
      }
      for (const p of extractor.push(d.value)) {
        const tm = decodeTmPacket(p);
        if (tm.ok) packets.push(`${tm.value.service}:${tm.value.sequenceCount}`);
      }
    }
    return { frames: decoded.length, packets, idle };
  };
  return {
    clock,
    scheduler,
    written,
    packet,
    decode,
    setOpen: (o: boolean) => {
      open = o;
      scheduler.setOpen(o);
    },
  };
}

describe('downlink scheduler', () => {
  it('sends within the bandwidth budget of mission time', () => {
    const r = rig('serial', { rate: 1000 });
    for (let i = 0; i < 200; i++) r.packet(3, 10);
    r.clock.advanceBy(10_000);
    const bytes = r.written.reduce((n, w) => n + w.bytes.length, 0);
    // 10 s at 1000 B/s, plus at most the initial bucket (two framed frames).
    expect(bytes).toBeGreaterThan(9000);
    expect(bytes).toBeLessThanOrEqual(10_000 + 2 * (2 * 256 + 3));
    expect(r.scheduler.stats.queued).toBeGreaterThan(0);
  });

  it('puts verification reports ahead of housekeeping waiting for the link', () => {
    const r = rig('serial', { rate: 500 });
    for (let i = 0; i < 30; i++) r.packet(3, 10); // housekeeping, seq 0..29
    r.packet(1, 100); // verification, seq 30
    r.clock.advanceBy(3000);
    const { packets } = r.decode();
    const verification = packets.indexOf('1:30');
    expect(verification).toBeGreaterThanOrEqual(0);
    // Only the housekeeping already framed when it arrived can be ahead of it.
    expect(verification).toBeLessThan(8);
  });

  it('drops the oldest packets of the lowest priority when the queue is full, and counts them', () => {
    const r = rig('serial', { limit: 5 });
    r.setOpen(false);
    for (let i = 0; i < 4; i++) r.packet(3, 10); // seq 0..3
    r.packet(1, 100); // seq 4
    r.packet(5, 50); // seq 5
    r.packet(1, 100); // seq 6
    expect(r.scheduler.stats.packetsDropped).toBe(2);
    r.setOpen(true);
    r.clock.advanceBy(1000);
    expect(r.decode().packets).toEqual(['1:4', '1:6', '5:5', '3:2', '3:3']);
  });

  it('keeps packets while the transport is down and sends them when it opens', () => {
    const r = rig('serial');
    r.setOpen(false);
    for (let i = 0; i < 10; i++) r.packet(3, 10);
    r.clock.advanceBy(1000);
    expect(r.written).toEqual([]);
    r.setOpen(true);
    r.clock.advanceBy(1000);
    expect(r.decode().packets).toEqual(Array.from({ length: 10 }, (_, i) => `3:${i}`));
  });

  it('completes a partial frame after its latency bound, at once for verification', async () => {
    const r = rig('serial', { latency: 250 });
    r.packet(3, 10);
    r.clock.advanceBy(200);
    expect(r.written).toEqual([]);
    r.clock.advanceBy(100);
    expect(r.written.map((w) => w.at)).toEqual([250]);
    r.packet(1, 100);
    await Promise.resolve();
    expect(r.written.map((w) => w.at)).toEqual([250, 300]);
  });

  it('fills a radio link with idle frames at its bandwidth', () => {
    const r = rig('radio', { rate: 11_190 }); // ten 1119-octet CADUs a second
    r.clock.advanceBy(5000);
    const { frames, idle, packets } = r.decode();
    expect(packets).toEqual([]);
    expect(idle).toBe(frames);
    expect(frames).toBeGreaterThanOrEqual(48);
    expect(frames).toBeLessThanOrEqual(52 + 2);
    r.packet(3, 10);
    r.clock.advanceBy(1000);
    expect(r.decode().packets).toEqual(['3:0']);
  });
});
