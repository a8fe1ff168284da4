import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  RANDOMIZER_PERIOD,
  TC_RANDOMIZER_SEQUENCE,
  TM_RANDOMIZER_SEQUENCE,
  tcRandomize,
  tmRandomize,
  xorSequence,
} from '../../../src/link/randomizer.js';
import { fromHex, toHex } from './support.js';

/** The first `n` octets of `data` as the standards print them: groups of 4 bits. */
function nibbles(data: Uint8Array, n: number): string {
  return Array.from(data.subarray(0, n), (b) => {
    const bits = b.toString(2).padStart(8, '0');
    return `${bits.slice(0, 4)} ${bits.slice(4)}`;
  }).join(' ');
}

/**
 * The shift register drawn in the standards, one bit per step: 8 cells preset to ones, the output is cell 0, the
 * cells named by `taps` (the polynomial's terms below x^8) are XORed into the new cell 7 as the register shifts.
 */
function registerBits(taps: readonly number[], count: number): number[] {
  let register = 0xff;
  const bits: number[] = [];
  for (let i = 0; i < count; i++) {
    bits.push(register & 1);
    const feedback = taps.reduce((x, k) => x ^ ((register >> k) & 1), 0);
    register = (register >> 1) | (feedback << 7);
  }
  return bits;
}

describe('TM randomizer (CCSDS 131.0-B)', () => {
  it('starts with the 40 bits the standard prints', () => {
    // CCSDS 131.0-B-3/-4 section 10.4: 1111 1111 0100 1000 0000 1110 1100 0000 1001 1010 ...
    expect(nibbles(TM_RANDOMIZER_SEQUENCE, 5)).toBe('1111 1111 0100 1000 0000 1110 1100 0000 1001 1010');
    expect(toHex(TM_RANDOMIZER_SEQUENCE.subarray(0, 8))).toBe('ff 48 0e c0 9a 0d 70 bc');
  });

  it('matches the published octet table further on', () => {
    // As tabulated by other implementations (libsuo, YAMCS): the first 24 octets.
    expect(toHex(TM_RANDOMIZER_SEQUENCE.subarray(0, 24))).toBe(
      toHex(fromHex('ff480ec09a0d70bc8e2c93ada7b746ce5a977dcc32a2bf3e')),
    );
  });

  it('follows h(x) = x^8 + x^7 + x^5 + x^3 + 1 for all 255 octets', () => {
    const bits = registerBits([0, 3, 5, 7], RANDOMIZER_PERIOD * 8);
    const octets = new Uint8Array(RANDOMIZER_PERIOD);
    for (let i = 0; i < bits.length; i++) octets[i >> 3]! |= bits[i]! << (7 - (i & 7));
    expect(TM_RANDOMIZER_SEQUENCE).toEqual(octets);
  });
});

describe('TC randomizer (CCSDS 231.0-B)', () => {
  it('starts with the 40 bits the standard prints', () => {
    // CCSDS 231.0-B-3/-4 section 6: 1111 1111 0011 1001 1001 1110 0101 1010 0110 1000 ...
    expect(nibbles(TC_RANDOMIZER_SEQUENCE, 5)).toBe('1111 1111 0011 1001 1001 1110 0101 1010 0110 1000');
    expect(toHex(TC_RANDOMIZER_SEQUENCE.subarray(0, 8))).toBe('ff 39 9e 5a 68 e9 06 f5');
  });

  it('matches the published octet table further on', () => {
    expect(toHex(TC_RANDOMIZER_SEQUENCE.subarray(0, 32))).toBe(
      toHex(fromHex('ff399e5a68e906f56c892fa1315e08c052a8bbae4ec2c7ed66dc38d4f886503d')),
    );
  });

  it('follows h(x) = x^8 + x^6 + x^4 + x^3 + x^2 + x + 1 for all 255 octets', () => {
    const bits = registerBits([0, 1, 2, 3, 4, 6], RANDOMIZER_PERIOD * 8);
    const octets = new Uint8Array(RANDOMIZER_PERIOD);
    for (let i = 0; i < bits.length; i++) octets[i >> 3]! |= bits[i]! << (7 - (i & 7));
    expect(TC_RANDOMIZER_SEQUENCE).toEqual(octets);
  });
});

describe('randomizing', () => {
  it('repeats the sequence every 255 bits, and so every 255 octets', () => {
    for (const table of [TM_RANDOMIZER_SEQUENCE, TC_RANDOMIZER_SEQUENCE]) {
      const bits = Array.from({ length: 255 * 8 }, (_, i) => (table[i >> 3]! >> (7 - (i & 7))) & 1);
      for (let i = 0; i + 255 < bits.length; i++) expect(bits[i + 255]).toBe(bits[i]);
      // A maximal-length sequence: the period is no shorter.
      for (const p of [3, 5, 15, 17, 51, 85]) expect(bits.slice(p, p + 255)).not.toEqual(bits.slice(0, 255));
    }
  });

  it('XORs zeros into the sequence itself, wrapping after 255 octets', () => {
    const data = new Uint8Array(600);
    tmRandomize(data);
    for (let i = 0; i < data.length; i++) expect(data[i]).toBe(TM_RANDOMIZER_SEQUENCE[i % 255]);
    const tc = new Uint8Array(300);
    tcRandomize(tc);
    for (let i = 0; i < tc.length; i++) expect(tc[i]).toBe(TC_RANDOMIZER_SEQUENCE[i % 255]);
  });

  it('works in place over a range only, the sequence starting at its first octet', () => {
    const data = new Uint8Array(10).fill(0xaa);
    tmRandomize(data, 4, 7);
    expect(toHex(data)).toBe('aa aa aa aa 55 e2 a4 aa aa aa');
  });

  it('is its own inverse, and a range split in pieces with phases equals the whole', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), fc.nat(), (original, cutSeed) => {
        const data = original.slice();
        tcRandomize(data);
        tcRandomize(data);
        expect(data).toEqual(original);
        const whole = original.slice();
        tmRandomize(whole);
        const pieces = original.slice();
        const cut = original.length === 0 ? 0 : cutSeed % original.length;
        xorSequence(TM_RANDOMIZER_SEQUENCE, pieces, 0, cut);
        xorSequence(TM_RANDOMIZER_SEQUENCE, pieces, cut, pieces.length, cut);
        expect(pieces).toEqual(whole);
      }),
    );
  });
});
