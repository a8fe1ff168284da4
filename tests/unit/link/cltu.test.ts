import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BCH_UNCORRECTABLE,
  bchParity,
  CLTU_TAIL_SEQUENCE,
  CltuDecoder,
  type CltuDecoderOptions,
  cltuLength,
  decodeBchCodeblock,
  encodeCltu,
} from '../../../src/link/cltu.js';
import { TC_RANDOMIZER_SEQUENCE } from '../../../src/link/randomizer.js';
import { decodeTcFrame, encodeTcFrame } from '../../../src/link/tc-frame.js';
import { concat, fromHex, tcFrame, toHex } from './support.js';

/**
 * Bit-by-bit long division, independent of the table-driven encoder: the remainder of i(x) x^7 modulo
 * g(x) = x^7 + x^6 + x^2 + 1 over the 56 information bits (first bit = highest power), complemented, then the
 * filler bit 0.
 */
function referenceParity(info: Uint8Array): number {
  const g = [1, 1, 0, 0, 0, 1, 0, 1]; // x^7 .. x^0
  const bits: number[] = [];
  for (const b of info) for (let k = 7; k >= 0; k--) bits.push((b >> k) & 1);
  bits.push(0, 0, 0, 0, 0, 0, 0); // times x^7
  for (let i = 0; i < 56; i++) if (bits[i]) for (let k = 0; k < 8; k++) bits[i + k]! ^= g[k]!;
  let parity = 0;
  for (let k = 56; k < 63; k++) parity = (parity << 1) | (bits[k]! ^ 1);
  return parity << 1;
}

function flip(data: Uint8Array, offset: number, ...bits: number[]): Uint8Array {
  const out = data.slice();
  for (const bit of bits) out[offset + (bit >> 3)]! ^= 0x80 >> (bit & 7);
  return out;
}

function decodeAll(chunks: readonly Uint8Array[], options?: CltuDecoderOptions): [Uint8Array[], CltuDecoder] {
  const decoder = new CltuDecoder(options);
  const frames: Uint8Array[] = [];
  for (const c of chunks) decoder.push(c, frames);
  return [frames, decoder];
}

/** Splits `data` at the given cut points (reduced modulo its length). */
function split(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    out.push(data.subarray(start, p));
    start = p;
  }
  out.push(data.subarray(start));
  return out;
}

const adFrame = (n: number, seed = 1): Uint8Array =>
  encodeTcFrame({
    type: 'AD',
    scid: 0x2a,
    vcid: 0,
    sequenceNumber: seed & 0xff,
    data: Uint8Array.from({ length: n }, (_, i) => (i * 37 + seed) & 0xff),
  });

// Frames and CLTUs from SpacePyLibrary's UnitTest/testData.py, as YAMCS's BchCltuGeneratorTest also uses them:
// non-randomized CLTUs.
const TC_FRAME_02 = fromHex(
  '22 f6 00 23 00 82 00 0f 00 1d ff 00 00 00 00 0f 00 1e ff 00 00 00 00 0f 00 1f ff 00 00 00 00 0f ac 8f 00 68',
);
const CLTU_02 = fromHex(
  'eb 90 22 f6 00 23 00 82 00 24 0f 00 1d ff 00 00 00 34 00 0f 00 1e ff 00 00 10 00 00 0f 00 1f ff 00 d8' +
    '00 00 00 0f ac 8f 00 90 68 55 55 55 55 55 55 06 c5 c5 c5 c5 c5 c5 c5 79',
);

