import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type InspectRecord,
  LinkInspector,
  type LinkInspectorOptions,
  parseHexCapture,
  type RejectRecord,
  type SummaryRecord,
  toJson,
} from '../../../src/ground/inspect.js';
import { ASM_LENGTH } from '../../../src/link/cadu.js';
import { encodeCltu } from '../../../src/link/cltu.js';
import { kissEncode } from '../../../src/link/kiss.js';
import type { LinkProfile } from '../../../src/link/profile.js';
import { tcRequestId } from '../../../src/link/pus.js';
import { TmFrameLength } from '../../../src/link/tm-frame.js';
import {
  ARM_NOOP,
  acceptancePacket,
  commandPacket,
  concat,
  DICTIONARY,
  downlink,
  eventPacket,
  GARBAGE,
  idleFrame,
  KEYS,
  NOOP,
  PING,
  plainFrame,
  SCID,
  SET_VR,
  securedFrame,
  TIME_ISO,
  tmFrames,
  UNLOCK,
  uplink,
  WRONG_KEYS,
} from '../../support/link-captures.js';

function inspect(
  capture: Uint8Array,
  options: Partial<LinkInspectorOptions> & { profile: LinkProfile },
  chunks: readonly number[] = [],
): InspectRecord[] {
  const inspector = new LinkInspector({ dictionary: DICTIONARY, ...options });
  const records: InspectRecord[] = [];
  let at = 0;
  for (const size of chunks) {
    if (at >= capture.length) break;
    records.push(...inspector.push(capture.subarray(at, at + size)));
    at += size;
  }
  records.push(...inspector.push(capture.subarray(at)));
  records.push(...inspector.finish());
  return records;
}

const ofKind = <K extends InspectRecord['record']>(records: readonly InspectRecord[], kind: K) =>
  records.filter((r): r is Extract<InspectRecord, { record: K }> => r.record === kind);
const rejects = (records: readonly InspectRecord[]): RejectRecord[] => ofKind(records, 'reject');
const summaryOf = (records: readonly InspectRecord[]): SummaryRecord => {
  const last = records.at(-1);
  if (last?.record !== 'summary') throw new Error('no summary last');
  return last;
};

/** Offsets at which each part of a capture starts. */
function offsets(parts: readonly Uint8Array[]): number[] {
  const out: number[] = [];
  let at = 0;
  for (const part of parts) {
    out.push(at);
    at += part.length;
  }
  return out;
}

const requestIdOf = (packet: Uint8Array) => new DataView(packet.buffer, packet.byteOffset).getUint32(0);

