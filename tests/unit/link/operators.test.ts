import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { unixMsToCuc } from '../../../src/core/time.js';
import {
  decodeWith,
  deframe,
  enframe,
  type RejectionCounts,
  tmPackets,
} from '../../../src/link/operators.js';
import { type LinkProfile, tmFrameLengthOf } from '../../../src/link/profile.js';
import { decodeTcPacket, encodeTcPacket, encodeTmPacket } from '../../../src/link/pus.js';
import { decodeTcFrame, encodeTcFrame } from '../../../src/link/tc-frame.js';
import { decodeTmFrame, TmFrameAssembler } from '../../../src/link/tm-frame.js';

function tmPacketsOf(count: number, size: (i: number) => number) {
  return Array.from({ length: count }, (_, i) =>
    encodeTmPacket({
      apid: 0x10,
      sequenceCount: i,
      service: 3,
      subtype: 25,
      time: unixMsToCuc(Date.UTC(2030, 0, 1) + i),
      sourceData: new Uint8Array(size(i)).fill(i & 0xff),
    }),
  );
}

/** Splits `bytes` at the given cut points, and puts `garbage` before some pieces. */
function chop(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) pieces.push(bytes.subarray(at, p));
    at = Math.max(at, p);
  }
  return pieces;
}

describe('link operators', () => {
  it.each<LinkProfile>(['serial', 'radio'])(
    'downlink %s: packets -> frames -> bytes -> frames -> packets, any split',
    (profile) => {
      fc.assert(
        fc.asyncProperty(
          fc.array(fc.nat(), { maxLength: 40 }),
          fc.integer({ min: 1, max: 60 }),
          async (cuts, count) => {
            const packets = tmPacketsOf(count, (i) => (i * 37) % 300);
            const assembler = new TmFrameAssembler({
              frameLength: tmFrameLengthOf(profile),
              scid: 0x2a,
              vcid: 0,
              clcw: () => ({ vcid: 0, reportValue: 0 }),
            });
            const frames = packets.flatMap((p) => assembler.push(p));
            frames.push(...assembler.flush());
            const onWire = await lastValueFrom(from(frames).pipe(enframe(profile, 'down'), toArray()));
            const stream = Uint8Array.from(onWire.flatMap((b) => [...b]));
            const counts: RejectionCounts = {};
            const received = await lastValueFrom(
              from(chop(stream, cuts)).pipe(
                deframe(profile, 'down', counts),
                decodeWith(
                  'tm-frame',
                  (b) => decodeTmFrame(b, { frameLength: tmFrameLengthOf(profile), scid: 0x2a }),
                  counts,
                ),
                tmPackets(counts),
                toArray(),
              ),
            );
            expect(received.map((r) => Buffer.from(r.packet).toString('hex'))).toEqual(
              packets.map((p) => Buffer.from(p).toString('hex')),
            );
            expect(counts).toEqual({});
          },
        ),
        { numRuns: 25 },
      );
    },
  );

  it.each<LinkProfile>(['serial', 'radio'])(
    'uplink %s: resynchronises after garbage and counts a corrupted frame',
    async (profile) => {
      const frames = Array.from({ length: 5 }, (_, i) =>
        encodeTcFrame({
          type: 'AD',
          scid: 0x2a,
          vcid: 0,
          sequenceNumber: i,
          data: encodeTcPacket({ apid: 0x10, sequenceCount: i, ackFlags: 15, service: 17, subtype: 1 }),
        }),
      );
      const wire = frames.map((f, i) => {
        const framed = enframe(profile, 'up');
        let out: Uint8Array = new Uint8Array(0);
        framed(from([f])).subscribe((b) => {
          out = b;
        });
        if (i === 2) {
          // a bit error the FECF catches (radio: two bits in one codeblock, beyond BCH's correction)
          out = out.slice();
          const at = profile === 'serial' ? 10 : 12;
          out[at] = (out[at] as number) ^ 0x81;
        }
        return out;
      });
      const garbage = Uint8Array.of(0x12, 0xeb, 0x34, 0xc0, 0x77, 0x00, 0x13);
      const stream = [garbage, wire[0], wire[1], garbage, wire[2], wire[3], garbage, wire[4]] as Uint8Array[];
      const counts: RejectionCounts = {};
      const decoded = await lastValueFrom(
        from(stream).pipe(
          deframe(profile, 'up', counts),
          decodeWith(
            'tc-frame',
            (b) => decodeTcFrame(b, { scid: 0x2a, allowTrailing: profile === 'radio' }),
            counts,
          ),
          toArray(),
        ),
      );
      expect(decoded.map((f) => f.sequenceNumber)).toEqual([0, 1, 3, 4]);
      const rejected = Object.values(counts).reduce((a, b) => a + b, 0);
      expect(rejected).toBeGreaterThanOrEqual(1);
      const packet = decoded[0]?.type === 'AD' ? decodeTcPacket(decoded[0].data) : undefined;
      expect(packet?.ok).toBe(true);
    },
  );
});
