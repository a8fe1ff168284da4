import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClcwInit } from '../../../src/link/clcw.js';
import { encodeSpacePacket, spacePacketLength } from '../../../src/link/space-packet.js';
import {
  decodeTmFrame,
  encodeIdleTmFrame,
  encodeTmFrame,
  FHP_IDLE,
  FHP_NO_PACKET,
  stampTmFrame,
  type TmFrame,
  TmFrameAssembler,
  TmFrameLength,
  TmPacketExtractor,
  tmDataFieldLength,
} from '../../../src/link/tm-frame.js';
import {
  clcwInit,
  concat,
  fixCrc,
  fromHex,
  mutate,
  mutations,
  referenceCrc16,
  toHex,
  u8,
} from './support.js';

const CLCW: ClcwInit = { vcid: 0, reportValue: 3 };

const frameLength = fc.oneof(
  fc.constant(TmFrameLength.radio),
  fc.constant(TmFrameLength.serial),
  fc.integer({ min: 19, max: 2048 }),
);

const tmFrameInit = frameLength.chain((length) =>
  fc.record({
    scid: fc.integer({ min: 0, max: 0x3ff }),
    vcid: fc.integer({ min: 0, max: 7 }),
    mcFrameCount: u8,
    vcFrameCount: u8,
    firstHeaderPointer: fc.oneof(
      fc.constant(FHP_NO_PACKET),
      fc.constant(FHP_IDLE),
      fc.integer({ min: 0, max: tmDataFieldLength(length) - 1 }),
    ),
    data: fc.uint8Array({ minLength: tmDataFieldLength(length), maxLength: tmDataFieldLength(length) }),
    clcw: clcwInit,
  }),
);

/** A TM space packet (never idle) of 7 to `max` octets, its sequence count `n`. */
function packetOf(n: number, length: number, fill: number): Uint8Array {
  return encodeSpacePacket({
    type: 0,
    secondaryHeader: true,
    apid: 0x010 + (n % 0x700),
    sequenceCount: n & 0x3fff,
    data: new Uint8Array(length - 6).fill(fill),
  });
}

const packetSizes = fc.array(fc.tuple(fc.integer({ min: 7, max: 1500 }), u8), { maxLength: 30 });

