/**
 * The state directory: everything that must survive a restart or a `kill -9` (parameters, boot count,
 * anti-replay counters, FARM state, the schedule, mode, the telemetry recorder). One SQLite database in WAL mode
 * with synchronous=FULL: a `put` that has returned is on disk, so nothing acknowledged is lost, and a crash
 * mid-write leaves the last committed state.
 *
 * Record series (`series(name)`) are the exception to "durable on return": they are ordered logs of many small
 * records (the recorder's TM packets), and one fsync per record would cost more than the records. An `append`
 * only queues the record in memory; `flush` writes everything queued in one transaction, and a record is
 * *stored* (survives `kill -9`) once the `flush` that wrote it has returned. Reads see queued records too.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** One record of a series. */
export interface StoredRecord {
  /** Insertion number: unique in the store, increasing with each append; orders records of equal time. */
  readonly seq: number;
  /** Mission time of the record (UTC ms). */
  readonly timeMs: number;
  /** A small integer the owner chooses (the recorder: the packet's APID). */
  readonly tag: number;
  readonly data: Uint8Array;
}

/** Where a paged read stopped: the next page starts after this record. */
export interface RecordCursor {
  readonly timeMs: number;
  readonly seq: number;
}

export interface FlushResult {
  /** Records made durable by this flush. */
  readonly stored: number;
  /** Oldest records deleted to keep within the size asked for (0 without one). */
  readonly deleted: number;
  readonly deletedBytes: number;
}

/**
 * A durable ordered log of records, kept in time order (then insertion order). Appends are queued in memory and
 * made durable together by `flush` (one transaction, one fsync); every read and count includes queued records.
 */
export interface RecordSeries {
  readonly name: string;
  /** Queues a record (a copy of `data`); returns its sequence number. Durable once a later `flush` returns. */
  append(timeMs: number, tag: number, data: Uint8Array): number;
  /** Records appended and not yet durable. */
  pending(): number;
  /**
   * Writes every queued record in one transaction. With `maxBytes`, then deletes the oldest records (time order)
   * in the same transaction until the data of the series is at most `maxBytes` octets.
   */
  flush(maxBytes?: number): FlushResult;
  /**
   * Records with `fromMs <= timeMs <= toMs`, in time order then insertion order, at most `limit` of them,
   * starting after `after` (the last record of the previous page) when given.
   */
  range(fromMs: number, toMs: number, limit?: number, after?: RecordCursor): StoredRecord[];
  /** Records in the series, queued ones included. */
  count(): number;
  /** Octets of record data in the series (not counting the database's own overhead), queued ones included. */
  sizeBytes(): number;
  /** Deletes the `count` oldest records (time order), flushing queued ones in the same transaction. */
  deleteOldest(count: number): { readonly deleted: number; readonly deletedBytes: number };
}

export interface StateStore {
  get(namespace: string, key: string): Uint8Array | undefined;
  put(namespace: string, key: string, value: Uint8Array): void;
  delete(namespace: string, key: string): void;
  entries(namespace: string): Array<[key: string, value: Uint8Array]>;
  /** Runs `work` atomically: every put in it lands, or none does. */
  transaction<R>(work: () => R): R;
  /** The record series of that name (created on first use; the same object on every call). */
  series(name: string): RecordSeries;
  /** Flushes every series, then closes. */
  close(): void;
  /** Where the state lives, for logs ('memory' for the in-memory store). */
  readonly location: string;
}

export const STATE_DB_FILE = 'state.db';

/** Opens (creating if needed) the state database in `directory`. */
export function openStateStore(directory: string): StateStore {
  mkdirSync(directory, { recursive: true });
  const path = join(directory, STATE_DB_FILE);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (ns, key)) WITHOUT ROWID',
  );
  const getStmt = db.prepare<[string, string], { value: Buffer }>(
    'SELECT value FROM kv WHERE ns = ? AND key = ?',
  );
  const putStmt = db.prepare<[string, string, Uint8Array]>(
    'INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value',
  );
  const deleteStmt = db.prepare<[string, string]>('DELETE FROM kv WHERE ns = ? AND key = ?');
  const entriesStmt = db.prepare<[string], { key: string; value: Buffer }>(
    'SELECT key, value FROM kv WHERE ns = ? ORDER BY key',
  );
  const transaction = <R>(work: () => R): R => db.transaction(work)();
  const series = seriesRegistry(sqliteRecords(db, transaction));
  return {
    location: path,
    get(namespace, key) {
      const row = getStmt.get(namespace, key);
      return row ? new Uint8Array(row.value) : undefined;
    },
    put(namespace, key, value) {
      putStmt.run(namespace, key, value);
    },
    delete(namespace, key) {
      deleteStmt.run(namespace, key);
    },
    entries(namespace) {
      return entriesStmt.all(namespace).map((row) => [row.key, new Uint8Array(row.value)]);
    },
    transaction,
    series: series.get,
    close() {
      if (!db.open) return;
      series.flushAll();
      db.close();
    },
  };
}

