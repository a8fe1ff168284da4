import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Subject, VirtualTimeScheduler } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { unixMsToCuc } from '../../../src/core/time.js';
import {
  CSV_HEADER,
  csvRows,
  describeGap,
  formatExport,
  GroundArchive,
  jsonLine,
  parseTime,
  playbackSpans,
  type SequenceGap,
  sequenceGaps,
} from '../../../src/ground/archive.js';
import type { DecodedTm, TmRecord } from '../../../src/ground/codec.js';
import {
  encodePlaybackRequest,
  formatLinkStats,
  GroundStation,
  PLAYBACK_STORE_ID,
} from '../../../src/ground/station.js';
import { KissDecoder, kissEncode } from '../../../src/link/kiss.js';
import { decodeTcPacket, decodeTmPacket, encodeTmPacket, tcRequestId } from '../../../src/link/pus.js';
import { encodeVerificationFailure } from '../../../src/link/pus-services.js';
import { decodeTcFrame } from '../../../src/link/tc-frame.js';
import { TmFrameAssembler, TmFrameLength } from '../../../src/link/tm-frame.js';
import type { BytePipe, PipeState } from '../../../src/transport/pipe.js';
import { tempDir } from '../../support/cli.js';
import { APID, DICTIONARY, eventPacket, SCID, tmFrames } from '../../support/link-captures.js';

const T0 = Date.parse('2025-03-01T12:00:00Z');

/** A received packet: `record` as the station decoded it, the packet encoded for real. */
function tm(sequenceCount: number, time: number, record: TmRecord, apid = APID): DecodedTm {
  const bytes = encodeTmPacket({
    apid,
    sequenceCount,
    service: record.kind === 'event' ? 5 : record.kind === 'verification' ? 1 : 3,
    subtype: record.kind === 'event' ? 1 : record.kind === 'verification' ? 7 : 25,
    destinationId: 1,
    time: unixMsToCuc(time),
    sourceData: Uint8Array.of(0, 1),
  });
  const packet = decodeTmPacket(bytes);
  if (!packet.ok) throw new Error(packet.detail);
  return { time, packet: packet.value, record };
}

const hk = (values: Record<string, unknown>): TmRecord => ({ kind: 'housekeeping', structureId: 1, values });
const event = (name: string, message: string): TmRecord => ({
  kind: 'event',
  id: 0x102,
  name,
  severity: 'info',
  args: {},
  message,
});

const open: GroundArchive[] = [];
function archiveIn(dir = tempDir('skynode-archive-'), scheduler?: VirtualTimeScheduler) {
  const archive = GroundArchive.inDirectory(dir, scheduler ? { scheduler } : {});
  open.push(archive);
  return archive;
}
afterEach(() => {
  for (const archive of open.splice(0)) archive.close();
});

