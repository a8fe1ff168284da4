/**
 * The state directory: everything that must survive a restart or a `kill -9` (parameters, boot count,
 * anti-replay counters, FARM state, the schedule, mode). One SQLite database in WAL mode with synchronous=FULL:
 * a `put` that has returned is on disk, so nothing acknowledged is lost, and a crash mid-write leaves the last
 * committed state.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface StateStore {
  get(namespace: string, key: string): Uint8Array | undefined;
  put(namespace: string, key: string, value: Uint8Array): void;
  delete(namespace: string, key: string): void;
  entries(namespace: string): Array<[key: string, value: Uint8Array]>;
  /** Runs `work` atomically: every put in it lands, or none does. */
  transaction<R>(work: () => R): R;
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
    transaction(work) {
      return db.transaction(work)();
    },
    close() {
      if (db.open) db.close();
    },
  };
}

/** A store in memory, for unit tests and throwaway runs. */
export function memoryStateStore(): StateStore {
  const data = new Map<string, Map<string, Uint8Array>>();
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
    close: () => {},
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
