import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AckFlags,
  decodeTcPacket,
  decodeTmPacket,
  encodeTcPacket,
  encodeTmPacket,
  tcRequestId,
} from '../../../src/link/pus.js';
import {
  fixCrc,
  fromHex,
  mutate,
  mutations,
  referenceCrc16,
  tcPacketInit,
  tmPacketInit,
  toHex,
} from './support.js';

const VECTOR = '18 01 c0 16 00 06 2f 11 01 00 00 ab 62';

describe('PUS-C TC packets', () => {
  it('reproduces the PROTOCOL.md vector: TC(17,1) APID 1 count 22', () => {
    const packet = encodeTcPacket({
      apid: 1,
      sequenceCount: 22,
      ackFlags: AckFlags.all,
      service: 17,
      subtype: 1,
      sourceId: 0,
    });
    expect(toHex(packet)).toBe(VECTOR);
  });

  it('decodes the PROTOCOL.md vector', () => {
    expect(decodeTcPacket(fromHex(VECTOR))).toEqual({
      ok: true,
      length: 13,
      value: {
        apid: 1,
        sequenceFlags: 3,
        sequenceCount: 22,
        ackFlags: 0xf,
        service: 17,
        subtype: 1,
        sourceId: 0,
        appData: new Uint8Array(0),
      },
    });
  });

  it('has as request ID the first 4 octets of the primary header', () => {
    expect(tcRequestId({ apid: 1, sequenceFlags: 3, sequenceCount: 22 })).toBe(0x1801c016);
    fc.assert(
      fc.property(tcPacketInit, (init) => {
        const packet = encodeTcPacket(init);
        const view = new DataView(packet.buffer, packet.byteOffset);
        expect(tcRequestId(init)).toBe(view.getUint32(0));
      }),
    );
  });

  it('round-trips every packet, with the CRC over all octets before it', () => {
    fc.assert(
      fc.property(tcPacketInit, (init) => {
        const packet = encodeTcPacket(init);
        expect(packet.length).toBe(13 + init.appData.length);
        expect(referenceCrc16(packet.subarray(0, packet.length - 2))).toBe(
          (packet[packet.length - 2]! << 8) | packet[packet.length - 1]!,
        );
        expect(decodeTcPacket(packet)).toEqual({ ok: true, value: init, length: packet.length });
      }),
    );
  });

  it('decodes one packet at an offset and leaves what follows', () => {
    const a = encodeTcPacket({
      apid: 16,
      sequenceCount: 1,
      ackFlags: 1,
      service: 8,
      subtype: 1,
      appData: fromHex('01 02'),
    });
    const b = fromHex(VECTOR);
    const stream = new Uint8Array(a.length + b.length);
    stream.set(a);
    stream.set(b, a.length);
    const first = decodeTcPacket(stream);
    expect(first.ok && first.length).toBe(a.length);
    const second = decodeTcPacket(stream, a.length);
    expect(second.ok && second.value.service).toBe(17);
  });

  it('rejects with a reason', () => {
    const cases: Array<[string, string]> = [
      ['18 01 c0 16 00', 'truncated'],
      ['18 01 c0 16 00 06 2f 11 01 00 00 ab', 'truncated'],
      ['18 01 c0 16 00 06 2f 11 01 00 00 ab 63', 'bad-crc'],
      ['38 01 c0 16 00 06 2f 11 01 00 00 ab 62', 'bad-version'],
      ['08 01 c0 16 00 06 2f 11 01 00 00 ab 62', 'bad-type'],
      ['10 01 c0 16 00 06 2f 11 01 00 00 ab 62', 'bad-secondary-header'],
      ['18 01 c0 16 00 05 2f 11 01 00 00 ab', 'bad-length'],
    ];
    for (const [bytes, reason] of cases) {
      expect(decodeTcPacket(fromHex(bytes)), bytes).toMatchObject({ ok: false, reason });
    }
    const pusV1 = fixCrc(fromHex('18 01 c0 16 00 06 1f 11 01 00 00 00 00'));
    expect(decodeTcPacket(pusV1)).toMatchObject({ ok: false, reason: 'bad-pus-version' });
  });

  it('never throws on random or mutated bytes, and what it accepts re-encodes to the same octets', () => {
    const check = (bytes: Uint8Array, offset: number) => {
      const decoded = decodeTcPacket(bytes, offset);
      if (decoded.ok)
        expect(encodeTcPacket(decoded.value)).toEqual(bytes.slice(offset, offset + decoded.length));
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(4), check));
    fc.assert(
      fc.property(tcPacketInit, mutations, fc.boolean(), (init, edits, crc) => {
        const bytes = mutate(encodeTcPacket(init), edits);
        check(crc ? fixCrc(bytes) : bytes, 0);
      }),
    );
  });

  it('refuses to encode out-of-range fields', () => {
    const base = { apid: 1, sequenceCount: 0, ackFlags: 0, service: 17, subtype: 1 };
    expect(() => encodeTcPacket({ ...base, ackFlags: 16 })).toThrow(RangeError);
    expect(() => encodeTcPacket({ ...base, service: 256 })).toThrow(RangeError);
    expect(() => encodeTcPacket({ ...base, sourceId: 0x10000 })).toThrow(RangeError);
    expect(() => encodeTcPacket({ ...base, apid: -1 })).toThrow(RangeError);
  });
});

