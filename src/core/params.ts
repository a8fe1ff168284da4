/**
 * On-board parameters: typed, range-checked values with defaults from the dictionary, set by command (PUS
 * service 20) or by the component itself, persisted in the state directory so that a restart keeps what the
 * ground set. A stored value that no longer fits its declaration (type or range changed in a new build) is
 * dropped for the default, and the drop is reported, never silently applied.
 */
import { BehaviorSubject, distinctUntilChanged, type Observable } from 'rxjs';
import type { MissionDictionary, ParamEntry } from './dictionary.js';
import { packRecord, unpackRecord } from './pack.js';
import type { StateStore } from './persistence.js';
import { type Checked, checkValue } from './types.js';

const NAMESPACE = 'params';
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export interface DiscardedValue {
  readonly name: string;
  readonly reason: string;
}

export type SetResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'unknown' | 'invalid'; readonly reason: string };

export class ParameterStore {
  private readonly values = new Map<string, BehaviorSubject<unknown>>();
  /** Stored values that were not restored at start-up, with why. */
  readonly discarded: readonly DiscardedValue[];

  constructor(
    private readonly dictionary: MissionDictionary,
    private readonly store: StateStore,
  ) {
    const discarded: DiscardedValue[] = [];
    for (const entry of dictionary.params) {
      const restored = this.restore(entry);
      if (restored !== undefined && !restored.ok)
        discarded.push({ name: entry.name, reason: restored.error.message });
      const value = restored?.ok ? restored.value : entry.default;
      this.values.set(entry.name, new BehaviorSubject<unknown>(value));
    }
    this.discarded = discarded;
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  get(name: string): unknown {
    const subject = this.values.get(name);
    if (!subject) throw new Error(`unknown parameter ${name}`);
    return subject.value;
  }

  /** Current value, then every change. */
  watch(name: string): Observable<unknown> {
    const subject = this.values.get(name);
    if (!subject) throw new Error(`unknown parameter ${name}`);
    return subject.pipe(distinctUntilChanged());
  }

  entry(name: string): ParamEntry | undefined {
    return this.dictionary.paramByName.get(name);
  }

  /** Validates, stores durably, then publishes. Returns why not on a bad name or value; never throws on input. */
  set(name: string, value: unknown): SetResult {
    const entry = this.dictionary.paramByName.get(name);
    const subject = this.values.get(name);
    if (!entry || !subject) return { ok: false, code: 'unknown', reason: `unknown parameter ${name}` };
    const checked = checkValue(entry.type, value);
    if (!checked.ok) return { ok: false, code: 'invalid', reason: `${name}: ${checked.error.message}` };
    this.store.put(NAMESPACE, key(entry), encode(entry, checked.value));
    subject.next(checked.value);
    return { ok: true };
  }

  setById(id: number, value: unknown): SetResult {
    const entry = this.dictionary.paramById.get(id);
    if (!entry) return { ok: false, code: 'unknown', reason: `unknown parameter ID 0x${id.toString(16)}` };
    return this.set(entry.name, value);
  }

  /** Back to the declared default, and forget the stored value. */
  reset(name: string): SetResult {
    const entry = this.dictionary.paramByName.get(name);
    const subject = this.values.get(name);
    if (!entry || !subject) return { ok: false, code: 'unknown', reason: `unknown parameter ${name}` };
    this.store.delete(NAMESPACE, key(entry));
    subject.next(entry.default);
    return { ok: true };
  }

  snapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.values].map(([name, subject]) => [name, subject.value]));
  }

  close(): void {
    for (const subject of this.values.values()) subject.complete();
  }

  private restore(entry: ParamEntry): Checked<unknown> | undefined {
    const raw = this.store.get(NAMESPACE, key(entry));
    if (raw === undefined) return undefined;
    // Stored form: the type's kind, a NUL, then the value packed as on the wire.
    const nul = raw.indexOf(0);
    const kind = nul > 0 ? fromUtf8.decode(raw.subarray(0, nul)) : '';
    if (kind !== entry.type.kind) {
      return {
        ok: false,
        error: { code: 'wrong-type', message: `stored as ${kind || '?'}, now ${entry.type.kind}` },
      };
    }
    const unpacked = unpackRecord({ value: entry.type }, raw, nul + 1);
    if (!unpacked.ok) return { ok: false, error: { code: 'wrong-type', message: unpacked.error } };
    return checkValue(entry.type, unpacked.value.value);
  }
}

function key(entry: ParamEntry): string {
  return entry.name;
}

function encode(entry: ParamEntry, value: unknown): Uint8Array {
  const kind = utf8.encode(entry.type.kind);
  const packed = packRecord({ value: entry.type }, { value });
  const out = new Uint8Array(kind.length + 1 + packed.length);
  out.set(kind, 0);
  out.set(packed, kind.length + 1);
  return out;
}
