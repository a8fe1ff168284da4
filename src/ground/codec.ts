/**
 * The ground side of the packet layer: telecommands built from the dictionary, telemetry packets decoded into
 * records a person or a script can read. Shares only the dictionary types (core) and the wire formats (link)
 * with the flight software.
 */
import type { CommandEntry, MissionDictionary } from '../core/dictionary.js';
import { packRecord, unpackRecord, unpackValue } from '../core/pack.js';
import { cucToUnixMs } from '../core/time.js';
import { checkValue } from '../core/types.js';
import { AckFlags, encodeTcPacket, type TmPacket } from '../link/pus.js';
import {
  decodeScheduleSummary,
  decodeVerification,
  encodePerformFunction,
  Service,
} from '../link/pus-services.js';

export interface TcOptions {
  readonly sequenceCount: number;
  readonly ackFlags?: number;
  /** The ground station's ID: verification reports come back addressed to it. */
  readonly sourceId?: number;
}

/** TC(8,1) for a dictionary command; the arguments are checked first (the caller shows the errors). */
export function buildCommand(
  dictionary: MissionDictionary,
  entry: CommandEntry,
  args: Readonly<Record<string, unknown>>,
  options: TcOptions,
): { ok: true; packet: Uint8Array } | { ok: false; error: string } {
  const problems: string[] = [];
  for (const [name, type] of Object.entries(entry.args)) {
    const checked = checkValue(type, args[name]);
    if (!checked.ok) problems.push(`${name}: ${checked.error.message}`);
  }
  for (const name of Object.keys(args))
    if (!(name in entry.args)) problems.push(`${name} is not an argument`);
  if (problems.length > 0) return { ok: false, error: `${entry.name}: ${problems.join('; ')}` };
  return {
    ok: true,
    packet: encodeTcPacket({
      apid: dictionary.mission.apid,
      sequenceCount: options.sequenceCount & 0x3fff,
      ackFlags: options.ackFlags ?? AckFlags.all,
      service: Service.functionManagement,
      subtype: 1,
      sourceId: options.sourceId ?? 0,
      appData: encodePerformFunction(entry.opcode, packRecord(entry.args, args)),
    }),
  };
}

/** What a TM packet says, decoded with the dictionary. */
export type TmRecord =
  | {
      readonly kind: 'verification';
      readonly stage: 'acceptance' | 'start' | 'progress' | 'completion' | 'routing';
      readonly success: boolean;
      readonly requestId: number;
      readonly code?: number;
      readonly reason?: string;
    }
  | {
      readonly kind: 'event';
      readonly id: number;
      readonly name: string;
      readonly severity: string;
      readonly args: Record<string, unknown>;
      readonly message: string;
    }
  | { readonly kind: 'parameters'; readonly values: Record<string, unknown> }
  | { readonly kind: 'housekeeping'; readonly structureId: number; readonly values: Record<string, unknown> }
  | { readonly kind: 'schedule'; readonly entries: Array<{ releaseMs: number; requestId: number }> }
  | { readonly kind: 'alive' }
  | { readonly kind: 'other'; readonly service: number; readonly subtype: number; readonly data: string }
  | {
      readonly kind: 'undecodable';
      readonly service: number;
      readonly subtype: number;
      readonly error: string;
    };

const STAGES = ['acceptance', 'start', 'progress', 'completion'] as const;
const SEVERITY = ['', 'info', 'low', 'medium', 'high'];

export interface DecodedTm {
  readonly time: number;
  readonly packet: TmPacket;
  readonly record: TmRecord;
}

/** Housekeeping structures the ground knows: structure ID to qualified telemetry names, in packing order. */
export type StructureMap = ReadonlyMap<number, readonly string[]>;

export function decodeTm(
  dictionary: MissionDictionary,
  packet: TmPacket,
  structures?: StructureMap,
): DecodedTm {
  return { time: cucToUnixMs(packet.time), packet, record: decodeRecord(dictionary, packet, structures) };
}