describe('PUS-C TM packets', () => {
  it('lays out the header, secondary header and CUC as PROTOCOL.md says', () => {
    const packet = encodeTmPacket({
      apid: 0x010,
      sequenceCount: 5,
      service: 17,
      subtype: 2,
      messageTypeCounter: 1,
      destinationId: 0x0203,
      time: { coarse: 0x01020304, fine: 0x0506 },
    });
    const crc = referenceCrc16(packet.subarray(0, 19));
    expect(toHex(packet)).toBe(
      `08 10 c0 05 00 0e 20 11 02 00 01 02 03 01 02 03 04 05 06 ${toHex(new Uint8Array([crc >>> 8, crc & 0xff]))}`,
    );
  });

  it('round-trips every packet', () => {
    fc.assert(
      fc.property(tmPacketInit, (init) => {
        const packet = encodeTmPacket(init);
        expect(packet.length).toBe(21 + init.sourceData.length);
        expect(decodeTmPacket(packet)).toEqual({ ok: true, value: init, length: packet.length });
      }),
    );
  });

  it('rejects a TC as a TM and a TM as a TC', () => {
    expect(decodeTmPacket(fromHex(VECTOR))).toMatchObject({ ok: false, reason: 'bad-type' });
    const tm = encodeTmPacket({
      apid: 1,
      sequenceCount: 0,
      service: 17,
      subtype: 2,
      time: { coarse: 0, fine: 0 },
    });
    expect(decodeTcPacket(tm)).toMatchObject({ ok: false, reason: 'bad-type' });
  });

  it('rejects a data field too short for the secondary header', () => {
    const short = fixCrc(fromHex('08 10 c0 05 00 0d 20 11 02 00 01 02 03 01 02 03 04 05 00 00'));
    expect(decodeTmPacket(short)).toMatchObject({ ok: false, reason: 'bad-length' });
  });

  it('never throws on random or mutated bytes, and what it accepts re-encodes to the same octets', () => {
    const check = (bytes: Uint8Array, offset: number) => {
      const decoded = decodeTmPacket(bytes, offset);
      if (decoded.ok)
        expect(encodeTmPacket(decoded.value)).toEqual(bytes.slice(offset, offset + decoded.length));
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(4), check));
    fc.assert(
      fc.property(tmPacketInit, mutations, fc.boolean(), (init, edits, crc) => {
        const bytes = mutate(encodeTmPacket(init), edits);
        check(crc ? fixCrc(bytes) : bytes, 0);
      }),
    );
  });

  it('refuses to encode out-of-range fields', () => {
    const base = { apid: 1, sequenceCount: 0, service: 3, subtype: 25, time: { coarse: 0, fine: 0 } };
    expect(() => encodeTmPacket({ ...base, time: { coarse: 2 ** 32, fine: 0 } })).toThrow(RangeError);
    expect(() => encodeTmPacket({ ...base, time: { coarse: 0, fine: 65536 } })).toThrow(RangeError);
    expect(() => encodeTmPacket({ ...base, messageTypeCounter: -1 })).toThrow(RangeError);
    expect(() => encodeTmPacket({ ...base, timeReferenceStatus: 16 })).toThrow(RangeError);
  });
});
