import { createCipheriv, createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AntiReplayWindow,
  type LastArsn,
  parseKeyFile,
  type SdlsKeys,
  type SecureTcFrameInit,
  sdlsKey,
  sdlsKeys,
  sdlsMaxPayload,
  securedTcFrameLength,
  secureTcFrame,
  verifyDecodedTcFrame,
  verifyTcFrame,
  writeSecuredTcFrame,
} from '../../../src/link/sdls.js';
import { decodeTcFrame, encodeTcFrame, type TcDataFrame } from '../../../src/link/tc-frame.js';
import { concat, fixCrc, fromHex, referenceCrc16, toHex } from './support.js';

const HMAC_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const GCM_HEX = 'f0e0d0c0b0a0908070605040302010000112233445566778899aabbccddeeff0';
const KEYS = sdlsKeys(sdlsKey(1, fromHex(HMAC_HEX)), sdlsKey(2, fromHex(GCM_HEX)));
const OTHER_KEYS = sdlsKeys(sdlsKey(1, new Uint8Array(32).fill(7)), sdlsKey(2, new Uint8Array(32).fill(9)));
const SALT = fromHex('a1 a2 a3 a4 a5 a6 a7 a8');
const NONE: LastArsn = () => undefined;

const crcOctets = (data: Uint8Array): Uint8Array => {
  const c = referenceCrc16(data);
  return Uint8Array.of(c >>> 8, c & 0xff);
};

function init(overrides: Partial<SecureTcFrameInit> = {}): SecureTcFrameInit {
  return {
    scid: 0x2a,
    vcid: 0,
    type: 'AD',
    sequenceNumber: 5,
    spi: 1,
    arsn: 7,
    payload: fromHex('18 01 c0 16 00 06 2f 11 01 00 00 ab 62'),
    ivSalt: SALT,
    ...overrides,
  };
}

describe('SDLS known answers', () => {
  it('SPI 1: lays out header, SPI, ARSN, data, then the first 16 octets of HMAC-SHA-256 over all of it', () => {
    const payload = fromHex('01 02 03');
    const frame = secureTcFrame(init({ payload }), KEYS);
    // Total 5 + 1 + 2 + 4 + 3 + 16 + 2 = 33: frame length field 32.
    const authenticated = fromHex('00 2a 00 20 05  c0  00 01  00 00 00 07  01 02 03');
    const hmac = createHmac('sha256', Buffer.from(HMAC_HEX, 'hex')).update(authenticated).digest();
    const body = concat([authenticated, hmac.subarray(0, 16)]);
    expect(toHex(frame)).toBe(toHex(concat([body, crcOctets(body)])));
    expect(frame.length).toBe(securedTcFrameLength(1, 3));
  });

  it('SPI 2: IV = salt then ARSN, headers as AAD, data encrypted, GCM tag as MAC', () => {
    const payload = fromHex('18 01 c0 16 00 06 2f 11 01 00 00 ab 62');
    const frame = secureTcFrame(
      init({ spi: 2, arsn: 0x01020304, type: 'BD', sequenceNumber: 0, payload }),
      KEYS,
    );
    // Total 5 + 1 + 2 + 12 + 13 + 16 + 2 = 51: frame length field 50 = 0x032; BD: bypass flag 0x20.
    const iv = fromHex('a1 a2 a3 a4 a5 a6 a7 a8  01 02 03 04');
    const aad = concat([fromHex('20 2a 00 32 00  c0  00 02'), iv]);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(GCM_HEX, 'hex'), iv, { authTagLength: 16 });
    cipher.setAAD(aad);
    const ciphertext = concat([cipher.update(payload), cipher.final()]);
    const body = concat([aad, ciphertext, cipher.getAuthTag()]);
    expect(toHex(frame)).toBe(toHex(concat([body, crcOctets(body)])));
    expect(toHex(ciphertext)).not.toBe(toHex(payload));
  });

  it('SPI 2 with no data: the tag authenticates the headers alone', () => {
    const frame = secureTcFrame(
      init({ spi: 2, ivSalt: fromHex('cafebabefacedbad'), arsn: 0xdecaf888, payload: new Uint8Array(0) }),
      KEYS,
    );
    expect(frame.length).toBe(5 + 1 + 2 + 12 + 16 + 2);
    expect(toHex(frame.subarray(8, 20))).toBe(toHex(fromHex('cafebabefacedbaddecaf888')));
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(GCM_HEX, 'hex'), frame.subarray(8, 20), {
      authTagLength: 16,
    });
    cipher.setAAD(frame.subarray(0, 20));
    cipher.final();
    expect(toHex(frame.subarray(20, 36))).toBe(toHex(cipher.getAuthTag()));
    expect(verifyTcFrame(frame, KEYS, NONE)).toMatchObject({
      ok: true,
      value: { spi: 2, arsn: 0xdecaf888, payload: new Uint8Array(0) },
    });
  });

  it('draws a random salt by default, so the same ARSN never repeats an IV', () => {
    const { ivSalt: _, ...rest } = init({ spi: 2 });
    const a = secureTcFrame(rest, KEYS);
    const b = secureTcFrame(rest, KEYS);
    expect(toHex(a.subarray(8, 16))).not.toBe(toHex(b.subarray(8, 16)));
    expect(toHex(a.subarray(16, 20))).toBe('00 00 00 07');
    expect(verifyTcFrame(a, KEYS, NONE).ok).toBe(true);
    expect(verifyTcFrame(b, KEYS, NONE).ok).toBe(true);
  });
});