function decodeRecord(dictionary: MissionDictionary, packet: TmPacket, structures?: StructureMap): TmRecord {
  const { service, subtype } = packet;
  const data = packet.sourceData;
  const fail = (error: string): TmRecord => ({ kind: 'undecodable', service, subtype, error });
  switch (service) {
    case Service.verification: {
      const v = decodeVerification(subtype, data);
      if (!v.ok) return fail(v.error);
      const stage = subtype === 10 ? 'routing' : STAGES[Math.floor((subtype - 1) / 2)];
      if (!stage) return fail(`verification subtype ${subtype}`);
      return {
        kind: 'verification',
        stage,
        success: subtype % 2 === 1,
        requestId: v.value.requestId,
        ...(v.value.code !== undefined ? { code: v.value.code, reason: v.value.reason ?? '' } : {}),
      };
    }
    case Service.test:
      return subtype === 2 ? { kind: 'alive' } : fail(`test subtype ${subtype}`);
    case Service.events: {
      if (data.length < 2) return fail('event report without an ID');
      const id = ((data[0] as number) << 8) | (data[1] as number);
      const entry = dictionary.eventById.get(id);
      if (!entry) return fail(`unknown event ID ${id}`);
      const args = unpackRecord(entry.args, data, 2);
      if (!args.ok) return fail(`${entry.name}: ${args.error}`);
      const message = entry.message
        ? entry.message.replace(/\{(\w+)\}/g, (whole, key: string) =>
            key in args.value ? String(args.value[key]) : whole,
          )
        : entry.name;
      return {
        kind: 'event',
        id,
        name: entry.name,
        severity: SEVERITY[subtype] ?? String(subtype),
        args: args.value,
        message,
      };
    }
    case Service.parameters: {
      if (subtype !== 2) return fail(`parameter subtype ${subtype}`);
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      if (data.length < 2) return fail('parameter report without a count');
      const values: Record<string, unknown> = {};
      let at = 2;
      for (let i = 0; i < view.getUint16(0); i++) {
        if (at + 2 > data.length) return fail('parameter report truncated');
        const entry = dictionary.paramById.get(view.getUint16(at));
        if (!entry) return fail(`unknown parameter ID ${view.getUint16(at)}`);
        const value = unpackValue(view, at + 2, entry.type);
        if (!value.ok) return fail(`${entry.name}: ${value.error}`);
        values[entry.name] = value.value;
        at = value.offset;
      }
      return { kind: 'parameters', values };
    }
    case Service.housekeeping: {
      if (subtype !== 25 || data.length < 2) return fail(`housekeeping subtype ${subtype}`);
      const structureId = ((data[0] as number) << 8) | (data[1] as number);
      const names = structures?.get(structureId);
      if (!names) return fail(`unknown housekeeping structure ${structureId}`);
      const types: Record<string, (typeof dictionary.telemetry)[number]['type']> = {};
      for (const name of names) {
        const entry = dictionary.telemetryByName.get(name);
        if (!entry) return fail(`structure ${structureId} names unknown ${name}`);
        types[name] = entry.type;
      }
      const values = unpackRecord(types, data, 2);
      if (!values.ok) return fail(`structure ${structureId}: ${values.error}`);
      return { kind: 'housekeeping', structureId, values: values.value };
    }
    case Service.scheduling: {
      if (subtype !== 13) return fail(`scheduling subtype ${subtype}`);
      const summary = decodeScheduleSummary(data);
      if (!summary.ok) return fail(summary.error);
      return {
        kind: 'schedule',
        entries: summary.value.map((e) => ({
          releaseMs: cucToUnixMs(e.releaseTime),
          requestId: e.requestId,
        })),
      };
    }
    default:
      return { kind: 'other', service, subtype, data: Buffer.from(data).toString('hex') };
  }
}