describe('LinkInspector, serial profile', () => {
  it('decodes a downlink: TM frames with their CLCW, packets decoded with the dictionary, idle frames', () => {
    const frames = tmFrames('serial', [eventPacket(7, 0), acceptancePacket(0x18100001, 1)]);
    const parts = [...frames.map((f) => downlink('serial', f)), downlink('serial', idleFrame('serial'))];
    const at = offsets(parts);
    const records = inspect(concat(parts), { profile: 'serial' });

    expect(rejects(records)).toEqual([]);
    const tm = ofKind(records, 'tm-frame');
    expect(tm).toHaveLength(frames.length + 1);
    expect(tm[0]).toEqual({
      record: 'tm-frame',
      offset: 0,
      scid: SCID,
      vcid: 0,
      mcFrameCount: 0,
      vcFrameCount: 0,
      firstHeaderPointer: 0,
      clcw: {
        statusField: 0,
        copInEffect: 1,
        vcid: 0,
        noRfAvailable: false,
        noBitLock: false,
        lockout: false,
        wait: false,
        retransmit: false,
        farmBCounter: 0,
        reportValue: 5,
      },
    });
    expect(tm.at(-1)).toMatchObject({ offset: at.at(-1), vcid: 7, firstHeaderPointer: 0x7fe, idle: true });

    const packets = ofKind(records, 'tm-packet');
    expect(packets).toEqual([
      {
        record: 'tm-packet',
        frameOffset: 0,
        vcid: 0,
        apid: 0x10,
        sequenceCount: 0,
        service: 5,
        subtype: 1,
        messageTypeCounter: 0,
        destinationId: 1,
        time: TIME_ISO,
        decoded: {
          kind: 'event',
          id: 0x0102,
          name: 'health.NOOP',
          severity: 'info',
          args: { count: 7 },
          message: 'no-op 7',
        },
      },
      expect.objectContaining({
        record: 'tm-packet',
        sequenceCount: 1,
        service: 1,
        subtype: 1,
        decoded: { kind: 'verification', stage: 'acceptance', success: true, requestId: 0x18100001 },
      }),
    ]);
    const summary = summaryOf(records);
    expect(summary).toMatchObject({
      record: 'summary',
      profile: 'serial',
      octets: concat(parts).length,
      records: { 'tm-frame': frames.length + 1, 'tm-packet': 2 },
      rejections: {},
    });
    expect(summary.records.reject).toBeUndefined();
  });

  it('decodes an uplink: BC control commands, unsecured frames, TC(8,1) unpacked with the dictionary', () => {
    const noop = NOOP(4);
    const parts = [
      kissEncode(UNLOCK),
      kissEncode(SET_VR),
      kissEncode(plainFrame(concat([noop, ARM_NOOP(5), PING(6)]), 3)),
    ];
    const at = offsets(parts);
    const records = inspect(concat(parts), { profile: 'serial' });
    expect(rejects(records)).toEqual([]);
    expect(ofKind(records, 'tc-frame')).toEqual([
      {
        record: 'tc-frame',
        offset: 0,
        type: 'BC',
        scid: SCID,
        vcid: 0,
        sequenceNumber: 0,
        length: 8,
        security: null,
        command: { kind: 'unlock' },
      },
      expect.objectContaining({ offset: at[1], type: 'BC', command: { kind: 'set-vr', vr: 7 } }),
      expect.objectContaining({ offset: at[2], type: 'BD', sequenceNumber: 3, security: null }),
    ]);
    expect(ofKind(records, 'tc-packet')).toEqual([
      {
        record: 'tc-packet',
        frameOffset: at[2],
        apid: 0x10,
        sequenceFlags: 3,
        sequenceCount: 4,
        ackFlags: 0xf,
        service: 8,
        subtype: 1,
        sourceId: 1,
        appData: '0101',
        command: { name: 'health.NOOP', args: {} },
      },
      expect.objectContaining({
        sequenceCount: 5,
        appData: '02010101',
        command: { name: 'commanding.ARM', args: { functionId: 0x0101 } },
      }),
      expect.objectContaining({ sequenceCount: 6, service: 17, subtype: 1, appData: '' }),
    ]);
    expect(ofKind(records, 'tc-packet')[2]).not.toHaveProperty('command');
    expect(tcRequestId({ apid: 0x10, sequenceFlags: 3, sequenceCount: 4 })).toBe(requestIdOf(noop));
  });

  it('says why a TC(8,1) is not a dictionary command, without rejecting it', () => {
    const payload = concat([
      commandPacket(0x0999),
      commandPacket(0x0201, Uint8Array.of(0x01)),
      commandPacket(0x0101, Uint8Array.of(0x01)),
    ]);
    const records = inspect(kissEncode(plainFrame(payload)), { profile: 'serial' });
    expect(rejects(records)).toEqual([]);
    expect(ofKind(records, 'tc-packet').map((r) => r.commandError)).toEqual([
      'unknown function ID 0x0999',
      expect.stringMatching(/^commanding\.ARM \(0x0201\): functionId: truncated u16/),
      'health.NOOP (0x0101): 1 octets after its arguments',
    ]);
  });

  it('rejects a TC packet whose CRC is wrong', () => {
    const badCrc = kissEncode(plainFrame(NOOP(1).map((b, i) => (i === 10 ? 0x09 : b))));
    expect(rejects(inspect(badCrc, { profile: 'serial' }))).toEqual([
      expect.objectContaining({ layer: 'tc-packet', reason: 'bad-crc', offset: 0 }),
    ]);
  });

  it('takes both directions with garbage in between, and says where the garbage is', () => {
    const frames = tmFrames('serial', [eventPacket(1, 0), eventPacket(2, 1)]);
    const parts = [
      downlink('serial', frames[0]!),
      GARBAGE,
      kissEncode(securedFrame(1, NOOP())),
      downlink('serial', idleFrame('serial')),
      Uint8Array.of(0xc0, 0x05, 0x01, 0x02), // a KISS frame on another port
      kissEncode(UNLOCK),
    ];
    const at = offsets(parts);
    const records = inspect(concat(parts), { profile: 'serial' });
    expect(records.map((r) => r.record)).toEqual([
      'tm-frame',
      'tm-packet',
      'tm-packet',
      'reject',
      'tc-frame',
      'tc-packet',
      'tm-frame',
      'reject',
      'tc-frame',
      'summary',
    ]);
    expect(rejects(records)).toEqual([
      {
        record: 'reject',
        layer: 'kiss',
        reason: 'bad-command',
        detail: expect.stringContaining('command byte 0x11'),
        offset: at[1]! - 1, // the FEND that closed the frame before
      },
      expect.objectContaining({ layer: 'kiss', reason: 'bad-command', offset: at[4] }),
    ]);
    expect(ofKind(records, 'tc-frame')[0]).toMatchObject({
      offset: at[2],
      security: { spi: 1, mac: 'unchecked' },
    });
    expect(summaryOf(records).rejections).toEqual({ 'bad-command': 2 });
    expect(summaryOf(records).rejectionsByLayer).toEqual({ kiss: { 'bad-command': 2 } });
  });

  it('rejects a corrupted TM frame (bad-crc) and reports the frame it cost', () => {
    // One 27-octet event packet per frame.
    const frames = tmFrames(
      'serial',
      [eventPacket(1, 0), eventPacket(2, 1), eventPacket(3, 2), eventPacket(4, 3)],
      {
        frameLength: 12 + 27,
      },
    );
    expect(frames).toHaveLength(4);
    const corrupted = frames.map((f) => f.slice());
    corrupted[1]![20] = corrupted[1]![20]! ^ 0x01;
    const parts = corrupted.map((f) => downlink('serial', f));
    const at = offsets(parts);
    const records = inspect(concat(parts), { profile: 'serial', frameLength: frames[0]!.length });
    expect(rejects(records)).toEqual([
      expect.objectContaining({ layer: 'tm-frame', reason: 'bad-crc', offset: at[1] }),
      expect.objectContaining({
        layer: 'tm-frame',
        reason: 'frame-count-gap',
        offset: at[2],
        detail: expect.stringContaining('VC 0 frame count 2 after 0: 1 frame(s) lost'),
      }),
    ]);
    expect(summaryOf(records).rejections).toEqual({ 'bad-crc': 1, 'frame-count-gap': 1 });
  });

  it('rejects a corrupted TC frame (bad-crc) at its offset', () => {
    const good = kissEncode(UNLOCK);
    const bad = plainFrame(NOOP());
    bad[6] = bad[6]! ^ 0x40;
    const records = inspect(concat([good, kissEncode(bad)]), { profile: 'serial' });
    expect(rejects(records)).toEqual([
      {
        record: 'reject',
        layer: 'tc-frame',
        reason: 'bad-crc',
        detail: expect.stringMatching(/^FECF/),
        offset: good.length,
      },
    ]);
    expect(ofKind(records, 'tc-frame')).toHaveLength(1);
  });

  it('says when a frame is neither a TM frame of the profile length nor a TC frame, and how to fix it', () => {
    const radioFrames = tmFrames('radio', [eventPacket(1)]);
    const capture = concat(radioFrames.map((f) => kissEncode(f)));
    const wrong = rejects(inspect(capture, { profile: 'serial' }));
    expect(wrong[0]).toMatchObject({ layer: 'tc-frame', offset: 0 });
    expect(wrong[0]!.detail).toContain('TM frames are 256: --frame-length to change');
    const right = inspect(capture, { profile: 'serial', frameLength: TmFrameLength.radio });
    expect(rejects(right)).toEqual([]);
    expect(ofKind(right, 'tm-packet')).toHaveLength(1);
  });

  it('reports octets before the first FEND and a frame cut off by the end of the capture', () => {
    const frame = kissEncode(UNLOCK);
    const capture = concat([GARBAGE, frame, frame.subarray(0, 5)]);
    const records = inspect(capture, { profile: 'serial' }, [3, 1, 1, 1]);
    expect(rejects(records)).toEqual([
      expect.objectContaining({
        layer: 'kiss',
        reason: 'unsynchronised',
        offset: 0,
        detail: expect.stringContaining(`${GARBAGE.length} octets before the first FEND`),
      }),
      expect.objectContaining({
        layer: 'kiss',
        reason: 'unterminated',
        offset: GARBAGE.length + frame.length,
      }),
    ]);
    expect(ofKind(records, 'tc-frame')).toEqual([expect.objectContaining({ offset: GARBAGE.length })]);
  });
});

