/**
 * Housekeeping (PUS service 3): the structures of the dictionary, sampled from the bus at their intervals on the
 * mission clock and packed as TM(3,25) (structure ID, then each parameter in declaration order). The ground
 * enables and disables them (3,5 / 3,6), asks for one at once (3,27) and changes intervals (3,31); those changes
 * are kept in the state directory. The dictionary's CRC-32 is reported here, so the ground can check its copy.
 */
import type { TelemetrySample } from '../../core/bus.js';
import { defineComponent, FailureCode } from '../../core/component.js';
import type { HousekeepingEntry } from '../../core/dictionary.js';
import { packRecord } from '../../core/pack.js';
import { type DataType, u32 } from '../../core/types.js';
import { Service } from '../../link/pus-services.js';
import { knownIds, registerPusService } from '../pus-registry.js';
import { Priority, tmSourceFor } from '../tm-source.js';

/** A value to pack before a parameter has been sampled: zero, false, the first label, empty. */
export function placeholder(type: DataType): unknown {
  switch (type.kind) {
    case 'bool':
      return false;
    case 'enum':
      return type.values[0];
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'u64':
    case 'i64':
      return 0n;
    default:
      return Math.max(0, type.min ?? 0);
  }
}

interface StructureState {
  readonly entry: HousekeepingEntry;
  readonly types: Readonly<Record<string, DataType>>;
  enabled: boolean;
  intervalMs: number;
  /** Next report; undefined until something of the structure has been sampled (the grid starts then). */
  dueMs: number | undefined;
}

export const housekeeping = defineComponent({
  name: 'housekeeping',
  description:
    'PUS service 3: housekeeping structures at their intervals; enable, disable, one-shot, interval',
  telemetry: {
    dictionaryCrc: {
      id: 0x0701,
      type: u32(),
      description: 'CRC-32 of the mission dictionary (skynode dict)',
    },
    reportsSent: { id: 0x0702, type: u32(), description: 'TM(3,25) reports sent' },
    structuresEnabled: { id: 0x0703, type: u32(), description: 'Structures reported periodically' },
  },
  setup(ctx) {
    const { dictionary } = ctx.system;
    const tm = tmSourceFor(ctx.bus, dictionary.mission.apid, ctx.clock);
    const latest = new Map<string, unknown>();
    const samples = ctx.bus.telemetry$.subscribe((s: TelemetrySample) => latest.set(s.name, s.value));
    let reportsSent = 0;

    const stored = ctx.storage.get('structures');
    const saved = stored
      ? (JSON.parse(Buffer.from(stored).toString('utf8')) as Record<
          string,
          { enabled: boolean; intervalMs: number }
        >)
      : {};
    const structures = new Map<number, StructureState>();
    for (const entry of dictionary.housekeeping) {
      const types = Object.fromEntries(
        entry.parameters.map((n) => [n, dictionary.telemetryByName.get(n)?.type as DataType]),
      );
      const restored = saved[String(entry.id)];
      structures.set(entry.id, {
        entry,
        types,
        enabled: restored?.enabled ?? entry.enabled,
        intervalMs: restored?.intervalMs ?? entry.intervalMs,
        dueMs: undefined,
      });
    }
    const save = () => {
      const out: Record<string, { enabled: boolean; intervalMs: number }> = {};
      for (const [id, s] of structures) out[String(id)] = { enabled: s.enabled, intervalMs: s.intervalMs };
      ctx.storage.put('structures', Buffer.from(JSON.stringify(out)));
    };

    const report = (s: StructureState) => {
      const values = Object.fromEntries(
        s.entry.parameters.map((n) => [n, latest.get(n) ?? placeholder(s.types[n] as DataType)]),
      );
      const packed = packRecord(s.types, values);
      const data = new Uint8Array(2 + packed.length);
      data[0] = s.entry.id >> 8;
      data[1] = s.entry.id & 0xff;
      data.set(packed, 2);
      tm.emit({ service: Service.housekeeping, subtype: 25, data, priority: Priority.housekeeping });
      reportsSent += 1;
    };

    // Structures are checked on the 10 Hz group: an interval is kept to within 100 ms, on the mission clock.
    ctx.every('10Hz', () => {
      const now = ctx.clock.now();
      for (const s of structures.values()) {
        if (!s.enabled) continue;
        if (s.dueMs === undefined) {
          // Only once something of it has been sampled: no report of placeholders at start-up.
          if (!s.entry.parameters.some((n) => latest.has(n))) continue;
          s.dueMs = now;
        }
        if (now < s.dueMs) continue;
        report(s);
        // On a fixed grid; a structure that fell more than an interval behind starts a new grid rather than burst.
        s.dueMs += s.intervalMs;
        if (s.dueMs <= now) s.dueMs = now + s.intervalMs;
      }
    });
    ctx.every('1Hz', () => {
      ctx.tlm.dictionaryCrc(dictionary.crc32);
      ctx.tlm.reportsSent(reportsSent);
      ctx.tlm.structuresEnabled([...structures.values()].filter((s) => s.enabled).length);
    });

    const unregister = registerPusService(ctx.bus, Service.housekeeping, (tc) => {
      const ids = () => knownIds(tc.appData, (id) => structures.has(id), 'housekeeping structure');
      switch (tc.subtype) {
        case 5:
        case 6: {
          const parsed = ids();
          if (!parsed.ok) return parsed;
          return {
            ok: true,
            label: `TC(3,${tc.subtype})`,
            run: () => {
              for (const id of parsed.ids) {
                const s = structures.get(id) as StructureState;
                s.enabled = tc.subtype === 5;
                s.dueMs = undefined;
              }
              save();
              return { ok: true };
            },
          };
        }
        case 27: {
          const parsed = ids();
          if (!parsed.ok) return parsed;
          return {
            ok: true,
            label: 'TC(3,27)',
            run: () => {
              for (const id of parsed.ids) report(structures.get(id) as StructureState);
              return { ok: true };
            },
          };
        }
        case 31: {
          const data = tc.appData;
          const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
          if (data.length < 2)
            return { ok: false, code: FailureCode.badLength, reason: 'TC(3,31) without a count' };
          const count = view.getUint16(0);
          if (data.length !== 2 + 6 * count) {
            return {
              ok: false,
              code: FailureCode.badLength,
              reason: `${count} entries need ${2 + 6 * count} octets`,
            };
          }
          const changes: Array<[number, number]> = [];
          for (let i = 0; i < count; i++) {
            const id = view.getUint16(2 + 6 * i);
            const intervalMs = view.getUint32(4 + 6 * i);
            if (!structures.has(id)) {
              return {
                ok: false,
                code: FailureCode.unknownFunction,
                reason: `unknown housekeeping structure ID ${id}`,
              };
            }
            if (intervalMs < 100 || intervalMs > 86_400_000) {
              return {
                ok: false,
                code: FailureCode.argumentOutOfRange,
                reason: `interval ${intervalMs} ms of structure ${id} not in [100, 86400000]`,
              };
            }
            changes.push([id, intervalMs]);
          }
          return {
            ok: true,
            label: 'TC(3,31)',
            run: () => {
              for (const [id, intervalMs] of changes)
                (structures.get(id) as StructureState).intervalMs = intervalMs;
              save();
              return { ok: true };
            },
          };
        }
        default:
          return {
            ok: false,
            code: FailureCode.unknownService,
            reason: `housekeeping subtype ${tc.subtype} is not provided`,
          };
      }
    });

    return {
      stop: () => {
        samples.unsubscribe();
        unregister();
      },
    };
  },
});
