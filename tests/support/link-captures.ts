/** Captures for the link inspector's tests, built with the real encoders: what a serial line or a radio carries. */
import { flightComponents } from '../../src/cli/fsw.js';
import { buildDictionary, type MissionDictionary } from '../../src/core/dictionary.js';
import { encodeCadu } from '../../src/link/cadu.js';
import { encodeCltu } from '../../src/link/cltu.js';
import { kissEncode } from '../../src/link/kiss.js';
import type { LinkProfile } from '../../src/link/profile.js';
import { AckFlags, encodeTcPacket, encodeTmPacket } from '../../src/link/pus.js';
import { encodePerformFunction, encodeVerificationSuccess } from '../../src/link/pus-services.js';
import { type SdlsKeys, type Spi, sdlsKey, sdlsKeys, secureTcFrame } from '../../src/link/sdls.js';
import { encodeTcFrame } from '../../src/link/tc-frame.js';
import { encodeIdleTmFrame, TmFrameAssembler, TmFrameLength } from '../../src/link/tm-frame.js';

export const SCID = 0x2a;
export const APID = 0x010;
export const DICTIONARY: MissionDictionary = buildDictionary(flightComponents());

export const HMAC_KEY_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
export const GCM_KEY_HEX = 'f0e0d0c0b0a0908070605040302010000112233445566778899aabbccddeeff0';
export const KEYS: SdlsKeys = sdlsKeys(
  sdlsKey(1, Buffer.from(HMAC_KEY_HEX, 'hex')),
  sdlsKey(2, Buffer.from(GCM_KEY_HEX, 'hex')),
);
export const WRONG_KEYS: SdlsKeys = sdlsKeys(
  sdlsKey(1, new Uint8Array(32).fill(7)),
  sdlsKey(2, new Uint8Array(32).fill(9)),
);
/** The key file of KEYS (PROTOCOL.md "Keys"). */
export const KEY_FILE_JSON = JSON.stringify({
  '1': { algorithm: 'hmac-sha256', key: HMAC_KEY_HEX },
  '2': { algorithm: 'aes-256-gcm', key: GCM_KEY_HEX },
});
export const SALT = Uint8Array.of(0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8);

/** 2024-07-18T13:19:23Z as CUC coarse seconds (TAI since 1958). */
export const TIME = { coarse: 2_100_000_000, fine: 0x8000 };
export const TIME_ISO = '2024-07-18T13:19:23.500Z';

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

// --- uplink -----------------------------------------------------------------------------------------------

/** TC(8,1) of a dictionary command with its arguments already packed. */
export function commandPacket(opcode: number, packedArgs = new Uint8Array(0), sequenceCount = 1): Uint8Array {
  return encodeTcPacket({
    apid: APID,
    sequenceCount,
    ackFlags: AckFlags.all,
    service: 8,
    subtype: 1,
    sourceId: 1,
    appData: encodePerformFunction(opcode, packedArgs),
  });
}

/** health.NOOP (0x0101). */
export const NOOP = (sequenceCount = 1) => commandPacket(0x0101, new Uint8Array(0), sequenceCount);
/** commanding.ARM functionId=0x0101. */
export const ARM_NOOP = (sequenceCount = 2) =>
  commandPacket(0x0201, Uint8Array.of(0x01, 0x01), sequenceCount);
/** TC(17,1). */
export const PING = (sequenceCount = 3) =>
  encodeTcPacket({ apid: APID, sequenceCount, ackFlags: AckFlags.all, service: 17, subtype: 1, sourceId: 1 });

export function securedFrame(
  spi: Spi,
  payload: Uint8Array,
  options: { arsn?: number; sequenceNumber?: number; keys?: SdlsKeys } = {},
): Uint8Array {
  return secureTcFrame(
    {
      scid: SCID,
      vcid: 0,
      type: 'AD',
      sequenceNumber: options.sequenceNumber ?? 0,
      spi,
      arsn: options.arsn ?? 1,
      payload,
      ivSalt: SALT,
    },
    options.keys ?? KEYS,
  );
}

export function plainFrame(payload: Uint8Array, sequenceNumber = 0): Uint8Array {
  return encodeTcFrame({ type: 'BD', scid: SCID, vcid: 0, sequenceNumber, data: payload });
}

export const UNLOCK = encodeTcFrame({
  type: 'BC',
  scid: SCID,
  vcid: 0,
  sequenceNumber: 0,
  command: { kind: 'unlock' },
});
export const SET_VR = encodeTcFrame({
  type: 'BC',
  scid: SCID,
  vcid: 0,
  sequenceNumber: 0,
  command: { kind: 'set-vr', vr: 7 },
});

// --- downlink ---------------------------------------------------------------------------------------------

export const eventPacket = (count: number, sequenceCount = 0) =>
  encodeTmPacket({
    apid: APID,
    sequenceCount,
    service: 5,
    subtype: 1,
    messageTypeCounter: sequenceCount,
    destinationId: 1,
    time: TIME,
    // health.NOOP (0x0102), count u32
    sourceData: Uint8Array.of(
      0x01,
      0x02,
      count >>> 24,
      (count >>> 16) & 0xff,
      (count >>> 8) & 0xff,
      count & 0xff,
    ),
  });

export const acceptancePacket = (requestId: number, sequenceCount = 0) =>
  encodeTmPacket({
    apid: APID,
    sequenceCount,
    service: 1,
    subtype: 1,
    destinationId: 1,
    time: TIME,
    sourceData: encodeVerificationSuccess(requestId),
  });

/** TM frames of VC 0 carrying `packets`, the last one completed with an idle packet. */
export function tmFrames(
  profile: LinkProfile,
  packets: readonly Uint8Array[],
  options: { firstVcFrameCount?: number; frameLength?: number; firstMc?: number } = {},
): Uint8Array[] {
  let mc = options.firstMc ?? 0;
  const assembler = new TmFrameAssembler({
    frameLength: options.frameLength ?? TmFrameLength[profile],
    scid: SCID,
    vcid: 0,
    clcw: () => ({ vcid: 0, reportValue: 5 }),
    mcFrameCount: () => mc++ & 0xff,
    firstVcFrameCount: options.firstVcFrameCount ?? 0,
  });
  const frames: Uint8Array[] = [];
  for (const packet of packets) assembler.push(packet, frames);
  assembler.flush(frames);
  return frames;
}

export function idleFrame(profile: LinkProfile, vcFrameCount = 0): Uint8Array {
  return encodeIdleTmFrame({
    frameLength: TmFrameLength[profile],
    scid: SCID,
    mcFrameCount: 200,
    vcFrameCount,
    clcw: { vcid: 0, reportValue: 5 },
  });
}

/** Each frame as it goes on the transport: KISS on serial; CADU (TM) or CLTU (TC) on radio. */
export const downlink = (profile: LinkProfile, frame: Uint8Array) =>
  profile === 'serial' ? kissEncode(frame) : encodeCadu(frame);
export const uplink = (profile: LinkProfile, frame: Uint8Array) =>
  profile === 'serial' ? kissEncode(frame) : encodeCltu(frame);

/** Octets that are neither KISS (no FEND, not starting with 0x00) nor an ASM or a CLTU start. */
export const GARBAGE = Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77);