describe('SDLS round trips', () => {
  const frameInit = fc.record({
    scid: fc.integer({ min: 0, max: 0x3ff }),
    vcid: fc.integer({ min: 0, max: 63 }),
    type: fc.constantFrom('AD' as const, 'BD' as const),
    sequenceNumber: fc.integer({ min: 0, max: 255 }),
    spi: fc.constantFrom(1 as const, 2 as const),
    arsn: fc.integer({ min: 0, max: 0xffff_ffff }),
    payload: fc.uint8Array({ maxLength: sdlsMaxPayload(1) }),
    ivSalt: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  });

  it('verifies what it secures, under either SPI, and decodes as a plain TC frame', () => {
    fc.assert(
      fc.property(frameInit, (raw) => {
        const payload = raw.payload.subarray(0, sdlsMaxPayload(raw.spi));
        const frame = secureTcFrame({ ...raw, payload }, KEYS);
        const verified = verifyTcFrame(frame, KEYS, NONE, { scid: raw.scid });
        expect(verified.ok).toBe(true);
        if (!verified.ok) return;
        expect(verified.length).toBe(frame.length);
        expect(verified.value.spi).toBe(raw.spi);
        expect(verified.value.arsn).toBe(raw.arsn);
        expect(verified.value.payload).toEqual(payload);
        expect(verified.value.frame).toMatchObject({
          type: raw.type,
          scid: raw.scid,
          vcid: raw.vcid,
          sequenceNumber: raw.sequenceNumber,
        });
        expect(decodeTcFrame(frame).ok).toBe(true);
      }),
    );
  });

  it('writes into a buffer at an offset, and refuses what cannot go on the wire', () => {
    const out = new Uint8Array(200);
    const n = writeSecuredTcFrame(out, 7, init(), KEYS);
    expect(out.subarray(7, 7 + n)).toEqual(secureTcFrame(init(), KEYS));
    expect(() => writeSecuredTcFrame(out, 190, init(), KEYS)).toThrow(RangeError);
    expect(() => secureTcFrame(init({ payload: new Uint8Array(sdlsMaxPayload(1) + 1) }), KEYS)).toThrow(
      RangeError,
    );
    expect(secureTcFrame(init({ payload: new Uint8Array(sdlsMaxPayload(1)) }), KEYS).length).toBe(1024);
    expect(secureTcFrame(init({ spi: 2, payload: new Uint8Array(sdlsMaxPayload(2)) }), KEYS).length).toBe(
      1024,
    );
    expect(() => secureTcFrame(init({ arsn: -1 }), KEYS)).toThrow(RangeError);
    expect(() => secureTcFrame(init({ arsn: 2 ** 32 }), KEYS)).toThrow(RangeError);
    expect(() => secureTcFrame(init({ spi: 2, ivSalt: new Uint8Array(7) }), KEYS)).toThrow(RangeError);
    expect(() => secureTcFrame(init({ spi: 2 }), sdlsKeys(sdlsKey(1, new Uint8Array(32))))).toThrow(
      RangeError,
    );
    expect(() => secureTcFrame(init({ scid: 0x400 }), KEYS)).toThrow(RangeError);
  });

  it('verifies a frame decoded once, for a pipeline that routes BC frames first', () => {
    const bytes = secureTcFrame(init(), KEYS);
    const decoded = decodeTcFrame(bytes);
    if (!decoded.ok) throw new Error(decoded.detail);
    const verified = verifyDecodedTcFrame(bytes, decoded.value as TcDataFrame, KEYS, NONE, decoded.length);
    expect(verified).toMatchObject({ ok: true, value: { spi: 1, arsn: 7 } });
  });
});

