/**
 * The ground's telemetry archive: every TM packet the station receives, in one SQLite database (`archive.db`, WAL)
 * in the ground's state directory. Each row keeps the spacecraft time (UTC ms), APID, packet sequence count,
 * service, subtype, the raw packet and the decoded record as JSON (bigint as a decimal string, bytes as hex).
 *
 * Writes are batched: `add` queues the packet and a flush is scheduled `flushMs` (100 ms) later, so a ground crash
 * loses at most the packets of the last flush interval (synchronous=NORMAL: a power loss may also lose the last
 * batches written, never the database). Packets are unique by APID, sequence count and time: a packet played back
 * that the ground already has is not stored twice.
 *
 * Besides queries by time, the archive finds the gaps in each APID's packet sequence count (14 bits, wrapping):
 * the spans the ground asks the on-board recorder to play back (TC(15,9), GroundStation.requestPlayback).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { SchedulerLike, Subscription } from 'rxjs';
import { encodeTmPacket } from '../link/pus.js';
import type { DecodedTm, TmRecord } from './codec.js';

export const ARCHIVE_DB_FILE = 'archive.db';
const SEQUENCE_MODULO = 0x4000;
const SCHEMA_VERSION = 1;

export interface ArchiveOptions {
  /** Schedules the batched writes. Without one, packets are written on `flush`, `query`, `gaps`, `close`, or
   * once `maxBatch` of them are waiting. */
  readonly scheduler?: SchedulerLike;
  /** How long a packet may wait before it is written; default 100 ms. */
  readonly flushMs?: number;
  /** Most packets waiting before a write regardless of the timer; default 1000. */
  readonly maxBatch?: number;
  /** Refuse to create the database: for readers (export, gaps) pointed at a directory without an archive. */
  readonly mustExist?: boolean;
}

/** A packet as the station hands it over: the raw bytes and the VC it came on when known. */
export type ArchivableTm = DecodedTm & { readonly bytes?: Uint8Array; readonly vcid?: number };

/** One archived packet. `record` is the JSON form of the decoded record: bigints as strings, bytes as hex. */
export interface ArchivedTm {
  /** Spacecraft time, UTC ms (fractions kept). */
  readonly time: number;
  readonly apid: number;
  readonly sequenceCount: number;
  readonly service: number;
  readonly subtype: number;
  /** The TM VC it came down on (0 real time, 1 playback), when known. */
  readonly vcid: number | undefined;
  readonly packet: Uint8Array;
  readonly record: TmRecord;
}

export interface ArchiveQuery {
  /** UTC ms, inclusive. */
  readonly from: number;
  readonly to: number;
  /** Record kinds to return (TmRecord['kind']: housekeeping, event, verification, ...); default all. */
  readonly kinds?: readonly string[];
}

/** Packets of one APID missing between two that were received. */
export interface SequenceGap {
  readonly apid: number;
  /** Sequence count of the last packet received before the gap, and of the first after it. */
  readonly after: number;
  readonly before: number;
  /** How many sequence counts are missing (modulo 2^14). */
  readonly missing: number;
  /** Spacecraft time (UTC ms) of the packets around the gap: the span to play back. */
  readonly fromMs: number;
  readonly toMs: number;
  /**
   * The count after the gap is 0: perhaps packets lost, perhaps the node restarted (its sequence counts start at
   * 0 at every boot). A playback of the span tells which.
   */
  readonly restarted: boolean;
}

interface Row {
  time_ms: number;
  apid: number;
  seq: number;
  service: number;
  subtype: number;
  vcid: number | null;
  packet: Buffer;
  record: string;
}

type Pending = [number, number, number, number, number, string, number | null, Uint8Array, string];

/** JSON of a decoded record: bigint as decimal text, bytes as hex, non-finite numbers as text. */
export function recordToJson(record: unknown): string {
  return JSON.stringify(record, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = key === '' ? value : this[key];
    if (typeof raw === 'bigint') return raw.toString();
    if (raw instanceof Uint8Array) return Buffer.from(raw).toString('hex');
    if (typeof raw === 'number' && !Number.isFinite(raw)) return String(raw);
    return value;
  });
}

export class GroundArchive {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<Pending>;
  private readonly writeBatch: (rows: readonly Pending[]) => void;
  private pending: Pending[] = [];
  private timer: Subscription | undefined;
  private readonly flushMs: number;
  private readonly maxBatch: number;