describe('BCH(63,56) codeblocks', () => {
  it('reproduces published parity octets', () => {
    // SpacePyLibrary / YAMCS BchCltuGeneratorTest.testBch: 7 information octets, then the expected 8th.
    for (const hex of ['22f600ff00421a12', '8cc00e010d19065a', '301b000900820054', '10e4c1555555553e']) {
      const block = fromHex(hex);
      expect(bchParity(block).toString(16).padStart(2, '0')).toBe(hex.slice(14));
      expect(referenceParity(block.subarray(0, 7))).toBe(block[7]);
    }
  });

  it('follows g(x) = x^7 + x^6 + x^2 + 1 with complemented parity and a filler bit 0, worked by hand', () => {
    // All zeros: remainder 0, complemented 1111111, filler 0.
    expect(bchParity(new Uint8Array(7))).toBe(0xfe);
    // Only the last information bit: x^7 mod g(x) = x^6 + x^2 + 1 = 1000101, complemented 0111010, then 0.
    expect(bchParity(fromHex('00 00 00 00 00 00 01'))).toBe(0b0111_0100);
    // The bit before it: x^8 = x * x^7 = x^7 + x^3 + x = (x^6 + x^2 + 1) + x^3 + x = 1001111, complemented 0110000.
    expect(bchParity(fromHex('00 00 00 00 00 00 02'))).toBe(0b0110_0000);
  });

  it('agrees with the long division on any information octets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 7, maxLength: 7 }), (info) => {
        expect(bchParity(info)).toBe(referenceParity(info));
      }),
    );
  });

  it('corrects every single bit error and detects every double one', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 7, maxLength: 7 }), (info) => {
        const block = concat([info, Uint8Array.of(bchParity(info))]);
        const out = new Uint8Array(7);
        expect(decodeBchCodeblock(block, 0, out, 0)).toBe(0);
        expect(out).toEqual(info);
        for (let bit = 0; bit < 64; bit++) {
          out.fill(0);
          // Bit 63 is the filler bit, which the decoder does not read.
          expect(decodeBchCodeblock(flip(block, 0, bit), 0, out, 0)).toBe(bit === 63 ? 0 : 1);
          expect(out).toEqual(info);
        }
        for (let a = 0; a < 63; a++)
          for (let b = a + 1; b < 63; b++)
            expect(decodeBchCodeblock(flip(block, 0, a, b), 0, out, 0)).toBe(BCH_UNCORRECTABLE);
      }),
      { numRuns: 5 },
    );
  });

  it('cannot decode the tail sequence, even with a bit error', () => {
    const out = new Uint8Array(7);
    expect(decodeBchCodeblock(CLTU_TAIL_SEQUENCE, 0, out, 0)).toBe(BCH_UNCORRECTABLE);
    for (let bit = 0; bit < 64; bit++)
      expect(decodeBchCodeblock(flip(CLTU_TAIL_SEQUENCE, 0, bit), 0, out, 0)).toBe(BCH_UNCORRECTABLE);
  });
});

