import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeSpacePacket,
  encodeIdlePacket,
  encodeSpacePacket,
  IDLE_APID,
  readSpacePacketHeader,
  SPACE_PACKET_MAX_LENGTH,
  spacePacketLength,
} from '../../../src/link/space-packet.js';
import { apid, fromHex, sequenceCount, sequenceFlags, toHex } from './support.js';

const packetInit = fc.record({
  type: fc.constantFrom(0 as const, 1 as const),
  secondaryHeader: fc.boolean(),
  apid,
  sequenceFlags,
  sequenceCount,
  data: fc.uint8Array({ minLength: 1, maxLength: 400 }),
});

describe('space packet primary header', () => {
  it('lays out the PROTOCOL.md TC vector header', () => {
    const header = readSpacePacketHeader(fromHex('18 01 c0 16 00 06'));
    expect(header).toEqual({
      ok: true,
      length: 6,
      value: {
        type: 1,
        secondaryHeader: true,
        apid: 1,
        sequenceFlags: 3,
        sequenceCount: 22,
        dataLength: 6,
      },
    });
  });

  it('encodes fields at their bits', () => {
    const packet = encodeSpacePacket({
      type: 0,
      secondaryHeader: true,
      apid: 0x010,
      sequenceFlags: 1,
      sequenceCount: 0x3fff,
      data: fromHex('aa bb'),
    });
    expect(toHex(packet)).toBe('08 10 7f ff 00 01 aa bb');
  });

  it('round-trips every packet', () => {
    fc.assert(
      fc.property(packetInit, fc.uint8Array({ maxLength: 8 }), (init, trailer) => {
        const packet = encodeSpacePacket(init);
        expect(packet.length).toBe(6 + init.data.length);
        expect(spacePacketLength(packet)).toBe(packet.length);
        const withTrailer = new Uint8Array(packet.length + trailer.length);
        withTrailer.set(packet);
        withTrailer.set(trailer, packet.length);
        const decoded = decodeSpacePacket(withTrailer);
        expect(decoded).toEqual({ ok: true, value: init, length: packet.length });
      }),
    );
  });

  it('decodes at an offset', () => {
    const packet = encodeSpacePacket({ type: 1, apid: 5, sequenceCount: 9, data: fromHex('01') });
    const stream = new Uint8Array(3 + packet.length);
    stream.set(packet, 3);
    const decoded = decodeSpacePacket(stream, 3);
    expect(decoded.ok && decoded.value.apid).toBe(5);
    expect(decoded.ok && decoded.length).toBe(7);
  });

  it('rejects short input, short packets and other versions', () => {
    expect(decodeSpacePacket(fromHex('18 01 c0'))).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decodeSpacePacket(fromHex('18 01 c0 16 00 06 2f'))).toMatchObject({
      ok: false,
      reason: 'truncated',
    });
    expect(decodeSpacePacket(fromHex('38 01 c0 16 00 00 2f'))).toMatchObject({
      ok: false,
      reason: 'bad-version',
    });
    expect(decodeSpacePacket(fromHex('18 01 c0 16 00 00 2f'), 99)).toMatchObject({
      ok: false,
      reason: 'truncated',
    });
    expect(spacePacketLength(fromHex('18 01'))).toBe(-1);
  });

  it('never throws on random bytes, and what it accepts re-encodes to the same octets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(8), (bytes, offset) => {
        const decoded = decodeSpacePacket(bytes, offset);
        if (decoded.ok) {
          expect(encodeSpacePacket(decoded.value)).toEqual(bytes.slice(offset, offset + decoded.length));
        }
      }),
    );
  });

  it('refuses to encode out-of-range fields', () => {
    expect(() => encodeSpacePacket({ type: 0, apid: 0x800, sequenceCount: 0, data: fromHex('00') })).toThrow(
      RangeError,
    );
    expect(() => encodeSpacePacket({ type: 0, apid: 1, sequenceCount: 0x4000, data: fromHex('00') })).toThrow(
      RangeError,
    );
    expect(() => encodeSpacePacket({ type: 0, apid: 1, sequenceCount: 0, data: new Uint8Array(0) })).toThrow(
      RangeError,
    );
  });
});

describe('idle packets', () => {
  it('are TM, APID 0x7FF, unsegmented, filled', () => {
    expect(toHex(encodeIdlePacket(8, 3))).toBe('07 ff c0 03 00 01 55 55');
    const decoded = decodeSpacePacket(encodeIdlePacket(100));
    expect(decoded.ok && decoded.value.apid).toBe(IDLE_APID);
    expect(decoded.ok && decoded.length).toBe(100);
  });

  it('are 7 to 65542 octets', () => {
    expect(encodeIdlePacket(7).length).toBe(7);
    expect(encodeIdlePacket(SPACE_PACKET_MAX_LENGTH).length).toBe(SPACE_PACKET_MAX_LENGTH);
    expect(() => encodeIdlePacket(6)).toThrow(RangeError);
    expect(() => encodeIdlePacket(SPACE_PACKET_MAX_LENGTH + 1)).toThrow(RangeError);
  });
});