  /** Opens (creating it unless `mustExist`) the archive in `directory`. */
  static inDirectory(directory: string, options: ArchiveOptions = {}): GroundArchive {
    const path = join(directory, ARCHIVE_DB_FILE);
    if (options.mustExist) {
      if (!existsSync(path)) throw new Error(`no telemetry archive at ${path}`);
    } else {
      mkdirSync(directory, { recursive: true });
    }
    return new GroundArchive(path, options);
  }

  constructor(
    path: string,
    private readonly options: ArchiveOptions = {},
  ) {
    this.path = path;
    this.flushMs = options.flushMs ?? 100;
    this.maxBatch = options.maxBatch ?? 1000;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    const version = this.db.pragma('user_version', { simple: true });
    if (typeof version === 'number' && version > SCHEMA_VERSION)
      throw new Error(`${path}: archive schema ${version} is newer than this ground station's`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS tm (
        id INTEGER PRIMARY KEY,
        time_ms REAL NOT NULL,
        apid INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        service INTEGER NOT NULL,
        subtype INTEGER NOT NULL,
        kind TEXT NOT NULL,
        vcid INTEGER,
        packet BLOB NOT NULL,
        record TEXT NOT NULL,
        UNIQUE (apid, seq, time_ms)
      );
      CREATE INDEX IF NOT EXISTS tm_time ON tm (time_ms);
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
    this.insert = this.db.prepare<Pending>(
      'INSERT OR IGNORE INTO tm (time_ms, apid, seq, service, subtype, kind, vcid, packet, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.writeBatch = this.db.transaction((rows: readonly Pending[]) => {
      for (const row of rows) this.insert.run(...row);
    });
  }

  /** Queues a received packet for the next write. */
  add(decoded: ArchivableTm): void {
    const { packet, record } = decoded;
    const bytes = decoded.bytes ?? encodeTmPacket(packet);
    this.pending.push([
      decoded.time,
      packet.apid,
      packet.sequenceCount,
      packet.service,
      packet.subtype,
      record.kind,
      decoded.vcid ?? null,
      bytes,
      recordToJson(record),
    ]);
    if (this.pending.length >= this.maxBatch) this.flush();
    else if (!this.timer && this.options.scheduler)
      this.timer = this.options.scheduler.schedule(() => {
        this.timer = undefined;
        this.flush();
      }, this.flushMs);
  }

  /** Writes what is waiting, in one transaction. */
  flush(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
    if (this.pending.length === 0 || !this.db.open) return;
    const rows = this.pending;
    this.pending = [];
    this.writeBatch(rows);
  }

  /** Packets with spacecraft time in [from, to], in time order. */
  query(query: ArchiveQuery): ArchivedTm[] {
    this.flush();
    const kinds = query.kinds && query.kinds.length > 0 ? query.kinds : undefined;
    const sql = `SELECT time_ms, apid, seq, service, subtype, vcid, packet, record FROM tm
      WHERE time_ms >= ? AND time_ms <= ?${kinds ? ` AND kind IN (${kinds.map(() => '?').join(', ')})` : ''}
      ORDER BY time_ms, id`;
    const rows = this.db.prepare<unknown[], Row>(sql).all(query.from, query.to, ...(kinds ?? []));
    return rows.map((row) => ({
      time: row.time_ms,
      apid: row.apid,
      sequenceCount: row.seq,
      service: row.service,
      subtype: row.subtype,
      vcid: row.vcid ?? undefined,
      packet: new Uint8Array(row.packet),
      record: JSON.parse(row.record) as TmRecord,
    }));
  }

  /** How many packets the archive holds (waiting ones included). */
  count(): number {
    this.flush();
    const row = this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM tm').get();
    return row?.n ?? 0;
  }

  /**
   * The sequence count gaps, per APID, among the packets with spacecraft time in [from, to]: packets between the
   * first and the last of the span that never arrived (a gap before the first packet of the span or after its
   * last is not seen: widen the span).
   */
  gaps(span: { readonly from: number; readonly to: number }): SequenceGap[] {
    this.flush();
    const rows = this.db
      .prepare<[number, number], { apid: number; seq: number; time_ms: number }>(
        'SELECT apid, seq, time_ms FROM tm WHERE time_ms >= ? AND time_ms <= ? ORDER BY apid, time_ms, id',
      )
      .all(span.from, span.to);
    const gaps: SequenceGap[] = [];
    let start = 0;
    while (start < rows.length) {
      const apid = (rows[start] as (typeof rows)[number]).apid;
      let end = start;
      while (end < rows.length && (rows[end] as (typeof rows)[number]).apid === apid) end++;
      gaps.push(...sequenceGaps(apid, rows.slice(start, end)));
      start = end;
    }
    return gaps;
  }