describe('SDLS rejections', () => {
  it('rejects tampering anywhere, with the FECF recomputed, for both SPIs', () => {
    for (const spi of [1, 2] as const) {
      const frame = secureTcFrame(init({ spi }), KEYS);
      for (let i = 0; i < frame.length - 2; i++) {
        for (const mask of [0x01, 0x80]) {
          const tampered = frame.slice();
          tampered[i]! ^= mask;
          fixCrc(tampered);
          const result = verifyTcFrame(tampered, KEYS, NONE);
          expect(result.ok, `SPI ${spi} octet ${i} mask ${mask}`).toBe(false);
        }
      }
      // Without recomputing the FECF, the frame check rejects first.
      const flipped = frame.slice();
      flipped[10]! ^= 1;
      expect(verifyTcFrame(flipped, KEYS, NONE)).toMatchObject({ ok: false, reason: 'bad-crc' });
    }
  });

  it('names the reason: MAC for data, header and MAC octets', () => {
    for (const spi of [1, 2] as const) {
      const frame = secureTcFrame(init({ spi }), KEYS);
      const macAt = frame.length - 18;
      for (const i of [
        4 /* N(S) */,
        macAt - 1 /* data */,
        macAt /* MAC */,
        frame.length - 3,
        9 /* ARSN or IV */,
      ]) {
        const tampered = frame.slice();
        tampered[i]! ^= 0x10;
        fixCrc(tampered);
        expect(verifyTcFrame(tampered, KEYS, NONE), `SPI ${spi} octet ${i}`).toMatchObject({
          ok: false,
          reason: 'bad-mac',
        });
      }
    }
  });

  it('rejects a frame under another key, and an SPI without a key', () => {
    for (const spi of [1, 2] as const) {
      const frame = secureTcFrame(init({ spi }), KEYS);
      expect(verifyTcFrame(frame, OTHER_KEYS, NONE)).toMatchObject({ ok: false, reason: 'bad-mac' });
      const onlyOther = sdlsKeys(sdlsKey(spi === 1 ? 2 : 1, new Uint8Array(32)));
      expect(verifyTcFrame(frame, onlyOther, NONE)).toMatchObject({ ok: false, reason: 'unknown-spi' });
    }
    const frame = secureTcFrame(init(), KEYS);
    frame[7] = 3; // SPI 3
    expect(verifyTcFrame(fixCrc(frame), KEYS, NONE)).toMatchObject({ ok: false, reason: 'unknown-spi' });
  });

  it('rejects frames too short for their security header and MAC, and BC frames', () => {
    const short = (data: Uint8Array) =>
      encodeTcFrame({ type: 'AD', scid: 0x2a, vcid: 0, sequenceNumber: 0, data });
    expect(verifyTcFrame(short(new Uint8Array(0)), KEYS, NONE)).toMatchObject({
      ok: false,
      reason: 'bad-length',
    });
    expect(verifyTcFrame(short(fromHex('00')), KEYS, NONE)).toMatchObject({
      ok: false,
      reason: 'bad-length',
    });
    expect(verifyTcFrame(short(concat([fromHex('00 01'), new Uint8Array(19)])), KEYS, NONE)).toMatchObject({
      ok: false,
      reason: 'bad-length',
    });
    expect(verifyTcFrame(short(concat([fromHex('00 02'), new Uint8Array(27)])), KEYS, NONE)).toMatchObject({
      ok: false,
      reason: 'bad-length',
    });
    // Just long enough: the MAC is checked.
    expect(verifyTcFrame(short(concat([fromHex('00 01'), new Uint8Array(20)])), KEYS, NONE)).toMatchObject({
      ok: false,
      reason: 'bad-mac',
    });
    expect(verifyTcFrame(fromHex('30 2a 04 07 00 00 20 e7'), KEYS, NONE)).toMatchObject({
      ok: false,
      reason: 'bad-type',
    });
  });

  it('rejects a replay (same or lower ARSN) but not a retransmission whose ARSN was never committed', () => {
    for (const spi of [1, 2] as const) {
      const window = new AntiReplayWindow();
      const f10 = secureTcFrame(init({ spi, arsn: 10 }), KEYS);
      const f9 = secureTcFrame(init({ spi, arsn: 9 }), KEYS);
      const f11 = secureTcFrame(init({ spi, arsn: 11 }), KEYS);
      // Verified but not committed (FARM-1 discarded it): the retransmission passes.
      expect(verifyTcFrame(f10, KEYS, window.last)).toMatchObject({ ok: true, value: { arsn: 10 } });
      expect(verifyTcFrame(f10, KEYS, window.last)).toMatchObject({ ok: true, value: { arsn: 10 } });
      expect(window.commit(spi, 10)).toBe(true);
      expect(verifyTcFrame(f10, KEYS, window.last)).toMatchObject({ ok: false, reason: 'replay' });
      expect(verifyTcFrame(f9, KEYS, window.last)).toMatchObject({ ok: false, reason: 'replay' });
      expect(verifyTcFrame(f11, KEYS, window.last)).toMatchObject({ ok: true, value: { arsn: 11 } });
      // The other SPI's window is separate.
      const other = secureTcFrame(init({ spi: spi === 1 ? 2 : 1, arsn: 3 }), KEYS);
      expect(verifyTcFrame(other, KEYS, window.last).ok).toBe(true);
    }
  });

  it('checks the MAC before the ARSN: a forged frame with an old ARSN is a bad MAC, not a replay', () => {
    const window = new AntiReplayWindow({ '1': 100 });
    const forged = secureTcFrame(init({ arsn: 5 }), OTHER_KEYS);
    expect(verifyTcFrame(forged, KEYS, window.last)).toMatchObject({ ok: false, reason: 'bad-mac' });
  });

  it('never throws on random or mutated bytes', () => {
    const valid = [secureTcFrame(init(), KEYS), secureTcFrame(init({ spi: 2 }), KEYS)];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 1100 }),
          fc
            .tuple(
              fc.constantFrom(...valid),
              fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
              fc.boolean(),
            )
            .map(([frame, edits, fix]) => {
              const out = frame.slice();
              for (const [i, v] of edits) out[i % out.length] = v;
              return fix ? fixCrc(out) : out;
            }),
        ),
        (bytes) => {
          const result = verifyTcFrame(bytes, KEYS, () => 0);
          if (!result.ok) expect(typeof result.detail).toBe('string');
        },
      ),
    );
  });
});