/** A store in memory, for unit tests and throwaway runs. */
export function memoryStateStore(): StateStore {
  const data = new Map<string, Map<string, Uint8Array>>();
  const series = seriesRegistry(memoryRecords());
  const space = (ns: string) => {
    let map = data.get(ns);
    if (!map) {
      map = new Map();
      data.set(ns, map);
    }
    return map;
  };
  return {
    location: 'memory',
    get: (ns, key) => space(ns).get(key)?.slice(),
    put: (ns, key, value) => {
      space(ns).set(key, value.slice());
    },
    delete: (ns, key) => {
      space(ns).delete(key);
    },
    entries: (ns) =>
      [...space(ns).entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.slice()]),
    transaction: (work) => work(),
    series: series.get,
    close: () => series.flushAll(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Record series

/** A page of the oldest records: sequence number and data size. */
interface RecordSize {
  readonly seq: number;
  readonly bytes: number;
}

/** What a store keeps of its series durably; the queue in memory is RecordLog's. */
interface RecordBackend {
  /** The highest sequence number in the store (0 when empty). */
  maxSeq(): number;
  stats(series: string): { count: number; bytes: number };
  insert(series: string, records: readonly StoredRecord[]): void;
  range(series: string, fromMs: number, toMs: number, limit: number, after?: RecordCursor): StoredRecord[];
  oldest(series: string, limit: number): RecordSize[];
  /** Deletes the `count` oldest records (time, then sequence order). */
  removeOldest(series: string, count: number): void;
  transaction<R>(work: () => R): R;
}

/** Time order, then insertion order. */
function compareRecords(a: RecordCursor, b: RecordCursor): number {
  return a.timeMs - b.timeMs || a.seq - b.seq;
}

const NOTHING: FlushResult = { stored: 0, deleted: 0, deletedBytes: 0 };
/** Rows read at a time while looking for what to delete. */
const TRIM_PAGE = 1024;

/** A series: the queue of appended records in memory, the rest in its backend. */
class RecordLog implements RecordSeries {
  private queued: StoredRecord[] = [];
  private records: number;
  private bytes: number;

  constructor(
    readonly name: string,
    private readonly backend: RecordBackend,
    private readonly nextSeq: () => number,
  ) {
    const stats = backend.stats(name);
    this.records = stats.count;
    this.bytes = stats.bytes;
  }

  append(timeMs: number, tag: number, data: Uint8Array): number {
    if (!Number.isFinite(timeMs)) throw new RangeError(`record time ${timeMs} is not a finite number`);
    if (!Number.isSafeInteger(tag)) throw new RangeError(`record tag ${tag} is not an integer`);
    const seq = this.nextSeq();
    this.queued.push({ seq, timeMs, tag, data: data.slice() });
    this.records += 1;
    this.bytes += data.length;
    return seq;
  }

  pending(): number {
    return this.queued.length;
  }

  count(): number {
    return this.records;
  }

  sizeBytes(): number {
    return this.bytes;
  }

  flush(maxBytes?: number): FlushResult {
    const over = maxBytes !== undefined && this.bytes > maxBytes;
    if (this.queued.length === 0 && !over) return NOTHING;
    return this.commit((bytes) => (maxBytes === undefined ? 0 : Math.max(0, bytes - maxBytes)), Infinity);
  }

  deleteOldest(count: number): { readonly deleted: number; readonly deletedBytes: number } {
    if (!(count > 0) && this.queued.length === 0) return { deleted: 0, deletedBytes: 0 };
    const { deleted, deletedBytes } = this.commit(() => Infinity, Math.max(0, Math.floor(count)));
    return { deleted, deletedBytes };
  }

  range(fromMs: number, toMs: number, limit = Infinity, after?: RecordCursor): StoredRecord[] {
    if (!(limit > 0) || fromMs > toMs) return [];
    const durable = this.backend.range(this.name, fromMs, toMs, limit, after);
    const queued = this.queued.filter(
      (r) => r.timeMs >= fromMs && r.timeMs <= toMs && (!after || compareRecords(r, after) > 0),
    );
    if (queued.length === 0) return durable;
    const merged = [...durable, ...queued.map((r) => ({ ...r, data: r.data.slice() }))].sort(compareRecords);
    return Number.isFinite(limit) ? merged.slice(0, limit) : merged;
  }

  /**
   * One transaction: the queued records, then deletion of the oldest ones while `excess(bytes left)` octets are
   * still to be freed and fewer than `maxCount` were deleted. The counters change only once it committed.
   */
  private commit(excess: (bytes: number) => number, maxCount: number): FlushResult {
    const batch = this.queued;
    let deleted = 0;
    let deletedBytes = 0;
    this.backend.transaction(() => {
      if (batch.length > 0) this.backend.insert(this.name, batch);
      while (deleted < maxCount && excess(this.bytes - deletedBytes) > 0) {
        const page = this.backend.oldest(this.name, Math.min(TRIM_PAGE, maxCount - deleted));
        if (page.length === 0) break;
        let take = 0;
        for (const row of page) {
          if (excess(this.bytes - deletedBytes) <= 0) break;
          take += 1;
          deletedBytes += row.bytes;
        }
        this.backend.removeOldest(this.name, take);
        deleted += take;
      }
    });
    this.queued = this.queued.length === batch.length ? [] : this.queued.slice(batch.length);
    this.records -= deleted;
    this.bytes -= deletedBytes;
    return { stored: batch.length, deleted, deletedBytes };
  }
}

/** The series of one store, created on first use, with sequence numbers shared by all of them. */
function seriesRegistry(backend: RecordBackend) {
  const all = new Map<string, RecordLog>();
  let lastSeq: number | undefined;
  const nextSeq = () => {
    lastSeq = (lastSeq ?? backend.maxSeq()) + 1;
    return lastSeq;
  };
  return {
    get(name: string): RecordSeries {
      let log = all.get(name);
      if (!log) {
        log = new RecordLog(name, backend, nextSeq);
        all.set(name, log);
      }
      return log;
    },
    flushAll(): void {
      for (const log of all.values()) log.flush();
    },
  };
}

function sqliteRecords(db: Database.Database, transaction: <R>(work: () => R) => R): RecordBackend {
  // Series are numbered (record_series) so that each row and index entry carries a small integer, not the name.
  db.exec('CREATE TABLE IF NOT EXISTS record_series (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)');
  db.exec(
    'CREATE TABLE IF NOT EXISTS records (series INTEGER NOT NULL, seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, tag INTEGER NOT NULL, data BLOB NOT NULL)',
  );
  db.exec('CREATE INDEX IF NOT EXISTS records_by_time ON records (series, time)');
  const findSeriesStmt = db.prepare<[string], { id: number }>('SELECT id FROM record_series WHERE name = ?');
  const addSeriesStmt = db.prepare<[string]>('INSERT INTO record_series (name) VALUES (?)');
  const ids = new Map<string, number>();
  const idOf = (name: string): number => {
    let id = ids.get(name);
    if (id === undefined) {
      id = findSeriesStmt.get(name)?.id ?? Number(addSeriesStmt.run(name).lastInsertRowid);
      ids.set(name, id);
    }
    return id;
  };
  type Row = { seq: number; time: number; tag: number; data: Buffer };
  const toRecord = (row: Row): StoredRecord => ({
    seq: row.seq,
    timeMs: row.time,
    tag: row.tag,
    data: new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength),
  });
  const maxSeqStmt = db.prepare<[], { seq: number }>('SELECT COALESCE(MAX(seq), 0) AS seq FROM records');
  const statsStmt = db.prepare<[number], { count: number; bytes: number }>(
    'SELECT COUNT(*) AS count, COALESCE(SUM(length(data)), 0) AS bytes FROM records WHERE series = ?',
  );
  const insertStmt = db.prepare<[number, number, number, number, Uint8Array]>(
    'INSERT INTO records (series, seq, time, tag, data) VALUES (?, ?, ?, ?, ?)',
  );
  const rangeStmt = db.prepare<[number, number, number, number], Row>(
    'SELECT seq, time, tag, data FROM records WHERE series = ? AND time >= ? AND time <= ? ORDER BY time, seq LIMIT ?',
  );
  // With a cursor the lower bound is at least the cursor's time, so "after it" is: a later time, or a later seq.
  const rangeAfterStmt = db.prepare<[number, number, number, number, number, number], Row>(
    'SELECT seq, time, tag, data FROM records WHERE series = ? AND time >= ? AND time <= ? AND (time > ? OR seq > ?) ORDER BY time, seq LIMIT ?',
  );
  const oldestStmt = db.prepare<[number, number], RecordSize>(
    'SELECT seq, length(data) AS bytes FROM records WHERE series = ? ORDER BY time, seq LIMIT ?',
  );
  const removeOldestStmt = db.prepare<[number, number]>(
    'DELETE FROM records WHERE seq IN (SELECT seq FROM records WHERE series = ? ORDER BY time, seq LIMIT ?)',
  );
  const sqlLimit = (limit: number) => (Number.isFinite(limit) ? Math.floor(limit) : -1);
  return {
    maxSeq: () => maxSeqStmt.get()?.seq ?? 0,
    stats: (series) => statsStmt.get(idOf(series)) ?? { count: 0, bytes: 0 },
    insert(series, records) {
      const id = idOf(series);
      for (const r of records) insertStmt.run(id, r.seq, r.timeMs, r.tag, r.data);
    },
    range(series, fromMs, toMs, limit, after) {
      const rows = after
        ? rangeAfterStmt.all(
            idOf(series),
            Math.max(fromMs, after.timeMs),
            toMs,
            after.timeMs,
            after.seq,
            sqlLimit(limit),
          )
        : rangeStmt.all(idOf(series), fromMs, toMs, sqlLimit(limit));
      return rows.map(toRecord);
    },
    oldest: (series, limit) => oldestStmt.all(idOf(series), sqlLimit(limit)),
    removeOldest(series, count) {
      if (count > 0) removeOldestStmt.run(idOf(series), count);
    },
    transaction,
  };
}

function memoryRecords(): RecordBackend {
  const data = new Map<string, StoredRecord[]>();
  const of = (series: string) => {
    let list = data.get(series);
    if (!list) {
      list = [];
      data.set(series, list);
    }
    return list;
  };
  /** Index of the first record not before `at` (binary search; the list is kept sorted). */
  const lowerBound = (list: readonly StoredRecord[], at: RecordCursor) => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareRecords(list[mid] as StoredRecord, at) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  let maxSeq = 0;
  return {
    maxSeq: () => maxSeq,
    stats(series) {
      const list = of(series);
      return { count: list.length, bytes: list.reduce((sum, r) => sum + r.data.length, 0) };
    },
    insert(series, records) {
      const list = of(series);
      for (const r of records) {
        const last = list.at(-1);
        if (!last || compareRecords(last, r) < 0) list.push(r);
        else list.splice(lowerBound(list, r), 0, r);
        maxSeq = Math.max(maxSeq, r.seq);
      }
    },
    range(series, fromMs, toMs, limit, after) {
      const list = of(series);
      const start =
        after && after.timeMs >= fromMs
          ? lowerBound(list, { timeMs: after.timeMs, seq: after.seq + 1 })
          : lowerBound(list, { timeMs: fromMs, seq: -Infinity });
      const out: StoredRecord[] = [];
      for (let i = start; i < list.length && out.length < limit; i++) {
        const r = list[i] as StoredRecord;
        if (r.timeMs > toMs) break;
        out.push({ ...r, data: r.data.slice() });
      }
      return out;
    },
    oldest: (series, limit) =>
      of(series)
        .slice(0, limit)
        .map((r) => ({ seq: r.seq, bytes: r.data.length })),
    removeOldest(series, count) {
      of(series).splice(0, count);
    },
    transaction: (work) => work(),
  };
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Small helpers for counters kept in the store (boot count and the like). */
export function readCounter(store: StateStore, namespace: string, key: string): number {
  const raw = store.get(namespace, key);
  if (!raw) return 0;
  const value = Number(fromUtf8.decode(raw));
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

export function writeCounter(store: StateStore, namespace: string, key: string, value: number): void {
  store.put(namespace, key, utf8.encode(String(value)));
}
