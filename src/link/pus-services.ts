/**
 * The application data of the PUS services skynode speaks (PROTOCOL.md, "Services skynode accepts" and "Reports
 * skynode emits"): pure encoders and decoders shared by the flight software and the ground station. Values of
 * commands and parameters are packed per the dictionary (src/core/pack.ts); this module lays out the envelopes.
 */
import { CUC_LENGTH, type CucTime, readCuc, writeCuc } from '../core/time.js';
import { SPACE_PACKET_HEADER_LENGTH, spacePacketLength } from './space-packet.js';

export const Service = {
  verification: 1,
  housekeeping: 3,
  events: 5,
  functionManagement: 8,
  scheduling: 11,
  storage: 15,
  test: 17,
  parameters: 20,
} as const;

/** Subtypes of service 1 (verification). */
export const Verification = {
  acceptanceSuccess: 1,
  acceptanceFailure: 2,
  startSuccess: 3,
  startFailure: 4,
  progressSuccess: 5,
  progressFailure: 6,
  completionSuccess: 7,
  completionFailure: 8,
  routingFailure: 10,
} as const;

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: false });

/** Source data of a success report (1,1 / 1,3 / 1,5 / 1,7): the request ID. */
export function encodeVerificationSuccess(requestId: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, requestId >>> 0);
  return out;
}

/** Source data of a failure report: request ID, failure code, then the reason (UTF-8, 16-bit length first). */
export function encodeVerificationFailure(requestId: number, code: number, reason: string): Uint8Array {
  let text = utf8.encode(reason);
  if (text.length > 1000) text = text.subarray(0, 1000); // a reason is for a person; keep reports small
  const out = new Uint8Array(8 + text.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, requestId >>> 0);
  view.setUint16(4, code);
  view.setUint16(6, text.length);
  out.set(text, 8);
  return out;
}

export interface VerificationReport {
  readonly requestId: number;
  readonly code?: number;
  readonly reason?: string;
}

export function decodeVerification(subtype: number, data: Uint8Array): Parsed<VerificationReport> {
  if (data.length < 4) return { ok: false, error: `verification report of ${data.length} octets` };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const requestId = view.getUint32(0);
  if (subtype % 2 === 1) return { ok: true, value: { requestId } };
  if (data.length < 8) return { ok: false, error: 'failure report without code and reason' };
  const length = view.getUint16(6);
  if (8 + length > data.length) return { ok: false, error: 'failure reason longer than the report' };
  return {
    ok: true,
    value: { requestId, code: view.getUint16(4), reason: fromUtf8.decode(data.subarray(8, 8 + length)) },
  };
}

/** Application data of TC(8,1): the function ID, then the arguments already packed. */
export function encodePerformFunction(functionId: number, packedArgs: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + packedArgs.length);
  new DataView(out.buffer).setUint16(0, functionId);
  out.set(packedArgs, 2);
  return out;
}

export function decodePerformFunction(data: Uint8Array): Parsed<{ functionId: number; args: Uint8Array }> {
  if (data.length < 2) return { ok: false, error: 'TC(8,1) without a function ID' };
  return {
    ok: true,
    value: { functionId: ((data[0] as number) << 8) | (data[1] as number), args: data.subarray(2) },
  };
}

/** A list of 16-bit IDs with its count first: TC(20,1), TC(3,5/6/27), TC(5,5/6). */
export function encodeIdList(ids: readonly number[]): Uint8Array {
  const out = new Uint8Array(2 + 2 * ids.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, ids.length);
  ids.forEach((id, i) => {
    view.setUint16(2 + 2 * i, id);
  });
  return out;
}

export function decodeIdList(data: Uint8Array): Parsed<number[]> {
  if (data.length < 2) return { ok: false, error: 'no count of IDs' };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = view.getUint16(0);
  if (data.length !== 2 + 2 * count) {
    return { ok: false, error: `${count} IDs need ${2 + 2 * count} octets, ${data.length} given` };
  }
  return { ok: true, value: Array.from({ length: count }, (_, i) => view.getUint16(2 + 2 * i)) };
}