describe('AntiReplayWindow', () => {
  it('advances only upward, per SPI, and round-trips through a snapshot', () => {
    const window = new AntiReplayWindow();
    expect(window.last(1)).toBeUndefined();
    expect(window.check(1, 0)).toBe(true);
    expect(window.commit(1, 5)).toBe(true);
    expect(window.commit(1, 5)).toBe(false);
    expect(window.commit(1, 4)).toBe(false);
    expect(window.check(1, 5)).toBe(false);
    expect(window.check(1, 6)).toBe(true);
    expect(window.commit(2, 0xffff_ffff)).toBe(true);
    expect(window.snapshot()).toEqual({ '1': 5, '2': 0xffff_ffff });
    const restored = new AntiReplayWindow(
      JSON.parse(JSON.stringify(window.snapshot())) as Record<string, number>,
    );
    expect(restored.last(1)).toBe(5);
    expect(restored.check(2, 0xffff_ffff)).toBe(false);
    expect(AntiReplayWindow.restore(window.snapshot()).snapshot()).toEqual(window.snapshot());
    expect(() => window.commit(1, 1.5)).toThrow(RangeError);
    expect(() => new AntiReplayWindow({ x: 1 })).toThrow(RangeError);
    expect(() => new AntiReplayWindow({ '1': -1 })).toThrow(RangeError);
  });
});

