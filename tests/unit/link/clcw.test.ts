import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeClcw, encodeClcw } from '../../../src/link/clcw.js';
import { clcwInit, fromHex, toHex } from './support.js';

describe('CLCW', () => {
  it('lays out the fields as PROTOCOL.md says', () => {
    expect(toHex(encodeClcw({ vcid: 0, reportValue: 5 }))).toBe('01 00 00 05');
    expect(toHex(encodeClcw({ vcid: 1, lockout: true, reportValue: 0xff }))).toBe('01 04 20 ff');
    expect(
      toHex(
        encodeClcw({
          statusField: 7,
          copInEffect: 1,
          vcid: 63,
          noRfAvailable: true,
          noBitLock: true,
          lockout: true,
          wait: true,
          retransmit: true,
          farmBCounter: 3,
          reportValue: 0x80,
        }),
      ),
    ).toBe('1d fc fe 80');
    expect(toHex(encodeClcw({ vcid: 0, wait: true, farmBCounter: 1, reportValue: 0 }))).toBe('01 00 12 00');
    expect(toHex(encodeClcw({ vcid: 0, retransmit: true, reportValue: 0 }))).toBe('01 00 08 00');
  });

  it('round-trips every CLCW', () => {
    fc.assert(
      fc.property(clcwInit, (clcw) => {
        expect(decodeClcw(encodeClcw(clcw))).toEqual({ ok: true, value: clcw, length: 4 });
      }),
    );
  });

  it('decodes at an offset', () => {
    const decoded = decodeClcw(fromHex('ff ff 01 00 00 09'), 2);
    expect(decoded.ok && decoded.value.reportValue).toBe(9);
  });

  it('rejects with a reason', () => {
    expect(decodeClcw(fromHex('01 00 00'))).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decodeClcw(fromHex('81 00 00 00'))).toMatchObject({ ok: false, reason: 'bad-type' });
    expect(decodeClcw(fromHex('21 00 00 00'))).toMatchObject({ ok: false, reason: 'bad-version' });
    expect(decodeClcw(fromHex('01 01 00 00'))).toMatchObject({ ok: false, reason: 'bad-spare' });
    expect(decodeClcw(fromHex('01 00 01 00'))).toMatchObject({ ok: false, reason: 'bad-spare' });
    expect(decodeClcw(fromHex('01 00 00 00'), -1)).toMatchObject({ ok: false, reason: 'truncated' });
  });

  it('never throws on random bytes, and what it accepts re-encodes to the same octets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.nat(4), (bytes, offset) => {
        const decoded = decodeClcw(bytes, offset);
        if (decoded.ok) expect(encodeClcw(decoded.value)).toEqual(bytes.slice(offset, offset + 4));
      }),
    );
  });

  it('refuses to encode out-of-range fields', () => {
    expect(() => encodeClcw({ vcid: 64, reportValue: 0 })).toThrow(RangeError);
    expect(() => encodeClcw({ vcid: 0, reportValue: 256 })).toThrow(RangeError);
    expect(() => encodeClcw({ vcid: 0, farmBCounter: 4, reportValue: 0 })).toThrow(RangeError);
  });
});