describe('TM transfer frames', () => {
  it('lays out the header as PROTOCOL.md says: SCID 0x2A, VC 0, OCF flag, FHP 0', () => {
    const frame = encodeTmFrame({
      scid: 0x2a,
      vcid: 0,
      mcFrameCount: 0x11,
      vcFrameCount: 0x22,
      firstHeaderPointer: 0,
      data: new Uint8Array(tmDataFieldLength(256)),
      clcw: CLCW,
    });
    expect(frame.length).toBe(256);
    expect(toHex(frame.subarray(0, 6))).toBe('02 a1 11 22 18 00');
    expect(toHex(frame.subarray(250, 254))).toBe('01 00 00 03');
    expect((frame[254]! << 8) | frame[255]!).toBe(referenceCrc16(frame.subarray(0, 254)));
  });

  it('puts VCID in 3 bits and FHP in 11', () => {
    const frame = encodeTmFrame({
      scid: 0x3ff,
      vcid: 7,
      mcFrameCount: 0,
      vcFrameCount: 0,
      firstHeaderPointer: FHP_NO_PACKET,
      data: new Uint8Array(1103),
      clcw: CLCW,
    });
    expect(frame.length).toBe(TmFrameLength.radio);
    expect(toHex(frame.subarray(0, 6))).toBe('3f ff 00 00 1f ff');
  });

  it('makes idle frames with FHP 0x7FE on VC 7', () => {
    const frame = encodeIdleTmFrame({
      frameLength: 256,
      scid: 0x2a,
      mcFrameCount: 1,
      vcFrameCount: 2,
      clcw: CLCW,
    });
    expect(toHex(frame.subarray(0, 7))).toBe('02 af 01 02 1f fe 55');
    const decoded = decodeTmFrame(frame, { frameLength: 256, scid: 0x2a });
    expect(decoded.ok && decoded.value.firstHeaderPointer).toBe(FHP_IDLE);
    expect(decoded.ok && decoded.value.vcid).toBe(7);
  });

  it('round-trips every frame', () => {
    fc.assert(
      fc.property(tmFrameInit, (init) => {
        const bytes = encodeTmFrame(init);
        expect(bytes.length).toBe(init.data.length + 12);
        expect(decodeTmFrame(bytes, { frameLength: bytes.length })).toEqual({
          ok: true,
          value: init,
          length: bytes.length,
        });
      }),
    );
  });

  it('restamps the master channel count, OCF and FECF in place', () => {
    const frame = encodeTmFrame({
      scid: 1,
      vcid: 1,
      mcFrameCount: 0,
      vcFrameCount: 9,
      firstHeaderPointer: 0,
      data: new Uint8Array(244).fill(7),
      clcw: CLCW,
    });
    stampTmFrame(frame, 200, { vcid: 0, lockout: true, reportValue: 77 });
    const decoded = decodeTmFrame(frame);
    expect(decoded.ok && decoded.value.mcFrameCount).toBe(200);
    expect(decoded.ok && decoded.value.clcw.lockout).toBe(true);
    expect(decoded.ok && decoded.value.clcw.reportValue).toBe(77);
    expect(decoded.ok && decoded.value.vcFrameCount).toBe(9);
  });

  it('rejects with a reason', () => {
    const good = encodeTmFrame({
      scid: 0x2a,
      vcid: 0,
      mcFrameCount: 0,
      vcFrameCount: 0,
      firstHeaderPointer: 0,
      data: new Uint8Array(244),
      clcw: CLCW,
    });
    const edit = (index: number, value: number) => {
      const bytes = good.slice();
      bytes[index] = value;
      return fixCrc(bytes);
    };
    expect(decodeTmFrame(good.subarray(0, 255), { frameLength: 256 })).toMatchObject({ reason: 'truncated' });
    expect(decodeTmFrame(good, { frameLength: 255 })).toMatchObject({ reason: 'bad-length' });
    expect(decodeTmFrame(good.subarray(0, 18))).toMatchObject({ reason: 'bad-length' });
    expect(decodeTmFrame(mutate(good, [[100, 1]]))).toMatchObject({ reason: 'bad-crc' });
    expect(decodeTmFrame(edit(0, 0x42))).toMatchObject({ reason: 'bad-version' });
    expect(decodeTmFrame(edit(1, 0xa0))).toMatchObject({ reason: 'bad-ocf' });
    expect(decodeTmFrame(edit(4, 0x98))).toMatchObject({ reason: 'bad-data-field-status' });
    expect(decodeTmFrame(edit(4, 0x10))).toMatchObject({ reason: 'bad-data-field-status' });
    expect(decodeTmFrame(edit(5, 244))).toMatchObject({ reason: 'bad-first-header-pointer' });
    expect(decodeTmFrame(edit(5, 243))).toMatchObject({ ok: true });
    expect(decodeTmFrame(good, { scid: 0x2b })).toMatchObject({ reason: 'bad-scid' });
    expect(decodeTmFrame(edit(250, 0x81))).toMatchObject({ reason: 'bad-ocf' });
  });

  it('never throws on random or mutated bytes, and what it accepts re-encodes to the same octets', () => {
    const check = (bytes: Uint8Array) => {
      const decoded = decodeTmFrame(bytes);
      if (decoded.ok) expect(encodeTmFrame(decoded.value)).toEqual(bytes);
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), check));
    fc.assert(
      fc.property(tmFrameInit, mutations, fc.boolean(), (init, edits, crc) => {
        const bytes = mutate(encodeTmFrame(init), edits);
        check(crc ? fixCrc(bytes) : bytes);
      }),
    );
  });

  it('refuses to encode bad lengths and fields', () => {
    const base = { scid: 0, vcid: 0, mcFrameCount: 0, vcFrameCount: 0, firstHeaderPointer: 0, clcw: CLCW };
    expect(() => encodeTmFrame({ ...base, data: new Uint8Array(6) })).toThrow(RangeError);
    expect(() => encodeTmFrame({ ...base, data: new Uint8Array(2037) })).toThrow(RangeError);
    expect(() => encodeTmFrame({ ...base, data: new Uint8Array(10), firstHeaderPointer: 10 })).toThrow(
      RangeError,
    );
    expect(() => encodeTmFrame({ ...base, data: new Uint8Array(10), vcid: 8 })).toThrow(RangeError);
  });
});

