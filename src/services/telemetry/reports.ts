/**
 * Telemetry reports for the downlink, until the full telemetry service (declared housekeeping structures,
 * per-event enable and rate limits, recorder) replaces them: every event as PUS TM(5, severity), and every
 * component's telemetry as one housekeeping structure TM(3,25) at 1 Hz.
 */
import type { EventRecord, TelemetrySample } from '../../core/bus.js';
import { defineComponent, SEVERITY_SUBTYPE } from '../../core/component.js';
import { defaultHousekeepingStructures } from '../../core/dictionary.js';
import { packRecord } from '../../core/pack.js';
import type { DataType } from '../../core/types.js';
import { Service } from '../../link/pus-services.js';
import { Priority, tmSourceFor } from '../tm-source.js';

/** A value to pack before a parameter has been sampled: zero, false, the first label, empty. */
function placeholder(type: DataType): unknown {
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

export const telemetryReports = defineComponent({
  name: 'tmReports',
  description: 'Events as TM(5,x) and per-component housekeeping as TM(3,25) on the downlink',
  setup(ctx) {
    const { dictionary } = ctx.system;
    const tm = tmSourceFor(ctx.bus, dictionary.mission.apid, ctx.clock);
    const latest = new Map<string, unknown>();
    const samples = ctx.bus.telemetry$.subscribe((s: TelemetrySample) => latest.set(s.name, s.value));
    const events = ctx.bus.events$.subscribe((event: EventRecord) => {
      const entry = dictionary.eventById.get(event.id);
      if (!entry) return;
      const args = packRecord(entry.args, event.args);
      const data = new Uint8Array(2 + args.length);
      data[0] = event.id >> 8;
      data[1] = event.id & 0xff;
      data.set(args, 2);
      tm.emit({
        service: Service.events,
        subtype: SEVERITY_SUBTYPE[event.severity],
        data,
        priority: event.severity === 'high' ? Priority.highEvent : Priority.event,
      });
    });
    const structures = [...defaultHousekeepingStructures(dictionary)].map(([id, names]) => {
      const types = Object.fromEntries(
        names.map((n) => [n, dictionary.telemetryByName.get(n)?.type as DataType]),
      );
      return { id, names, types };
    });
    ctx.every('1Hz', () => {
      for (const structure of structures) {
        if (!structure.names.some((n) => latest.has(n))) continue;
        const values = Object.fromEntries(
          structure.names.map((n) => [n, latest.get(n) ?? placeholder(structure.types[n] as DataType)]),
        );
        const packed = packRecord(structure.types, values);
        const data = new Uint8Array(2 + packed.length);
        data[0] = structure.id >> 8;
        data[1] = structure.id & 0xff;
        data.set(packed, 2);
        tm.emit({ service: Service.housekeeping, subtype: 25, data, priority: Priority.housekeeping });
      }
    });
    return {
      stop: () => {
        samples.unsubscribe();
        events.unsubscribe();
      },
    };
  },
});