describe('LinkInspector, SDLS', () => {
  const decodeOne = (frame: Uint8Array, keys?: typeof KEYS) =>
    inspect(kissEncode(frame), { profile: 'serial', ...(keys ? { keys } : {}) });

  it('SPI 1 without keys: MAC unchecked, the payload decoded', () => {
    const records = decodeOne(securedFrame(1, NOOP(), { arsn: 77, sequenceNumber: 9 }));
    expect(records.map((r) => r.record)).toEqual(['tc-frame', 'tc-packet', 'summary']);
    expect(records[0]).toEqual({
      record: 'tc-frame',
      offset: 0,
      type: 'AD',
      scid: SCID,
      vcid: 0,
      sequenceNumber: 9,
      length: NOOP().length + 5 + 1 + 6 + 16 + 2,
      security: { spi: 1, arsn: 77, mac: 'unchecked' },
    });
    expect(records[1]).toMatchObject({ command: { name: 'health.NOOP', args: {} } });
  });

  it('SPI 1 with keys: MAC ok; with the wrong keys: MAC bad, rejected, payload not read', () => {
    const frame = securedFrame(1, ARM_NOOP(), { arsn: 3 });
    const ok = decodeOne(frame, KEYS);
    expect(ok.map((r) => r.record)).toEqual(['tc-frame', 'tc-packet', 'summary']);
    expect(ok[0]).toMatchObject({ security: { spi: 1, arsn: 3, mac: 'ok' } });
    expect(ok[1]).toMatchObject({ command: { name: 'commanding.ARM', args: { functionId: 0x0101 } } });

    const bad = decodeOne(frame, WRONG_KEYS);
    expect(bad.map((r) => r.record)).toEqual(['tc-frame', 'reject', 'summary']);
    expect(bad[0]).toMatchObject({ security: { spi: 1, arsn: 3, mac: 'bad' } });
    expect(bad[1]).toMatchObject({ layer: 'sdls', reason: 'bad-mac', offset: 0 });

    // A tampered frame (FECF fixed up) under the right keys.
    const tampered = frame.slice();
    tampered[20] = tampered[20]! ^ 0x01;
    const records = decodeOne(withFecf(tampered), KEYS);
    expect(records[0]).toMatchObject({ security: { mac: 'bad' } });
    expect(rejects(records)).toEqual([expect.objectContaining({ layer: 'sdls', reason: 'bad-mac' })]);
  });

  it('SPI 2 without keys: marked encrypted; with keys: decrypted and decoded; wrong keys: bad', () => {
    const frame = securedFrame(2, concat([NOOP(1), PING(2)]), { arsn: 0x01020304 });
    const sealed = decodeOne(frame);
    expect(sealed.map((r) => r.record)).toEqual(['tc-frame', 'summary']);
    expect(sealed[0]).toMatchObject({
      security: { spi: 2, arsn: 0x01020304, mac: 'unchecked', iv: 'a1a2a3a4a5a6a7a801020304' },
      payload: 'encrypted',
    });

    const open = decodeOne(frame, KEYS);
    expect(open.map((r) => r.record)).toEqual(['tc-frame', 'tc-packet', 'tc-packet', 'summary']);
    expect(open[0]).toMatchObject({ security: { spi: 2, arsn: 0x01020304, mac: 'ok' } });
    expect(open[0]).not.toHaveProperty('payload');
    expect(open[1]).toMatchObject({ command: { name: 'health.NOOP' } });
    expect(open[2]).toMatchObject({ service: 17, subtype: 1 });

    const wrong = decodeOne(frame, WRONG_KEYS);
    expect(wrong.map((r) => r.record)).toEqual(['tc-frame', 'reject', 'summary']);
    expect(wrong[0]).toMatchObject({ security: { spi: 2, mac: 'bad' } });
    expect(wrong[1]).toMatchObject({ layer: 'sdls', reason: 'bad-mac' });
  });

  it('never rejects for anti-replay: the same frame twice is ok twice', () => {
    const frame = kissEncode(securedFrame(1, NOOP(), { arsn: 5 }));
    const records = inspect(concat([frame, frame, kissEncode(securedFrame(1, NOOP(), { arsn: 4 }))]), {
      profile: 'serial',
      keys: KEYS,
    });
    expect(rejects(records)).toEqual([]);
    expect(ofKind(records, 'tc-frame').map((r) => r.security?.mac)).toEqual(['ok', 'ok', 'ok']);
  });

  it('with a key for one SPI only, frames of the other stay unchecked', () => {
    const onlyGcm = new Map([[2, KEYS.get(2)!]]);
    const records = inspect(kissEncode(securedFrame(1, NOOP())), { profile: 'serial', keys: onlyGcm });
    expect(ofKind(records, 'tc-frame')[0]).toMatchObject({ security: { spi: 1, mac: 'unchecked' } });
    expect(ofKind(records, 'tc-packet')).toHaveLength(1);
  });

  it('rejects an unknown SPI and a data field too short for its security trailer', () => {
    const spi9 = plainFrame(concat([Uint8Array.of(0x00, 0x09), new Uint8Array(30)]));
    const short = plainFrame(Uint8Array.of(0x00, 0x01, 0, 0, 0, 1, 0xaa));
    const records = inspect(concat([kissEncode(spi9), kissEncode(short)]), { profile: 'serial' });
    expect(ofKind(records, 'tc-frame').map((r) => r.security)).toEqual([
      { spi: 9, arsn: null, mac: 'unchecked' },
      { spi: 1, arsn: null, mac: 'unchecked' },
    ]);
    expect(rejects(records).map((r) => [r.layer, r.reason])).toEqual([
      ['sdls', 'unknown-spi'],
      ['sdls', 'bad-length'],
    ]);
  });
});