/** One entry of TC(11,4): a release time and a complete TC packet. */
export interface ScheduledTc {
  readonly releaseTime: CucTime;
  readonly packet: Uint8Array;
}

export function encodeScheduleInsert(entries: readonly ScheduledTc[]): Uint8Array {
  const size = 2 + entries.reduce((n, e) => n + CUC_LENGTH + e.packet.length, 0);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint16(0, entries.length);
  let at = 2;
  for (const entry of entries) {
    writeCuc(out, at, entry.releaseTime);
    out.set(entry.packet, at + CUC_LENGTH);
    at += CUC_LENGTH + entry.packet.length;
  }
  return out;
}

/** Splits TC(11,4) data into its entries (each inner packet's length from its own header; not yet checked). */
export function decodeScheduleInsert(data: Uint8Array): Parsed<ScheduledTc[]> {
  if (data.length < 2) return { ok: false, error: 'TC(11,4) without a count' };
  const count = ((data[0] as number) << 8) | (data[1] as number);
  const entries: ScheduledTc[] = [];
  let at = 2;
  for (let i = 0; i < count; i++) {
    const releaseTime = readCuc(data, at);
    if (!releaseTime || at + CUC_LENGTH + SPACE_PACKET_HEADER_LENGTH > data.length) {
      return { ok: false, error: `TC(11,4) entry ${i + 1} of ${count} is truncated` };
    }
    const length = spacePacketLength(data.subarray(at + CUC_LENGTH));
    if (length < 0 || at + CUC_LENGTH + length > data.length) {
      return { ok: false, error: `TC(11,4) entry ${i + 1}: its packet runs past the data` };
    }
    entries.push({ releaseTime, packet: data.slice(at + CUC_LENGTH, at + CUC_LENGTH + length) });
    at += CUC_LENGTH + length;
  }
  if (at !== data.length) return { ok: false, error: `${data.length - at} octets after ${count} entries` };
  return { ok: true, value: entries };
}

/** TC(11,5): request IDs of the scheduled commands to delete. */
export function encodeRequestIdList(requestIds: readonly number[]): Uint8Array {
  const out = new Uint8Array(2 + 4 * requestIds.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, requestIds.length);
  requestIds.forEach((id, i) => {
    view.setUint32(2 + 4 * i, id >>> 0);
  });
  return out;
}

export function decodeRequestIdList(data: Uint8Array): Parsed<number[]> {
  if (data.length < 2) return { ok: false, error: 'no count of request IDs' };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = view.getUint16(0);
  if (data.length !== 2 + 4 * count) {
    return { ok: false, error: `${count} request IDs need ${2 + 4 * count} octets, ${data.length} given` };
  }
  return { ok: true, value: Array.from({ length: count }, (_, i) => view.getUint32(2 + 4 * i)) };
}

/** TM(11,13): the schedule summary, N x (release time, request ID). */
export function encodeScheduleSummary(entries: ReadonlyArray<{ releaseTime: CucTime; requestId: number }>) {
  const out = new Uint8Array(2 + entries.length * (CUC_LENGTH + 4));
  const view = new DataView(out.buffer);
  view.setUint16(0, entries.length);
  entries.forEach((entry, i) => {
    const at = 2 + i * (CUC_LENGTH + 4);
    writeCuc(out, at, entry.releaseTime);
    view.setUint32(at + CUC_LENGTH, entry.requestId >>> 0);
  });
  return out;
}

export function decodeScheduleSummary(
  data: Uint8Array,
): Parsed<Array<{ releaseTime: CucTime; requestId: number }>> {
  if (data.length < 2) return { ok: false, error: 'no count' };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = view.getUint16(0);
  if (data.length !== 2 + count * (CUC_LENGTH + 4))
    return { ok: false, error: 'summary length disagrees with count' };
  return {
    ok: true,
    value: Array.from({ length: count }, (_, i) => {
      const at = 2 + i * (CUC_LENGTH + 4);
      return { releaseTime: readCuc(data, at) as CucTime, requestId: view.getUint32(at + CUC_LENGTH) };
    }),
  };
}
