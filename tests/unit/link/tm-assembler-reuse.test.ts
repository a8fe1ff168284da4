import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unixMsToCuc } from '../../../src/core/time.js';
import { encodeTmPacket } from '../../../src/link/pus.js';
import { TmFrameAssembler } from '../../../src/link/tm-frame.js';

describe('TmFrameAssembler with reused frame buffers', () => {
  it('produces the same frames as with new arrays, when each call copies its frames at once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), fc.boolean()), { minLength: 1, maxLength: 60 }),
        (steps) => {
          const options = {
            frameLength: 256,
            scid: 0x2a,
            vcid: 0,
            clcw: () => ({ vcid: 0, reportValue: 3 }),
          };
          const fresh = new TmFrameAssembler(options);
          const reused = new TmFrameAssembler({ ...options, reuseFrames: true });
          const a: string[] = [];
          const b: string[] = [];
          steps.forEach(([size, flush], i) => {
            const packet = encodeTmPacket({
              apid: 0x10,
              sequenceCount: i,
              service: 3,
              subtype: 25,
              time: unixMsToCuc(i),
              sourceData: new Uint8Array(size).fill(i),
            });
            for (const f of fresh.push(packet)) a.push(Buffer.from(f).toString('hex'));
            for (const f of reused.push(packet)) b.push(Buffer.from(f).toString('hex'));
            if (flush) {
              for (const f of fresh.flush()) a.push(Buffer.from(f).toString('hex'));
              for (const f of reused.flush()) b.push(Buffer.from(f).toString('hex'));
            }
          });
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 200 },
    );
  });
});