/** The FECF of a TC frame recomputed after an edit (CRC-16/IBM-3740). */
function withFecf(frame: Uint8Array): Uint8Array {
  let crc = 0xffff;
  for (let i = 0; i < frame.length - 2; i++) {
    crc ^= frame[i]! << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  const out = frame.slice();
  out[out.length - 2] = crc >>> 8;
  out[out.length - 1] = crc & 0xff;
  return out;
}

describe('LinkInspector, radio profile', () => {
  const CADU_LENGTH = ASM_LENGTH + TmFrameLength.radio;

  it('finds CADUs and CLTUs in one stream, with their offsets', () => {
    const frames = tmFrames('radio', [eventPacket(1, 0), acceptancePacket(0x18100002, 1)]);
    const parts = [
      downlink('radio', frames[0]!),
      downlink('radio', idleFrame('radio')),
      uplink('radio', UNLOCK),
      uplink('radio', securedFrame(2, NOOP())),
      downlink('radio', idleFrame('radio', 1)),
    ];
    const at = offsets(parts);
    const records = inspect(concat(parts), { profile: 'radio', keys: KEYS });
    expect(rejects(records)).toEqual([]);
    expect(ofKind(records, 'tm-frame').map((r) => r.offset)).toEqual([0, CADU_LENGTH, at[4]]);
    expect(ofKind(records, 'tc-frame')).toEqual([
      expect.objectContaining({ offset: at[2], type: 'BC', command: { kind: 'unlock' } }),
      expect.objectContaining({
        offset: at[3],
        type: 'AD',
        security: expect.objectContaining({ mac: 'ok' }),
      }),
    ]);
    expect(ofKind(records, 'tc-packet')).toEqual([
      expect.objectContaining({ frameOffset: at[3], command: { name: 'health.NOOP', args: {} } }),
    ]);
    expect(ofKind(records, 'tm-packet')).toEqual([
      expect.objectContaining({ frameOffset: 0, decoded: expect.objectContaining({ name: 'health.NOOP' }) }),
      expect.objectContaining({
        frameOffset: 0,
        decoded: expect.objectContaining({ requestId: 0x18100002 }),
      }),
    ]);
  });

  it('reports garbage between CADUs, a corrupted CADU, and a CLTU with an uncorrectable codeblock', () => {
    const frames = tmFrames(
      'radio',
      Array.from({ length: 100 }, (_, i) => eventPacket(i, i)),
    );
    expect(frames).toHaveLength(3);
    const cadus = frames.map((f) => downlink('radio', f));
    // Flip a bit in the second CADU's frame (after the ASM): its FECF no longer matches.
    cadus[1]![ASM_LENGTH + 100] = cadus[1]![ASM_LENGTH + 100]! ^ 0x10;
    const cltu = encodeCltu(plainFrame(NOOP()));
    // Two bit errors in the second codeblock: uncorrectable, the CLTU ends there.
    cltu[2 + 8 + 1] = cltu[2 + 8 + 1]! ^ 0x03;
    const parts = [cadus[0]!, GARBAGE, cadus[1]!, cadus[2]!, cltu, uplink('radio', UNLOCK)];
    const at = offsets(parts);
    const records = inspect(concat(parts), { profile: 'radio' });
    expect(rejects(records).map((r) => [r.layer, r.reason, r.offset])).toEqual([
      ['cadu', 'gap', at[1]],
      ['tm-frame', 'bad-crc', at[2]],
      ['tm-frame', 'frame-count-gap', at[3]],
      ['tc-frame', 'truncated', at[4]],
    ]);
    expect(rejects(records)[0]!.detail).toContain(`${GARBAGE.length} octets between the CADU at 0`);
    expect(rejects(records)[3]!.detail).toContain('ended by an uncorrectable codeblock');
    expect(ofKind(records, 'tc-frame')).toEqual([expect.objectContaining({ offset: at[5], type: 'BC' })]);
  });

  it('corrects single bit errors in CLTUs and ASMs without a word', () => {
    const cltu = encodeCltu(plainFrame(ARM_NOOP()));
    cltu[2 + 3] = cltu[2 + 3]! ^ 0x08;
    const cadu = downlink('radio', idleFrame('radio'));
    cadu[1] = cadu[1]! ^ 0x01;
    const records = inspect(concat([downlink('radio', idleFrame('radio', 5)), cadu, cltu]), {
      profile: 'radio',
    });
    expect(rejects(records).filter((r) => r.reason !== 'frame-count-gap')).toEqual([]);
    expect(ofKind(records, 'tc-packet')).toEqual([
      expect.objectContaining({ command: { name: 'commanding.ARM', args: { functionId: 0x0101 } } }),
    ]);
    expect(summaryOf(records).stats.cltu).toMatchObject({ correctedCodeblocks: 1 });
    expect(summaryOf(records).stats.cadu).toMatchObject({ asmsWithErrors: 1 });
  });

  it('reports a CADU and a CLTU cut off by the end of the capture, and octets before the first CADU', () => {
    const cadu = downlink('radio', idleFrame('radio'));
    const cutCadu = inspect(concat([GARBAGE, cadu, cadu.subarray(0, 500)]), { profile: 'radio' });
    expect(rejects(cutCadu).map((r) => [r.layer, r.reason, r.offset])).toEqual([
      ['cadu', 'unsynchronised', 0],
      ['cadu', 'truncated', GARBAGE.length + cadu.length],
    ]);
    const cltu = uplink('radio', UNLOCK);
    const cutCltu = inspect(concat([cltu, cltu.subarray(0, 10)]), { profile: 'radio' });
    expect(rejects(cutCltu).map((r) => [r.layer, r.reason, r.offset])).toEqual([
      ['cltu', 'truncated', cltu.length],
    ]);
    const afterCadu = inspect(concat([cadu, cltu.subarray(0, 10)]), { profile: 'radio' });
    expect(rejects(afterCadu).map((r) => [r.layer, r.reason, r.offset])).toEqual([
      ['cltu', 'truncated', cadu.length],
    ]);
  });

  it('reports no false CLTU starts in a long downlink', () => {
    // Varied event counts: the randomized frames contain start sequences (EB 90) here and there.
    const packets = Array.from({ length: 20_000 }, (_, i) => eventPacket((i * 2654435761) >>> 0, i & 0x3fff));
    const frames = tmFrames('radio', packets);
    const capture = concat(frames.map((f) => downlink('radio', f)));
    let startSequences = 0;
    for (let i = 1; i < capture.length; i++)
      if (capture[i - 1] === 0xeb && capture[i] === 0x90) startSequences++;
    expect(startSequences).toBeGreaterThan(2);
    const records = inspect(capture, { profile: 'radio' });
    expect(rejects(records)).toEqual([]);
    expect(ofKind(records, 'tm-packet')).toHaveLength(packets.length);
    const cltu = summaryOf(records).stats.cltu as Record<string, number>;
    expect(cltu.starts).toBeGreaterThan(0);
    expect(cltu.falseStarts).toBe(cltu.starts);
    expect(ofKind(records, 'tm-frame').every((r, i) => r.offset === i * CADU_LENGTH)).toBe(true);
  });
});

describe('LinkInspector, any split of the stream', () => {
  const serialCapture = concat([
    GARBAGE,
    ...tmFrames('serial', [eventPacket(9, 0), eventPacket(10, 1)]).map((f) => downlink('serial', f)),
    kissEncode(securedFrame(2, NOOP())),
    GARBAGE,
    kissEncode(UNLOCK),
  ]);
  const radioCapture = concat([
    ...tmFrames('radio', [eventPacket(9, 0)]).map((f) => downlink('radio', f)),
    uplink('radio', securedFrame(1, NOOP())),
    GARBAGE,
    downlink('radio', idleFrame('radio')),
    uplink('radio', SET_VR),
  ]);
  const cases: Array<[LinkProfile, Uint8Array]> = [
    ['serial', serialCapture],
    ['radio', radioCapture],
  ];

  it.each(cases)(
    '%s: damaged anywhere, still records and a summary, never an exception',
    (profile, capture) => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
          (edits) => {
            const damaged = capture.slice();
            for (const [at, value] of edits) damaged[at % damaged.length] = value;
            const records = inspect(damaged, { profile, keys: KEYS });
            expect(records.at(-1)?.record).toBe('summary');
          },
        ),
        { numRuns: 100 },
      );
    },
  );

  it.each(cases)('%s: the same records whatever the chunks', (profile, capture) => {
    const whole = inspect(capture, { profile, keys: KEYS });
    expect(rejects(whole).length).toBeGreaterThan(0);
    expect(ofKind(whole, 'tc-packet')).toHaveLength(1);
    expect(inspect(capture, { profile, keys: KEYS }, Array(capture.length).fill(1))).toEqual(whole);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 20 }), (chunks) => {
        expect(inspect(capture, { profile, keys: KEYS }, chunks)).toEqual(whole);
      }),
      { numRuns: 40 },
    );
  });
});

