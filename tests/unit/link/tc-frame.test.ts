import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTcFrame, encodeTcFrame, type TcFrame } from '../../../src/link/tc-frame.js';
import { fixCrc, fromHex, mutate, mutations, referenceCrc16, tcFrame, toHex } from './support.js';

const UNLOCK_VECTOR = '30 2a 04 07 00 00 20 e7';

describe('TC transfer frames', () => {
  it('reproduces the PROTOCOL.md vector: unauthenticated BC Unlock, SCID 0x2A, VC 1', () => {
    const frame = encodeTcFrame({
      type: 'BC',
      scid: 0x2a,
      vcid: 1,
      sequenceNumber: 0,
      command: { kind: 'unlock' },
    });
    expect(toHex(frame)).toBe(UNLOCK_VECTOR);
  });

  it('decodes the PROTOCOL.md vector', () => {
    expect(decodeTcFrame(fromHex(UNLOCK_VECTOR), { scid: 0x2a })).toEqual({
      ok: true,
      length: 8,
      value: { type: 'BC', scid: 0x2a, vcid: 1, sequenceNumber: 0, command: { kind: 'unlock' } },
    });
  });

  it('lays out Set V(R) as 82 00 NN after the header', () => {
    const frame = encodeTcFrame({
      type: 'BC',
      scid: 0x2a,
      vcid: 0,
      sequenceNumber: 0,
      command: { kind: 'set-vr', vr: 0x42 },
    });
    expect(toHex(frame.subarray(0, 8))).toBe('30 2a 00 09 00 82 00 42');
    expect(frame.length).toBe(10);
  });

  it('starts AD and BD data fields with the segment header 0xC0', () => {
    const ad = encodeTcFrame({
      type: 'AD',
      scid: 0x3ff,
      vcid: 63,
      sequenceNumber: 7,
      data: fromHex('01 02'),
    });
    const crc = referenceCrc16(ad.subarray(0, 8));
    expect(toHex(ad)).toBe(
      `03 ff fc 09 07 c0 01 02 ${(crc >>> 8).toString(16).padStart(2, '0')} ${(crc & 0xff).toString(16).padStart(2, '0')}`,
    );
    const bd = encodeTcFrame({ type: 'BD', scid: 0x2a, vcid: 0, sequenceNumber: 0, data: new Uint8Array(0) });
    expect(toHex(bd.subarray(0, 6))).toBe('20 2a 00 07 00 c0');
  });

  it('round-trips every frame', () => {
    fc.assert(
      fc.property(tcFrame, (frame) => {
        const bytes = encodeTcFrame(frame);
        expect(((bytes[2]! & 3) << 8) | bytes[3]!).toBe(bytes.length - 1);
        expect(decodeTcFrame(bytes)).toEqual({ ok: true, value: frame, length: bytes.length });
      }),
    );
  });

  it('accepts trailing fill only when asked', () => {
    const bytes = new Uint8Array(12).fill(0x55);
    bytes.set(fromHex(UNLOCK_VECTOR));
    expect(decodeTcFrame(bytes)).toMatchObject({ ok: false, reason: 'bad-length' });
    expect(decodeTcFrame(bytes, { allowTrailing: true })).toMatchObject({ ok: true, length: 8 });
  });

  it('rejects with a reason', () => {
    const cases: Array<[string, string, Parameters<typeof decodeTcFrame>[1]?]> = [
      ['30 2a 04', 'truncated'],
      ['30 2a 04 07 00 00 20', 'truncated'],
      ['30 2a 04 07 00 00 20 e8', 'bad-crc'],
      ['70 2a 04 07 00 00 20 e7', 'bad-version'],
      ['30 2a 04 06 00 00 20', 'bad-length'],
      [UNLOCK_VECTOR, 'bad-scid', { scid: 0x2b }],
      [UNLOCK_VECTOR, 'bad-length', { maxLength: 7 }],
    ];
    for (const [bytes, reason, options] of cases) {
      expect(decodeTcFrame(fromHex(bytes), options), bytes).toMatchObject({ ok: false, reason });
    }
    const withCrc: Array<[string, string]> = [
      ['10 2a 04 07 00 00 00 00', 'bad-type'], // control command without bypass
      ['34 2a 04 07 00 00 00 00', 'bad-spare'],
      ['30 2a 04 07 00 01 00 00', 'bad-control-command'],
      ['30 2a 04 09 00 82 01 05 00 00', 'bad-control-command'],
      ['30 2a 04 08 00 00 00 00 00', 'bad-control-command'],
      ['00 2a 04 08 00 80 01 00 00', 'bad-segment-header'],
    ];
    for (const [bytes, reason] of withCrc) {
      expect(decodeTcFrame(fixCrc(fromHex(bytes))), bytes).toMatchObject({ ok: false, reason });
    }
  });

  it('never throws on random or mutated bytes, and what it accepts re-encodes to the same octets', () => {
    const check = (bytes: Uint8Array) => {
      const decoded = decodeTcFrame(bytes, { allowTrailing: true });
      if (decoded.ok) expect(encodeTcFrame(decoded.value)).toEqual(bytes.slice(0, decoded.length));
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), check));
    fc.assert(
      fc.property(tcFrame, mutations, fc.boolean(), (frame, edits, crc) => {
        const bytes = mutate(encodeTcFrame(frame), edits);
        check(crc ? fixCrc(bytes) : bytes);
      }),
    );
  });

  it('refuses to encode out-of-range fields or frames over 1024 octets', () => {
    const unlock: TcFrame = { type: 'BC', scid: 0, vcid: 0, sequenceNumber: 0, command: { kind: 'unlock' } };
    expect(() => encodeTcFrame({ ...unlock, scid: 0x400 })).toThrow(RangeError);
    expect(() => encodeTcFrame({ ...unlock, vcid: 64 })).toThrow(RangeError);
    expect(() => encodeTcFrame({ ...unlock, sequenceNumber: 256 })).toThrow(RangeError);
    expect(() => encodeTcFrame({ ...unlock, command: { kind: 'set-vr', vr: 256 } })).toThrow(RangeError);
    const data = (n: number): TcFrame => ({
      type: 'AD',
      scid: 0,
      vcid: 0,
      sequenceNumber: 0,
      data: new Uint8Array(n),
    });
    expect(encodeTcFrame(data(1016)).length).toBe(1024);
    expect(() => encodeTcFrame(data(1017))).toThrow(RangeError);
  });
});
