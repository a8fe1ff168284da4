/**
 * PUS services provided by components other than commanding (housekeeping 3, events 5, storage 15): they
 * register here, and the commanding service routes their telecommands to them after its own checks (APID,
 * checksum, queue) and reports acceptance, start and completion for them.
 */
import type { SoftwareBus } from '../core/bus.js';
import type { FailureCode } from '../core/component.js';
import type { TcPacket } from '../link/pus.js';

export type ServiceOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: number; readonly reason: string };

/** What a service says of a telecommand at acceptance: refused with a code, or a job to run in turn. */
export type ServiceAcceptance =
  | {
      readonly ok: true;
      readonly label: string;
      readonly run: () => Promise<ServiceOutcome> | ServiceOutcome;
    }
  | { readonly ok: false; readonly code: FailureCode; readonly reason: string };

export type PusServiceHandler = (tc: TcPacket) => ServiceAcceptance;

const registries = new WeakMap<SoftwareBus, Map<number, PusServiceHandler>>();

/** Registers the handler of PUS service `service` in this flight stack; returns a function that removes it. */
export function registerPusService(
  bus: SoftwareBus,
  service: number,
  handler: PusServiceHandler,
): () => void {
  let registry = registries.get(bus);
  if (!registry) {
    registry = new Map();
    registries.set(bus, registry);
  }
  if (registry.has(service)) throw new Error(`PUS service ${service} is already provided`);
  registry.set(service, handler);
  return () => registry?.delete(service);
}

export function pusServiceHandler(bus: SoftwareBus, service: number): PusServiceHandler | undefined {
  return registries.get(bus)?.get(service);
}

/** A list of 16-bit IDs (count first) that must all be known: the common shape of services 3 and 5. */
export function knownIds(
  data: Uint8Array,
  known: (id: number) => boolean,
  what: string,
): { ok: true; ids: number[] } | { ok: false; code: 2 | 5; reason: string } {
  if (data.length < 2) return { ok: false, code: 2, reason: `no count of ${what} IDs` };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = view.getUint16(0);
  if (data.length !== 2 + 2 * count) {
    return {
      ok: false,
      code: 2,
      reason: `${count} ${what} IDs need ${2 + 2 * count} octets, ${data.length} given`,
    };
  }
  const ids = Array.from({ length: count }, (_, i) => view.getUint16(2 + 2 * i));
  const unknown = ids.filter((id) => !known(id));
  if (unknown.length > 0) return { ok: false, code: 5, reason: `unknown ${what} ID ${unknown.join(', ')}` };
  return { ok: true, ids };
}