/** Frames of the assembler, each checked by the decoder. */
function decodeFrames(frames: readonly Uint8Array[], length: number): TmFrame[] {
  return frames.map((f) => {
    const decoded = decodeTmFrame(f, { frameLength: length, scid: 0x2a });
    if (!decoded.ok) throw new Error(`assembler made a bad frame: ${decoded.detail}`);
    return decoded.value;
  });
}

/** Packet boundaries [start, end) in the concatenated data fields, parsed back to back from 0. */
function boundaries(frames: readonly TmFrame[]): Array<[number, number]> {
  const stream = concat(frames.map((f) => f.data));
  const out: Array<[number, number]> = [];
  let at = 0;
  while (at + 6 <= stream.length) {
    const length = spacePacketLength(stream, at);
    out.push([at, at + length]);
    at += length;
  }
  return out;
}

const options = (frameLength: number) => ({ frameLength, scid: 0x2a, vcid: 0, clcw: () => CLCW });

describe('TM frame assembler', () => {
  it('packs packets back to back, spanning frames, with first header pointers', () => {
    const assembler = new TmFrameAssembler(options(256)); // data field 244
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) assembler.push(packetOf(i, 100, i), frames);
    expect(frames.length).toBe(1);
    expect(assembler.pendingOctets).toBe(56);
    assembler.push(packetOf(3, 300, 3), frames); // starts at 56 of frame 1, spans into frame 2
    assembler.flush(frames);
    const decoded = decodeFrames(frames, 256);
    expect(decoded.map((f) => f.firstHeaderPointer)).toEqual([0, 56, 112]);
    expect(decoded.map((f) => f.vcFrameCount)).toEqual([0, 1, 2]);
    expect(decoded.map((f) => f.mcFrameCount)).toEqual([0, 1, 2]);
    // Frame 2: 112 octets of the 300-octet packet, then an idle packet filling the rest.
    expect(toHex(decoded[2]!.data.subarray(112, 118))).toBe('07 ff c0 00 00 7d');
    expect(assembler.pendingOctets).toBe(0);
  });

  it('marks a frame in which no packet starts with FHP 0x7FF', () => {
    const assembler = new TmFrameAssembler(options(256));
    const frames = assembler.push(packetOf(0, 1000, 0));
    assembler.flush(frames);
    expect(decodeFrames(frames, 256).map((f) => f.firstHeaderPointer)).toEqual([
      0,
      FHP_NO_PACKET,
      FHP_NO_PACKET,
      FHP_NO_PACKET,
      24,
    ]);
  });

  it('spans the idle packet into one more frame when fewer than 7 octets are left', () => {
    const assembler = new TmFrameAssembler(options(256));
    const frames = assembler.push(packetOf(0, 240, 0));
    expect(frames).toEqual([]);
    assembler.flush(frames);
    const decoded = decodeFrames(frames, 256);
    expect(decoded.map((f) => f.firstHeaderPointer)).toEqual([0, FHP_NO_PACKET]);
    expect(boundaries(decoded)).toEqual([
      [0, 240],
      [240, 488],
    ]);
    const extractor = new TmPacketExtractor();
    expect(decoded.flatMap((f) => extractor.push(f)).map(toHex)).toEqual([toHex(packetOf(0, 240, 0))]);
    expect(extractor.stats.idlePackets).toBe(1);
  });

  it('does nothing on flush with no partial frame', () => {
    const assembler = new TmFrameAssembler(options(256));
    expect(assembler.flush()).toEqual([]);
    expect(assembler.push(packetOf(0, 244, 0)).length).toBe(1);
    expect(assembler.flush()).toEqual([]);
  });

  it('takes master channel counts and the CLCW from outside, and counts VC frames modulo 256', () => {
    let mc = 250;
    let nr = 0;
    const assembler = new TmFrameAssembler({
      frameLength: 256,
      scid: 0x2a,
      vcid: 1,
      firstVcFrameCount: 254,
      mcFrameCount: () => {
        const value = mc;
        mc = (mc + 3) & 0xff;
        return value;
      },
      clcw: () => ({ vcid: 0, reportValue: nr++ }),
    });
    const frames = decodeFrames(assembler.push(packetOf(0, 244 * 4, 0)), 256);
    expect(frames.map((f) => f.vcFrameCount)).toEqual([254, 255, 0, 1]);
    expect(frames.map((f) => f.mcFrameCount)).toEqual([250, 253, 0, 3]);
    expect(frames.map((f) => f.clcw.reportValue)).toEqual([0, 1, 2, 3]);
    expect(frames.every((f) => f.vcid === 1)).toBe(true);
    expect(assembler.nextVcFrameCount).toBe(2);
  });

  it('refuses what is not one space packet, and bad options', () => {
    const assembler = new TmFrameAssembler(options(256));
    expect(() => assembler.push(fromHex('08 10 c0 00 00 05 00'))).toThrow(RangeError);
    expect(() => assembler.push(fromHex('08 10'))).toThrow(RangeError);
    expect(() => new TmFrameAssembler(options(18))).toThrow(RangeError);
    expect(() => new TmFrameAssembler({ ...options(256), vcid: 8 })).toThrow(RangeError);
  });

  it('round-trips any packet stream through frames and the extractor, whatever the flushes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(TmFrameLength.serial, TmFrameLength.radio, 19, 40),
        packetSizes,
        fc.array(fc.boolean(), { maxLength: 30 }),
        (length, sizes, flushes) => {
          const assembler = new TmFrameAssembler(options(length));
          const packets = sizes.map(([size, fill], i) => packetOf(i, size, fill));
          const frames: Uint8Array[] = [];
          packets.forEach((p, i) => {
            assembler.push(p, frames);
            if (flushes[i]) assembler.flush(frames);
          });
          assembler.flush(frames);
          const decoded = decodeFrames(frames, length);
          decoded.forEach((f, i) => {
            expect(f.vcFrameCount).toBe(i & 0xff);
          });
          // Every first header pointer is where a packet starts, and 0x7FF exactly when none does.
          const starts = boundaries(decoded).map(([s]) => s);
          const dfl = tmDataFieldLength(length);
          decoded.forEach((f, i) => {
            const first = starts.find((s) => s >= i * dfl && s < (i + 1) * dfl);
            expect(f.firstHeaderPointer).toBe(first === undefined ? FHP_NO_PACKET : first - i * dfl);
          });
          const extractor = new TmPacketExtractor();
          const out: Uint8Array[] = [];
          for (const f of decoded) extractor.push(f, out);
          expect(out.map(toHex)).toEqual(packets.map(toHex));
          expect(extractor.stats).toMatchObject({
            gaps: 0,
            fhpMismatches: 0,
            badHeaders: 0,
            discardedOctets: 0,
          });
        },
      ),
    );
  });
});