  close(): void {
    if (!this.db.open) return;
    this.flush();
    this.db.close();
  }
}

/**
 * Gaps in one APID's packets, given in time order. Packets stamped with the same time (one on-board turn) are put
 * in sequence order counting from the packet before them, so a 14-bit wrap inside one turn is no gap; a repeated
 * count (a duplicate) is none either.
 */
export function sequenceGaps(
  apid: number,
  packets: ReadonlyArray<{ readonly seq: number; readonly time_ms: number }>,
): SequenceGap[] {
  const ordered: Array<{ seq: number; time: number }> = [];
  let i = 0;
  while (i < packets.length) {
    const time = (packets[i] as (typeof packets)[number]).time_ms;
    let j = i;
    while (j < packets.length && (packets[j] as (typeof packets)[number]).time_ms === time) j++;
    const seqs = packets.slice(i, j).map((p) => p.seq);
    const previous = ordered.at(-1);
    const base = previous ? (previous.seq + 1) % SEQUENCE_MODULO : wrapStart(seqs);
    seqs.sort(
      (a, b) =>
        ((a - base + SEQUENCE_MODULO) % SEQUENCE_MODULO) - ((b - base + SEQUENCE_MODULO) % SEQUENCE_MODULO),
    );
    for (const seq of seqs) ordered.push({ seq, time });
    i = j;
  }
  const gaps: SequenceGap[] = [];
  for (let k = 1; k < ordered.length; k++) {
    const a = ordered[k - 1] as { seq: number; time: number };
    const b = ordered[k] as { seq: number; time: number };
    if (b.seq === a.seq) continue;
    const missing = (b.seq - a.seq - 1 + SEQUENCE_MODULO) % SEQUENCE_MODULO;
    if (missing === 0) continue;
    gaps.push({
      apid,
      after: a.seq,
      before: b.seq,
      missing,
      fromMs: a.time,
      toMs: b.time,
      restarted: b.seq === 0,
    });
  }
  return gaps;
}

/** Where a set of counts with no predecessor starts: just after the widest hole in the circle of counts. */
function wrapStart(seqs: readonly number[]): number {
  const sorted = [...seqs].sort((a, b) => a - b);
  let start = sorted[0] ?? 0;
  let widest = -1;
  for (let k = 0; k < sorted.length; k++) {
    const here = sorted[k] as number;
    const next = k + 1 < sorted.length ? (sorted[k + 1] as number) : (sorted[0] as number) + SEQUENCE_MODULO;
    if (next - here > widest) {
      widest = next - here;
      start = next % SEQUENCE_MODULO;
    }
  }
  return start;
}

// --- Export -------------------------------------------------------------------------------------------------

