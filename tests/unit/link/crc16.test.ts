import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CRC16_INIT, checkCrc16, crc16, writeCrc16 } from '../../../src/link/crc16.js';
import { fromHex, referenceCrc16 } from './support.js';

describe('CRC-16/IBM-3740', () => {
  it('has the check value 0x29B1 for ASCII "123456789"', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0x29b1);
  });

  it('is 0xFFFF (the init) over no octets', () => {
    expect(crc16(new Uint8Array(0))).toBe(CRC16_INIT);
  });

  it('reproduces the CRCs of the PROTOCOL.md vectors', () => {
    expect(crc16(fromHex('18 01 c0 16 00 06 2f 11 01 00 00'))).toBe(0xab62);
    expect(crc16(fromHex('30 2a 04 07 00 00'))).toBe(0x20e7);
  });

  it('agrees with a bit-by-bit implementation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        expect(crc16(data)).toBe(referenceCrc16(data));
      }),
    );
  });

  it('covers [start, end) without copies, and continues from an earlier CRC', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (data, a, b) => {
        const start = data.length === 0 ? 0 : a % (data.length + 1);
        const end = start + (data.length === 0 ? 0 : b % (data.length - start + 1));
        expect(crc16(data, start, end)).toBe(referenceCrc16(data.slice(start, end)));
        expect(crc16(data, end, data.length, crc16(data, 0, end))).toBe(referenceCrc16(data));
      }),
    );
  });

  it('clamps indices outside the array', () => {
    const data = fromHex('31 32 33');
    expect(crc16(data, -5, 99)).toBe(crc16(data));
  });

  it('writes the CRC big-endian after the octets and checks it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (body, flip) => {
        const frame = new Uint8Array(body.length + 2);
        frame.set(body);
        const crc = writeCrc16(frame, 0, body.length);
        expect(crc).toBe(referenceCrc16(body));
        expect((frame[body.length]! << 8) | frame[body.length + 1]!).toBe(crc);
        expect(checkCrc16(frame, 0, frame.length)).toBe(true);
        // Any single-bit error is caught.
        const bit = flip % (frame.length * 8);
        frame[bit >>> 3]! ^= 0x80 >>> (bit & 7);
        expect(checkCrc16(frame, 0, frame.length)).toBe(false);
      }),
    );
  });

  it('refuses to check a range shorter than a CRC or outside the array', () => {
    expect(checkCrc16(new Uint8Array(1), 0, 1)).toBe(false);
    expect(checkCrc16(new Uint8Array(4), 0, 5)).toBe(false);
  });
});