describe('CLTU encoding', () => {
  it('reproduces published CLTUs (not randomized)', () => {
    expect(toHex(encodeCltu(TC_FRAME_02, { randomize: false }))).toBe(toHex(CLTU_02));
    const frame01 = fromHex(
      '22f600ff00421a8cc00e010d1906020000010000000001000000ff000000000f0001ff000000000f0002ff000000000f' +
        '0003ff000000000f0004ff000000000f0005ff000000000f0006ff000000000f0007ff000000000f0008ff000000000f' +
        '0009ff000000000f000aff000000000f000bff000000000f000cff000000000f000dff000000000f000eff000000000f' +
        '000fff000000000f0010ff000000000f0011ff000000000f0012ff000000000f0013ff000000000f0014ff000000000f' +
        '0015ff000000000f0016ff000000000f0017ff000000000f0018ff000000000f0019ff000000000f001aff000000000f' +
        '001bff000000000f001cff000000ad1a',
    );
    const cltu01 = encodeCltu(frame01, { randomize: false });
    expect(cltu01.length).toBe(cltuLength(frame01.length));
    // Spot checks against SpacePyLibrary's CLTU_01: the first codeblocks, the padded last one and the tail.
    expect(toHex(cltu01.subarray(0, 26))).toBe(
      toHex(fromHex('eb90 22f600ff00421a12 8cc00e010d19065a 02000001000000 8a')),
    );
    expect(toHex(cltu01.subarray(-16))).toBe(toHex(fromHex('0000ad1a555555ec c5c5c5c5c5c5c579')));
  });

  it('randomizes the frame with the TC sequence before BCH encoding, then pads with 0x55', () => {
    const frame = fromHex('01 02 03 04 05 06 07 08 09');
    const cltu = encodeCltu(frame);
    // 01..07 XOR FF 39 9E 5A 68 E9 06, then 08 09 XOR F5 6C and five octets of fill as they are.
    expect(toHex(cltu.subarray(2, 9))).toBe('fe 3b 9d 5e 6d ef 01');
    expect(toHex(cltu.subarray(10, 17))).toBe('fd 65 55 55 55 55 55');
    expect(cltu[9]).toBe(referenceParity(cltu.subarray(2, 9)));
    expect(cltu[17]).toBe(referenceParity(cltu.subarray(10, 17)));
    expect(cltu.length).toBe(2 + 16 + 8);
    expect(encodeCltu(frame)).toEqual(cltu);
    expect(frame).toEqual(fromHex('01 02 03 04 05 06 07 08 09'));
  });

  it('sizes CLTUs by whole codeblocks and refuses an empty frame', () => {
    expect(cltuLength(7)).toBe(18);
    expect(cltuLength(8)).toBe(26);
    expect(cltuLength(1024)).toBe(2 + 147 * 8 + 8);
    expect(() => encodeCltu(new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('CLTU decoding', () => {
  it('decodes the published CLTU, then randomized round trips of any TC frame in any split', () => {
    const [plain] = decodeAll([CLTU_02], { randomize: false });
    expect(plain).toHaveLength(1);
    expect(toHex(plain[0]!.subarray(0, TC_FRAME_02.length))).toBe(toHex(TC_FRAME_02));
    fc.assert(
      fc.property(
        fc.array(tcFrame, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (frames, cuts) => {
          const bytes = frames.map((f) => encodeTcFrame(f));
          const stream = concat(bytes.map((b) => encodeCltu(b)));
          const [out, decoder] = decodeAll(split(stream, cuts));
          expect(out).toHaveLength(frames.length);
          for (let i = 0; i < frames.length; i++) {
            expect(out[i]!.length).toBe(Math.ceil(bytes[i]!.length / 7) * 7);
            const decoded = decodeTcFrame(out[i]!, { allowTrailing: true });
            expect(decoded).toEqual({ ok: true, value: frames[i], length: bytes[i]!.length });
          }
          expect(decoder.stats).toMatchObject({ starts: frames.length, tails: frames.length, aborted: 0 });
          expect(decoder.stats.skippedOctets).toBe(0);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('delivers the same whether pushed whole or octet by octet', () => {
    const stream = concat([encodeCltu(adFrame(40)), fromHex('55 55 55'), encodeCltu(adFrame(3, 2))]);
    const [whole] = decodeAll([stream]);
    const [octets] = decodeAll(Array.from(stream, (b) => Uint8Array.of(b)));
    expect(octets).toEqual(whole);
    expect(whole).toHaveLength(2);
  });

  it('corrects a single bit error anywhere in any codeblock', () => {
    const frame = adFrame(20);
    const cltu = encodeCltu(frame);
    const blocks = (cltu.length - 10) / 8;
    for (let block = 0; block < blocks; block++) {
      for (let bit = 0; bit < 64; bit++) {
        const [out, decoder] = decodeAll([flip(cltu, 2 + block * 8, bit)]);
        expect(out).toHaveLength(1);
        expect(decodeTcFrame(out[0]!, { allowTrailing: true })).toMatchObject({
          ok: true,
          length: frame.length,
        });
        expect(decoder.stats.correctedCodeblocks).toBe(bit === 63 ? 0 : 1);
      }
    }
  });

  it('ends the CLTU at a codeblock with a double bit error, never passing it on', () => {
    const frame = adFrame(30);
    const cltu = encodeCltu(frame);
    for (let a = 0; a < 63; a += 5) {
      for (let b = a + 1; b < 63; b += 7) {
        const [out, decoder] = decodeAll([flip(cltu, 2 + 8 * 2, a, b)]);
        // The two codeblocks before it are delivered (CCSDS 231.0-B), the frame is then incomplete.
        expect(out).toHaveLength(1);
        expect(out[0]!.length).toBe(14);
        expect(decodeTcFrame(out[0]!, { allowTrailing: true })).toMatchObject({
          ok: false,
          reason: 'truncated',
        });
        expect(decoder.stats).toMatchObject({ aborted: 1, tails: 0 });
        const [dropped] = decodeAll([flip(cltu, 2 + 8 * 2, a, b)], { deliverAborted: false });
        expect(dropped).toHaveLength(0);
      }
    }
  });

  it('skips garbage between CLTUs, false starts included', () => {
    const good = encodeCltu(adFrame(12));
    const codeblock = good.subarray(2, 10);
    // A false start followed by an uncorrectable codeblock, and one cut short by the real CLTU.
    const falseStart = concat([fromHex('eb 90'), flip(codeblock, 0, 3, 40)]);
    const stream = concat([
      fromHex('00 11 eb 22 90'),
      falseStart,
      fromHex('c5 c5 79 eb'),
      good,
      fromHex('12 34'),
      good,
    ]);
    const [out, decoder] = decodeAll([stream]);
    expect(out).toHaveLength(2);
    for (const frame of out)
      expect(decodeTcFrame(frame, { allowTrailing: true })).toMatchObject({ ok: true });
    expect(decoder.stats).toMatchObject({ starts: 3, tails: 2, aborted: 1, empty: 1, frames: 2 });
    expect(decoder.stats.skippedOctets).toBe(5 + 4 + 2);
  });

  it('skips random garbage between CLTUs', () => {
    const noStart = fc.uint8Array({ maxLength: 64 }).map((a) => a.map((b) => (b === 0xeb ? 0 : b)));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(noStart, tcFrame), { minLength: 1, maxLength: 3 }),
        noStart,
        (parts, end) => {
          const stream = concat([...parts.flatMap(([g, f]) => [g, encodeCltu(encodeTcFrame(f))]), end]);
          const [out] = decodeAll([stream]);
          expect(out.map((o) => decodeTcFrame(o, { allowTrailing: true }))).toEqual(
            parts.map(([, f]) => ({ ok: true, value: f, length: encodeTcFrame(f).length })),
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('finds the next CLTU in the codeblock that failed when a tail is lost', () => {
    const first = encodeCltu(adFrame(14, 3));
    const second = encodeCltu(adFrame(9, 4));
    const [out, decoder] = decodeAll([concat([first.subarray(0, first.length - 8), second])]);
    expect(decoder.stats.aborted).toBe(1);
    expect(out).toHaveLength(2);
    expect(decodeTcFrame(out[0]!, { allowTrailing: true })).toMatchObject({ ok: true, length: 22 });
    expect(decodeTcFrame(out[1]!, { allowTrailing: true })).toMatchObject({ ok: true, length: 17 });
  });

  it('drops a CLTU longer than the maximum', () => {
    const [out, decoder] = decodeAll([encodeCltu(adFrame(40)), encodeCltu(adFrame(10))], {
      maxFrameLength: 30,
    });
    expect(out).toHaveLength(1);
    expect(decodeTcFrame(out[0]!, { allowTrailing: true })).toMatchObject({ ok: true, length: 18 });
    expect(decoder.stats.oversize).toBe(1);
    expect(() => new CltuDecoder({ maxFrameLength: 0 })).toThrow(RangeError);
  });

  it('derandomizes the fill too, as the standard says a receiver does', () => {
    const [out] = decodeAll([encodeCltu(fromHex('01 02 03'))]);
    expect(toHex(out[0]!)).toBe(
      toHex(Uint8Array.of(1, 2, 3, ...[3, 4, 5, 6].map((i) => 0x55 ^ TC_RANDOMIZER_SEQUENCE[i]!))),
    );
  });

  it('never throws on random octets, and resets', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
        const decoder = new CltuDecoder();
        for (const c of chunks) for (const frame of decoder.push(c)) expect(frame.length % 7).toBe(0);
      }),
    );
    const decoder = new CltuDecoder();
    decoder.push(encodeCltu(adFrame(30)).subarray(0, 20));
    expect(decoder.inCltu).toBe(true);
    decoder.reset();
    expect(decoder.inCltu).toBe(false);
    expect(decoder.push(encodeCltu(adFrame(5)))).toHaveLength(1);
  });
});