const RELATIVE = /^-(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A time given on the command line, as UTC ms: `now`, relative to `now` (`-90s`, `-10m`, `-2h`, `-1d`), or
 * ISO-8601 (`2025-03-01T12:00:00Z`; without a zone, UTC). Undefined when it is none of those.
 */
export function parseTime(text: string, now: number): number | undefined {
  const trimmed = text.trim();
  if (trimmed === 'now') return now;
  const relative = RELATIVE.exec(trimmed);
  if (relative) return now - Number(relative[1]) * (UNIT_MS[relative[2] as string] as number);
  if (!/^\d{4}-\d{2}-\d{2}([T ]|$)/.test(trimmed)) return undefined;
  const iso = trimmed.replace(' ', 'T');
  // A date alone is UTC to Date.parse; a date and time without a zone would be local time: make it UTC.
  const zoned = iso.includes('T') && !/(Z|[+-]\d{2}:?\d{2})$/i.test(iso) ? `${iso}Z` : iso;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? undefined : ms;
}

export const CSV_HEADER = 'time,kind,name,value,severity,message';

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A value of an archived record as CSV text: full precision, hex for bytes (already text in the archive). */
function csvValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function isoOf(time: number): string {
  return new Date(time).toISOString();
}

/**
 * CSV rows of archived packets (no header): one per telemetry value of a housekeeping report (kind `tlm`) or a
 * parameter report (`param`), one per event (`event`: name, severity, message), one per verification report
 * (`verification`: the request ID as name, the stage as value, `ok` or the failure as message). Other records
 * have no CSV form (export them as JSON).
 */
export function csvRows(packet: ArchivedTm): string[] {
  const time = isoOf(packet.time);
  const row = (...fields: string[]) => [time, ...fields].map(csvField).join(',');
  const { record } = packet;
  switch (record.kind) {
    case 'housekeeping':
      return Object.entries(record.values).map(([name, value]) => row('tlm', name, csvValue(value), '', ''));
    case 'parameters':
      return Object.entries(record.values).map(([name, value]) =>
        row('param', name, csvValue(value), '', ''),
      );
    case 'event':
      return [row('event', record.name, '', record.severity, record.message)];
    case 'verification':
      return [
        row(
          'verification',
          record.requestId.toString(16).padStart(8, '0'),
          record.stage,
          '',
          record.success ? 'ok' : `FAILED (code ${record.code}) ${record.reason ?? ''}`.trimEnd(),
        ),
      ];
    default:
      return [];
  }
}

/** One JSON object (one line) of an archived packet: time, APID, sequence count, service, subtype, VC, record, raw packet in hex. */
export function jsonLine(packet: ArchivedTm): string {
  return JSON.stringify({
    time: isoOf(packet.time),
    timeMs: packet.time,
    apid: packet.apid,
    sequenceCount: packet.sequenceCount,
    service: packet.service,
    subtype: packet.subtype,
    ...(packet.vcid !== undefined ? { vcid: packet.vcid } : {}),
    record: packet.record,
    packet: Buffer.from(packet.packet).toString('hex'),
  });
}

/** Export text of archived packets: CSV with its header, or JSON lines. Ends with a newline unless empty JSON. */
export function formatExport(packets: readonly ArchivedTm[], format: 'csv' | 'json'): string {
  const lines = format === 'csv' ? [CSV_HEADER, ...packets.flatMap(csvRows)] : packets.map(jsonLine);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** A gap as a line of text: `APID 0x010: 3 packets missing (counts 101..103) between T1 and T2`. */
export function describeGap(gap: SequenceGap): string {
  const first = (gap.after + 1) % SEQUENCE_MODULO;
  const last = (gap.before - 1 + SEQUENCE_MODULO) % SEQUENCE_MODULO;
  const counts = gap.missing === 1 ? `count ${first}` : `counts ${first}..${last}`;
  return `APID 0x${gap.apid.toString(16).padStart(3, '0')}: ${gap.missing} packet${gap.missing === 1 ? '' : 's'} missing (${counts}) between ${isoOf(gap.fromMs)} and ${isoOf(gap.toMs)}${gap.restarted ? ' (counts restart at 0: the node rebooted?)' : ''}`;
}

/**
 * How far each playback span reaches beyond the packets around a gap. The recorder files packets under its
 * clock's time, which a packet's CUC stamp rounds to 1/65536 s: without the margin, packets stamped in the same
 * millisecond as the one after the gap could fall outside the span. Packets played back twice are stored once.
 */
export const PLAYBACK_MARGIN_MS = 1;

/**
 * The spans to ask the on-board recorder for, one per run of overlapping gaps (a playback by time covers every
 * APID, so gaps of several APIDs at the same time need one request), widened by PLAYBACK_MARGIN_MS each side.
 */
export function playbackSpans(
  gaps: readonly SequenceGap[],
): Array<{ fromMs: number; toMs: number; gaps: number }> {
  const sorted = [...gaps].sort((a, b) => a.fromMs - b.fromMs);
  const spans: Array<{ fromMs: number; toMs: number; gaps: number }> = [];
  for (const gap of sorted) {
    const fromMs = gap.fromMs - PLAYBACK_MARGIN_MS;
    const toMs = gap.toMs + PLAYBACK_MARGIN_MS;
    const last = spans.at(-1);
    if (last && fromMs <= last.toMs) {
      last.toMs = Math.max(last.toMs, toMs);
      last.gaps += 1;
    } else spans.push({ fromMs, toMs, gaps: 1 });
  }
  return spans;
}