describe('key file', () => {
  const file = (doc: unknown) => JSON.stringify(doc);
  const good = {
    '1': { algorithm: 'hmac-sha256', key: HMAC_HEX },
    '2': { algorithm: 'aes-256-gcm', key: GCM_HEX.toUpperCase() },
  };

  it('reads both keys, which then secure and verify frames', () => {
    const parsed = parseKeyFile(file(good));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const keys: SdlsKeys = parsed.keys;
    expect([...keys.keys()].sort()).toEqual([1, 2]);
    expect(keys.get(1)?.algorithm).toBe('hmac-sha256');
    // Same key material as KEYS: frames agree octet for octet.
    expect(secureTcFrame(init({ spi: 2 }), keys)).toEqual(secureTcFrame(init({ spi: 2 }), KEYS));
    expect(verifyTcFrame(secureTcFrame(init(), KEYS), keys, NONE).ok).toBe(true);
    const onlyOne = parseKeyFile(file({ '2': good['2'] }));
    expect(onlyOne.ok && [...onlyOne.keys.keys()]).toEqual([2]);
  });

  it('explains what is wrong, never showing key material', () => {
    const secret = 'deadbeef'.repeat(8);
    const cases: Array<[string, RegExp]> = [
      [`{"1": {"algorithm": "hmac-sha256", "key": "${secret}"`, /not valid JSON/],
      [`{"1": {"algorithm": "hmac-sha256", "key": ${secret}}}`, /not valid JSON/],
      ['[]', /JSON object keyed by SPI/],
      ['{}', /no key/],
      [file({ '3': { algorithm: 'hmac-sha256', key: secret } }), /SPI "3" is not defined/],
      [
        file({ '1': { algorithm: 'aes-256-gcm', key: secret } }),
        /SPI 1: algorithm "aes-256-gcm", expected "hmac-sha256"/,
      ],
      [
        file({ '2': { algorithm: 'hmac-sha256', key: secret } }),
        /SPI 2: algorithm "hmac-sha256", expected "aes-256-gcm"/,
      ],
      [file({ '1': { key: secret } }), /SPI 1: algorithm missing/],
      [
        file({ '1': { algorithm: 'hmac-sha256', key: secret.slice(2) } }),
        /SPI 1: key is not 64 hex digits \(62 characters/,
      ],
      [file({ '1': { algorithm: 'hmac-sha256', key: `${secret.slice(2)}zz` } }), /not 64 hex digits/],
      [file({ '1': { algorithm: 'hmac-sha256', key: 42 } }), /SPI 1: key missing or not a string/],
      [file({ '1': { algorithm: 'hmac-sha256', key: secret, comment: 'x' } }), /unknown field "comment"/],
      [file({ '1': 'x' }), /SPI 1: expected an object/],
    ];
    for (const [text, message] of cases) {
      const parsed = parseKeyFile(text);
      expect(parsed.ok, text).toBe(false);
      if (parsed.ok) continue;
      expect(parsed.error).toMatch(message);
      expect(parsed.error).not.toContain('deadbeef');
      expect(parsed.error).not.toContain('adbeef');
    }
  });

  it('keeps key material out of inspection and JSON', () => {
    const parsed = parseKeyFile(file(good));
    if (!parsed.ok) throw new Error(parsed.error);
    const shown = `${inspect(parsed.keys, { depth: 5 })} ${JSON.stringify([...parsed.keys.values()])}`;
    expect(shown).not.toContain(HMAC_HEX.slice(0, 16));
    expect(shown).not.toContain('0x00, 0x01');
    expect(shown.toLowerCase()).not.toContain(GCM_HEX.slice(0, 16));
    expect(() => sdlsKey(1, new Uint8Array(31))).toThrow(RangeError);
  });
});
