/**
 * Where on-board services make PUS TM packets: one source per APID keeps the packet sequence count and the
 * message type counters (per service, subtype and destination, as PUS-C asks), stamps spacecraft time from the
 * mission clock and puts the packet on the bus for the downlink.
 */
import type { SoftwareBus } from '../core/bus.js';
import type { MissionClock } from '../core/clock.js';
import { encodeTmPacket } from '../link/pus.js';

/** Downlink priorities: what goes first when the link is the bottleneck. */
export const Priority = {
  verification: 100,
  highEvent: 90,
  reply: 80,
  event: 50,
  housekeeping: 10,
  playback: 5,
} as const;

export interface TmReport {
  readonly service: number;
  readonly subtype: number;
  readonly data: Uint8Array;
  readonly destinationId?: number;
  readonly priority: number;
  readonly vcid?: number;
}

export class TmSource {
  private sequenceCount = 0;
  private readonly messageCounters = new Map<number, number>();

  constructor(
    readonly apid: number,
    private readonly clock: MissionClock,
    private readonly bus: SoftwareBus,
  ) {}

  /** Encodes a report and publishes it for the downlink; returns the packet. */
  emit(report: TmReport): Uint8Array {
    const destinationId = report.destinationId ?? 0;
    const key = (report.service << 24) | (report.subtype << 16) | destinationId;
    const counter = this.messageCounters.get(key) ?? 0;
    this.messageCounters.set(key, (counter + 1) & 0xffff);
    const packet = encodeTmPacket({
      apid: this.apid,
      sequenceCount: this.sequenceCount,
      service: report.service,
      subtype: report.subtype,
      messageTypeCounter: counter,
      destinationId,
      time: this.clock.cuc(),
      sourceData: report.data,
    });
    this.sequenceCount = (this.sequenceCount + 1) & 0x3fff;
    this.bus.publishDownlink({
      bytes: packet,
      vcid: report.vcid ?? 0,
      priority: report.priority,
      time: this.clock.now(),
    });
    return packet;
  }
}

const sources = new WeakMap<SoftwareBus, Map<number, TmSource>>();

/** The one TM source of an APID in a flight stack (services on one APID share its sequence count). */
export function tmSourceFor(bus: SoftwareBus, apid: number, clock: MissionClock): TmSource {
  let byApid = sources.get(bus);
  if (!byApid) {
    byApid = new Map();
    sources.set(bus, byApid);
  }
  let source = byApid.get(apid);
  if (!source) {
    source = new TmSource(apid, clock, bus);
    byApid.set(apid, source);
  }
  return source;
}