describe('LinkInspector on noise', () => {
  it.each(['serial', 'radio'] as const)(
    '%s: never throws, counts what it outputs, ends with the summary',
    (profile) => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 3000 }),
          fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 8 }),
          (noise, chunks) => {
            const records = inspect(noise, { profile, keys: KEYS }, chunks);
            const summary = summaryOf(records);
            expect(records.filter((r) => r.record === 'summary')).toHaveLength(1);
            const counted = Object.values(summary.records).reduce((a, b) => a + b, 0);
            expect(counted).toBe(records.length - 1);
            expect(summary.octets).toBe(noise.length);
            for (const r of records) expect(JSON.parse(JSON.stringify(r))).toEqual(r);
          },
        ),
        { numRuns: 150 },
      );
    },
  );
});

describe('parseHexCapture', () => {
  it('ignores whitespace, newlines, commas and 0x prefixes', () => {
    const parsed = parseHexCapture('c0 00\n0x30, 0X2a\r\n\t04 07 00 00 20 E7 C0\n');
    expect(parsed).toEqual({
      ok: true,
      bytes: Uint8Array.of(0xc0, 0x00, 0x30, 0x2a, 4, 7, 0, 0, 0x20, 0xe7, 0xc0),
    });
    expect(parseHexCapture('0x1acffc1d')).toEqual({ ok: true, bytes: Uint8Array.of(0x1a, 0xcf, 0xfc, 0x1d) });
    expect(parseHexCapture('')).toEqual({ ok: true, bytes: new Uint8Array(0) });
  });

  it('says where the first non-hex character is, and when a digit is missing', () => {
    expect(parseHexCapture('c0 00\n30 zz')).toEqual({
      ok: false,
      error: expect.stringContaining("'z' at line 2, column 4 is not a hex digit"),
    });
    expect(parseHexCapture('c0 0')).toEqual({
      ok: false,
      error: expect.stringContaining('odd number of hex digits (3)'),
    });
    expect(parseHexCapture('10x20').ok).toBe(false);
  });
});

describe('toJson', () => {
  it('makes decoded values JSON-safe', () => {
    expect(
      toJson({
        a: 1n,
        b: Uint8Array.of(1, 255),
        c: [Number.NaN, Infinity, 1.5],
        d: undefined,
        e: { f: null },
      }),
    ).toEqual({ a: '1', b: '01ff', c: ['NaN', 'Infinity', 1.5], e: { f: null } });
  });
});

describe('LinkInspector options', () => {
  it('rejects a TM frame length outside the codec range', () => {
    expect(() => new LinkInspector({ profile: 'serial', dictionary: DICTIONARY, frameLength: 10 })).toThrow(
      RangeError,
    );
  });
});