describe('ground archive', () => {
  it('stores packets with time, APID, sequence count, service, subtype, raw bytes and the record as JSON', () => {
    const archive = archiveIn();
    const decoded = tm(
      7,
      T0 + 250.5,
      hk({ 'health.uptimeS': 12, 'x.big': 2n ** 63n, 'x.raw': Uint8Array.of(1, 0xab) }),
    );
    archive.add(decoded);
    const [row, ...others] = archive.query({ from: T0, to: T0 + 1000 });
    expect(others).toEqual([]);
    expect(row).toMatchObject({ time: T0 + 250.5, apid: APID, sequenceCount: 7, service: 3, subtype: 25 });
    expect(row?.record).toEqual(
      hk({ 'health.uptimeS': 12, 'x.big': '9223372036854775808', 'x.raw': '01ab' }),
    );
    // The raw packet, byte for byte (re-encoded from the decoded fields when the station gives no bytes).
    expect(Buffer.from(row?.packet ?? []).toString('hex')).toBe(
      Buffer.from(encodeTmPacket(decoded.packet)).toString('hex'),
    );
    const db = new Database(archive.path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('keeps the raw octets and VC the station hands over', () => {
    const archive = archiveIn();
    const decoded = tm(1, T0, event('health.NOOP', 'noop 1'));
    const bytes = new Uint8Array(encodeTmPacket(decoded.packet));
    archive.add({ ...decoded, bytes, vcid: 1 });
    const [row] = archive.query({ from: T0, to: T0 });
    expect(row?.vcid).toBe(1);
    expect(row?.packet).toEqual(bytes);
  });

  it('queries by time span and kinds, in time order, and stores a packet played back twice once', () => {
    const archive = archiveIn();
    archive.add(tm(2, T0 + 2000, event('health.NOOP', 'second')));
    archive.add(tm(1, T0 + 1000, hk({ 'health.uptimeS': 1 })));
    archive.add(tm(3, T0 + 3000, hk({ 'health.uptimeS': 3 })));
    archive.add(tm(1, T0 + 1000, hk({ 'health.uptimeS': 1 }))); // the same packet again (a playback)
    expect(archive.count()).toBe(3);
    expect(archive.query({ from: T0, to: T0 + 5000 }).map((r) => r.sequenceCount)).toEqual([1, 2, 3]);
    expect(archive.query({ from: T0 + 1500, to: T0 + 3000 }).map((r) => r.sequenceCount)).toEqual([2, 3]);
    expect(
      archive.query({ from: T0, to: T0 + 5000, kinds: ['housekeeping'] }).map((r) => r.sequenceCount),
    ).toEqual([1, 3]);
    expect(archive.query({ from: T0, to: T0 + 5000, kinds: ['event', 'verification'] })).toHaveLength(1);
  });

  it('batches writes: nothing is on disk before the flush interval, everything after it', () => {
    const scheduler = new VirtualTimeScheduler();
    const archive = archiveIn(undefined, scheduler);
    const reader = new Database(archive.path, { readonly: true });
    const onDisk = () => (reader.prepare('SELECT count(*) AS n FROM tm').get() as { n: number }).n;
    for (let i = 0; i < 5; i++) archive.add(tm(i, T0 + i, hk({ 'health.uptimeS': i })));
    expect(onDisk()).toBe(0);
    scheduler.flush(); // 100 ms later
    expect(onDisk()).toBe(5);
    archive.add(tm(5, T0 + 5, hk({ 'health.uptimeS': 5 })));
    archive.close(); // closing writes what waits
    expect(onDisk()).toBe(6);
    reader.close();
  });

  it('reopens what an earlier run archived', () => {
    const dir = tempDir('skynode-archive-');
    const first = GroundArchive.inDirectory(dir);
    first.add(tm(1, T0, hk({ 'health.uptimeS': 1 })));
    first.close();
    expect(() => GroundArchive.inDirectory(join(dir, 'none'), { mustExist: true })).toThrow(
      /no telemetry archive/,
    );
    const again = archiveIn(dir);
    expect(again.query({ from: T0, to: T0 })).toHaveLength(1);
  });
});

describe('sequence count gaps', () => {
  it('finds packets missing per APID with the time span around each gap', () => {
    const archive = archiveIn();
    for (const seq of [10, 11, 12, 15, 16]) archive.add(tm(seq, T0 + seq * 100, hk({ n: seq })));
    for (const seq of [100, 101, 102]) archive.add(tm(seq, T0 + seq * 10, hk({ n: seq }), 0x020));
    archive.add(tm(104, T0 + 1040, hk({ n: 104 }), 0x020));
    expect(archive.gaps({ from: T0, to: T0 + 10_000 })).toEqual([
      { apid: APID, after: 12, before: 15, missing: 2, fromMs: T0 + 1200, toMs: T0 + 1500, restarted: false },
      {
        apid: 0x020,
        after: 102,
        before: 104,
        missing: 1,
        fromMs: T0 + 1020,
        toMs: T0 + 1040,
        restarted: false,
      },
    ]);
    // The span limits what is looked at.
    expect(archive.gaps({ from: T0 + 1500, to: T0 + 10_000 }).filter((g) => g.apid === APID)).toEqual([]);
  });

  it('counts across the 14-bit wrap', () => {
    const archive = archiveIn();
    const seqs = [16_381, 16_382, 16_383, 0, 1, 4, 5];
    for (const [i, seq] of seqs.entries()) archive.add(tm(seq, T0 + i * 100, hk({ n: seq })));
    expect(archive.gaps({ from: T0, to: T0 + 10_000 })).toEqual([
      { apid: APID, after: 1, before: 4, missing: 2, fromMs: T0 + 400, toMs: T0 + 500, restarted: false },
    ]);
    const across = sequenceGaps(APID, [
      { seq: 16_382, time_ms: 1 },
      { seq: 2, time_ms: 2 },
    ]);
    expect(across).toEqual([
      { apid: APID, after: 16_382, before: 2, missing: 3, fromMs: 1, toMs: 2, restarted: false },
    ]);
    expect(describeGap(across[0] as SequenceGap)).toMatch(
      /^APID 0x010: 3 packets missing \(counts 16383\.\.1\) between /,
    );
  });

  it('orders packets of one instant by count, across the wrap too, and ignores duplicates', () => {
    // Packets stamped in the same on-board turn, archived in any order: no gap.
    expect(
      sequenceGaps(APID, [
        { seq: 16_383, time_ms: 5 },
        { seq: 1, time_ms: 5 },
        { seq: 0, time_ms: 5 },
        { seq: 16_382, time_ms: 5 },
        { seq: 2, time_ms: 6 },
        { seq: 2, time_ms: 6 },
      ]),
    ).toEqual([]);
    expect(
      sequenceGaps(APID, [
        { seq: 7, time_ms: 1 },
        { seq: 10, time_ms: 2 },
        { seq: 8, time_ms: 2 },
      ]),
    ).toEqual([{ apid: APID, after: 8, before: 10, missing: 1, fromMs: 2, toMs: 2, restarted: false }]);
  });

  it('flags a return to count 0 as a possible restart', () => {
    const [gap] = sequenceGaps(APID, [
      { seq: 500, time_ms: 1 },
      { seq: 0, time_ms: 2 },
    ]);
    expect(gap).toMatchObject({ missing: 15_883, restarted: true });
    expect(describeGap(gap as SequenceGap)).toMatch(/the node rebooted\?/);
  });

  it('merges overlapping gaps into one playback span, a millisecond wider each side', () => {
    const gap = (apid: number, fromMs: number, toMs: number): SequenceGap => ({
      apid,
      after: 1,
      before: 3,
      missing: 1,
      fromMs,
      toMs,
      restarted: false,
    });
    expect(playbackSpans([gap(0x20, 150, 300), gap(0x10, 100, 200), gap(0x10, 400, 500)])).toEqual([
      { fromMs: 99, toMs: 301, gaps: 2 },
      { fromMs: 399, toMs: 501, gaps: 1 },
    ]);
  });
});

describe('export formatting', () => {
  const rows = () => {
    const archive = archiveIn();
    archive.add(tm(1, T0 + 1.5, hk({ 'health.uptimeS': 12, 'health.mode': 'nominal', 'x.f': 0.1 + 0.2 })));
    archive.add(tm(2, T0 + 2, event('health.NOOP', 'NOOP 3, said "hi"')));
    archive.add(
      tm(3, T0 + 3, {
        kind: 'verification',
        stage: 'completion',
        success: false,
        requestId: 0x1810c001,
        code: 6,
        reason: 'no',
      }),
    );
    archive.add(tm(4, T0 + 4, { kind: 'alive' }));
    return archive.query({ from: T0, to: T0 + 10 });
  };

  it('CSV: one row per telemetry value and per event, quoted where needed', () => {
    const text = formatExport(rows(), 'csv');
    expect(text.split('\n')).toEqual([
      CSV_HEADER,
      '2025-03-01T12:00:00.001Z,tlm,health.uptimeS,12,,',
      '2025-03-01T12:00:00.001Z,tlm,health.mode,nominal,,',
      '2025-03-01T12:00:00.001Z,tlm,x.f,0.30000000000000004,,',
      '2025-03-01T12:00:00.002Z,event,health.NOOP,,info,"NOOP 3, said ""hi"""',
      '2025-03-01T12:00:00.003Z,verification,1810c001,completion,,FAILED (code 6) no',
      '',
    ]);
    expect(formatExport([], 'csv')).toBe(`${CSV_HEADER}\n`);
  });

  it('JSON: one archived packet per line', () => {
    const archived = rows();
    const lines = formatExport(archived, 'json').trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    const first = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(first).toEqual({
      time: '2025-03-01T12:00:00.001Z',
      timeMs: T0 + 1.5,
      apid: APID,
      sequenceCount: 1,
      service: 3,
      subtype: 25,
      record: hk({ 'health.uptimeS': 12, 'health.mode': 'nominal', 'x.f': 0.30000000000000004 }),
      packet: Buffer.from(archived[0]?.packet ?? []).toString('hex'),
    });
    expect(JSON.parse(lines[3] as string)).toMatchObject({ record: { kind: 'alive' } });
    expect(jsonLine(archived[1] as (typeof archived)[number])).toBe(lines[1]);
    expect(csvRows(archived[3] as (typeof archived)[number])).toEqual([]);
  });

  it('reads times as ISO-8601, now, or relative to now', () => {
    const now = T0;
    expect(parseTime('now', now)).toBe(now);
    expect(parseTime('-10m', now)).toBe(now - 600_000);
    expect(parseTime('-2h', now)).toBe(now - 7_200_000);
    expect(parseTime('-90s', now)).toBe(now - 90_000);
    expect(parseTime('2025-03-01T11:00:00Z', now)).toBe(T0 - 3_600_000);
    expect(parseTime('2025-03-01T11:00:00', now)).toBe(T0 - 3_600_000);
    expect(parseTime('2025-03-01T13:00:00+02:00', now)).toBe(T0 - 3_600_000);
    expect(parseTime('2025-03-01', now)).toBe(T0 - 12 * 3_600_000);
    expect(parseTime('yesterday', now)).toBeUndefined();
    expect(parseTime('-10x', now)).toBeUndefined();
    expect(parseTime('2025-13-45T00:00:00Z', now)).toBeUndefined();
  });
});

// --- the station's side: link statistics and playback requests ----------------------------------------------

class FakePipe implements BytePipe {
  readonly name = 'fake';
  readonly data = new Subject<Uint8Array>();
  readonly data$ = this.data.asObservable();
  readonly state$ = new Subject<PipeState>().asObservable();
  readonly state: PipeState = { kind: 'open' };
  readonly written: Uint8Array[] = [];
  readonly stats = {
    bytesIn: 0,
    chunksIn: 0,
    bytesOut: 0,
    chunksOut: 0,
    writesRefused: 0,
    bytesRefused: 0,
    reconnects: 0,
    reconnectAttempts: 0,
    errors: 0,
  };
  write(bytes: Uint8Array): boolean {
    this.written.push(bytes.slice());
    return true;
  }
  async close(): Promise<void> {}
}

describe('playback request, TC(15,9)', () => {
  it('encodes store ID 16b, then start and end CUC, as PROTOCOL.md lays them out', () => {
    // 2025-03-01T12:00:00.5Z: TAI - UTC is 37 s; CUC seconds count from 1958-01-01 (4383 days before 1970).
    const from = T0 + 500;
    const to = T0 + 60_000;
    const data = encodePlaybackRequest(PLAYBACK_STORE_ID, from, to);
    const coarse = (ms: number) => Math.floor(ms / 1000) + 4383 * 86_400 + 37;
    const view = new DataView(data.buffer);
    expect(data).toHaveLength(14);
    expect(view.getUint16(0)).toBe(1);
    expect(view.getUint32(2)).toBe(coarse(from));
    expect(view.getUint16(6)).toBe(0x8000);
    expect(view.getUint32(8)).toBe(coarse(to));
    expect(view.getUint16(12)).toBe(0);
    expect(() => encodePlaybackRequest(1, to, from)).toThrow(RangeError);
  });

  it('goes out as TC(15,9) to the node and resolves with its outcome; link statistics count what came in', async () => {
    const scheduler = new VirtualTimeScheduler();
    const pipe = new FakePipe();
    const station = new GroundStation({
      pipe,
      profile: 'serial',
      dictionary: DICTIONARY,
      scheduler,
      insecure: true,
      nextArsn: () => 1,
    });
    expect(formatLinkStats(station.linkStats())).toBe(
      'link: frames 0 in, 0 rejected, 0 gaps; packets 0; CLCW none yet; COP-1 initial V(S)=0 outstanding=0',
    );
    const connected = station.connect();
    // Two VC frame counts skipped: a gap of two frames.
    const frames = tmFrames('serial', [eventPacket(1, 0), eventPacket(2, 1)]);
    const skipTo = frames.length + 2;
    const later = tmFrames('serial', [eventPacket(3, 2)], { firstVcFrameCount: skipTo, firstMc: skipTo });
    for (const frame of [...frames, ...later]) pipe.data.next(kissEncode(frame));
    await connected;

    const outcome = station.requestPlayback(T0, T0 + 1000);
    await Promise.resolve();
    const kiss = new KissDecoder();
    const sent = pipe.written.flatMap((chunk) => kiss.push(chunk));
    expect(sent).toHaveLength(1);
    const frame = decodeTcFrame(sent[0] as Uint8Array);
    if (!frame.ok || frame.value.type === 'BC') throw new Error('expected an AD frame');
    expect(frame.value.scid).toBe(SCID);
    const tc = decodeTcPacket(frame.value.data);
    if (!tc.ok) throw new Error(tc.detail);
    expect(tc.value).toMatchObject({ apid: APID, service: 15, subtype: 9 });
    expect(tc.value.appData).toEqual(encodePlaybackRequest(1, T0, T0 + 1000));

    const requestId = tcRequestId(tc.value);
    const reply = (subtype: number, data: Uint8Array, sequenceCount: number) =>
      encodeTmPacket({
        apid: APID,
        sequenceCount,
        service: 1,
        subtype,
        destinationId: 1,
        time: unixMsToCuc(T0),
        sourceData: data,
      });
    // The node acknowledges the frame (N(R) 6) and refuses the service: it has no recorder (failure code 4).
    let mc = skipTo + later.length;
    const assembler = new TmFrameAssembler({
      frameLength: TmFrameLength.serial,
      scid: SCID,
      vcid: 0,
      clcw: () => ({ vcid: 0, reportValue: 6 }),
      mcFrameCount: () => mc++ & 0xff,
      firstVcFrameCount: mc,
    });
    const replies: Uint8Array[] = [];
    assembler.push(reply(2, encodeVerificationFailure(requestId, 4, 'no service 15'), 3), replies);
    assembler.flush(replies);
    for (const f of replies) pipe.data.next(kissEncode(f));
    await expect(outcome).resolves.toMatchObject({ ok: false, failure: { stage: 'acceptance', code: 4 } });

    const stats = station.linkStats();
    expect(stats).toMatchObject({
      framesIn: frames.length + later.length + replies.length,
      framesRejected: 0,
      frameGaps: 1,
      framesLost: 2,
      packetsIn: 4,
      clcw: { nr: 6, lockout: false, wait: false, retransmit: false, farmBCounter: 0 },
      cop: { state: 'active', vs: 6, nnr: 6, outstanding: 0 },
    });
    expect(formatLinkStats(stats)).toMatch(
      /^link: frames \d+ in, 0 rejected, 1 gaps \(2 lost\); packets 4; CLCW N\(R\)=6 lockout=0 wait=0 retransmit=0; COP-1 active V\(S\)=6 outstanding=0$/,
    );
    await station.close();
  });
});