describe('TM packet extractor', () => {
  it('after lost frames, delivers exactly the packets wholly inside each run of frames from its first FHP on', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(TmFrameLength.serial, 40),
        packetSizes,
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 250, maxLength: 250 }),
        (length, sizes, drops) => {
          const assembler = new TmFrameAssembler(options(length));
          const frames: Uint8Array[] = [];
          sizes.forEach(([size, fill], i) => {
            assembler.push(packetOf(i, Math.min(size, 600), fill), frames);
          });
          assembler.flush(frames);
          const all = decodeFrames(frames.slice(0, 250), length);
          const dfl = tmDataFieldLength(length);
          const stream = concat(all.map((f) => f.data));
          const kept = all.map((_, i) => drops[i] !== 0);

          // Expected: per run of kept frames, packets that start at or after the run's first FHP and end in the run.
          const expected: string[] = [];
          let runs = 0;
          for (let i = 0; i < all.length; ) {
            if (!kept[i]) {
              i++;
              continue;
            }
            let j = i;
            while (j < all.length && kept[j]) j++;
            runs++;
            let k = i;
            while (k < j && all[k]!.firstHeaderPointer === FHP_NO_PACKET) k++;
            if (k < j) {
              for (const [s, e] of boundaries(all)) {
                if (s >= k * dfl + all[k]!.firstHeaderPointer && e <= j * dfl)
                  expected.push(toHex(stream.subarray(s, e)));
              }
            }
            i = j;
          }

          const extractor = new TmPacketExtractor({ keepIdle: true });
          const out: Uint8Array[] = [];
          all.forEach((f, i) => {
            if (kept[i]) extractor.push(f, out);
          });
          expect(out.map(toHex)).toEqual(expected);
          // The first run is no gap: the extractor has no count to compare with yet.
          expect(extractor.stats.gaps).toBe(Math.max(0, runs - 1));
          expect(extractor.stats.fhpMismatches).toBe(0);
        },
      ),
    );
  });

  it('counts the frames a gap lost, modulo 256', () => {
    const extractor = new TmPacketExtractor();
    const frame = (vcFrameCount: number) => ({
      vcFrameCount,
      firstHeaderPointer: FHP_NO_PACKET,
      data: new Uint8Array(10),
    });
    extractor.push(frame(250));
    extractor.push(frame(251));
    extractor.push(frame(3));
    expect(extractor.stats).toMatchObject({ gaps: 1, lostFrames: 7, frames: 3, discardedOctets: 30 });
  });

  it('drops a packet whose continuation disagrees with the first header pointer, and resynchronises on it', () => {
    const packet = packetOf(0, 20, 1);
    const next = packetOf(1, 8, 2);
    const d0 = new Uint8Array(16);
    d0.set(packet.subarray(0, 16));
    // Frame 1 says a packet starts at 2, but 4 octets of the first remain.
    const d1 = new Uint8Array(16);
    d1.set(packet.subarray(16, 18));
    d1.set(next, 2);
    d1.set(packetOf(2, 6 + 1, 3).subarray(0, 6), 10);
    const extractor = new TmPacketExtractor();
    const out = [
      ...extractor.push({ vcFrameCount: 0, firstHeaderPointer: 0, data: d0 }),
      ...extractor.push({ vcFrameCount: 1, firstHeaderPointer: 2, data: d1 }),
    ];
    expect(out.map(toHex)).toEqual([toHex(next)]);
    expect(extractor.stats).toMatchObject({ fhpMismatches: 1, partialsDropped: 1 });
  });

  it('keeps a packet that ends before the first header pointer, skipping the octets between', () => {
    const a = packetOf(0, 8, 1);
    const b = packetOf(1, 8, 2);
    const d1 = new Uint8Array(12);
    d1.set(a.subarray(6), 0);
    d1.set(b, 4); // 2 octets of junk between the end of a and where the frame says b starts
    const extractor = new TmPacketExtractor();
    const out = [
      ...extractor.push({ vcFrameCount: 0, firstHeaderPointer: 0, data: a.subarray(0, 6) }),
      ...extractor.push({ vcFrameCount: 1, firstHeaderPointer: 4, data: d1 }),
    ];
    expect(out.map(toHex)).toEqual([toHex(a), toHex(b)]);
    expect(extractor.stats).toMatchObject({ fhpMismatches: 1, discardedOctets: 2 });
  });

  it('loses sync when a packet ends inside a frame that says none starts there', () => {
    const a = packetOf(0, 8, 1);
    const d1 = new Uint8Array(10);
    d1.set(a.subarray(6), 0);
    const extractor = new TmPacketExtractor();
    const out = [
      ...extractor.push({ vcFrameCount: 0, firstHeaderPointer: 0, data: a.subarray(0, 6) }),
      ...extractor.push({ vcFrameCount: 1, firstHeaderPointer: FHP_NO_PACKET, data: d1 }),
      // Unsynchronised: a frame with no packet start is skipped whole.
      ...extractor.push({ vcFrameCount: 2, firstHeaderPointer: FHP_NO_PACKET, data: new Uint8Array(10) }),
    ];
    expect(out.map(toHex)).toEqual([toHex(a)]);
    expect(extractor.stats).toMatchObject({ fhpMismatches: 1, discardedOctets: 18 });
  });

  it('skips to the first header pointer when a frame between packets does not start with one', () => {
    const a = packetOf(0, 8, 1);
    const b = packetOf(1, 8, 2);
    const d1 = new Uint8Array(12);
    d1.set(b, 4);
    const extractor = new TmPacketExtractor();
    const out = [
      ...extractor.push({ vcFrameCount: 0, firstHeaderPointer: 0, data: a }),
      ...extractor.push({ vcFrameCount: 1, firstHeaderPointer: 4, data: d1 }),
    ];
    expect(out.map(toHex)).toEqual([toHex(a), toHex(b)]);
    expect(extractor.stats).toMatchObject({ fhpMismatches: 1, discardedOctets: 4 });
  });

  it('resynchronises after a bad packet header', () => {
    const good = packetOf(5, 10, 9);
    const d0 = new Uint8Array(20).fill(0xff); // version 111: not a packet
    const d1 = new Uint8Array(20);
    d1.set(good);
    d1.set(packetOf(6, 10, 8), 10);
    const extractor = new TmPacketExtractor();
    const out = [
      ...extractor.push({ vcFrameCount: 0, firstHeaderPointer: 0, data: d0 }),
      ...extractor.push({ vcFrameCount: 1, firstHeaderPointer: 0, data: d1 }),
    ];
    expect(out.map(toHex)).toEqual([toHex(good), toHex(packetOf(6, 10, 8))]);
    expect(extractor.stats).toMatchObject({ badHeaders: 1, discardedOctets: 20 });
  });

  it('skips idle frames, and drops a partial packet an idle frame interrupts', () => {
    const packet = packetOf(0, 30, 1);
    const extractor = new TmPacketExtractor();
    extractor.push({ vcFrameCount: 0, firstHeaderPointer: 0, data: packet.subarray(0, 20) });
    extractor.push({ vcFrameCount: 1, firstHeaderPointer: FHP_IDLE, data: new Uint8Array(20) });
    const out = extractor.push({
      vcFrameCount: 2,
      firstHeaderPointer: FHP_NO_PACKET,
      data: packet.subarray(10, 30),
    });
    expect(out).toEqual([]);
    expect(extractor.stats).toMatchObject({ idleFrames: 1, partialsDropped: 1 });
  });

  it('rejects a maximum packet length outside 7 to 65542', () => {
    expect(() => new TmPacketExtractor({ maxPacketLength: 6 })).toThrow(RangeError);
    expect(() => new TmPacketExtractor({ maxPacketLength: 65543 })).toThrow(RangeError);
  });

  it('never throws on arbitrary frames', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            vcFrameCount: u8,
            firstHeaderPointer: fc.oneof(
              fc.integer({ min: 0, max: 40 }),
              fc.constantFrom(FHP_IDLE, FHP_NO_PACKET),
            ),
            data: fc.uint8Array({ minLength: 1, maxLength: 40 }),
          }),
          { maxLength: 30 },
        ),
        (frames) => {
          const extractor = new TmPacketExtractor({ maxPacketLength: 200 });
          for (const f of frames) {
            for (const packet of extractor.push(f)) {
              expect(spacePacketLength(packet)).toBe(packet.length);
              expect(packet[0]! >>> 5).toBe(0);
            }
          }
        },
      ),
    );
  });
});
