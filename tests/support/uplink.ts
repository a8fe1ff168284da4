/** Telecommands straight onto a flight stack's bus (as the link delivers them), for the service tests. */
import type { FlightStack } from '../../src/core/executive.js';
import { packRecord } from '../../src/core/pack.js';
import { AckFlags, encodeTcPacket } from '../../src/link/pus.js';
import { encodePerformFunction } from '../../src/link/pus-services.js';

export interface UplinkOptions {
  readonly apid?: number;
  readonly ack?: number;
}

export function uplink(stack: FlightStack, defaults: { ack?: number; sourceId?: number } = {}) {
  let count = 0;
  /** Sends TC(service, subtype) with `appData`; returns its bytes. */
  const send = (
    service: number,
    subtype: number,
    appData: Uint8Array = new Uint8Array(0),
    options: UplinkOptions = {},
  ) => {
    const bytes = encodeTcPacket({
      apid: options.apid ?? stack.dictionary.mission.apid,
      sequenceCount: count++,
      ackFlags: options.ack ?? defaults.ack ?? AckFlags.none,
      service,
      subtype,
      sourceId: defaults.sourceId ?? 0,
      appData,
    });
    stack.bus.publishUplink({ bytes, vcid: 0, time: stack.clock.now() });
    return bytes;
  };
  /** TC(8,1) for a dictionary command, its arguments packed as declared. */
  const perform = (name: string, args: Record<string, unknown> = {}, options: UplinkOptions = {}) => {
    const entry = stack.dictionary.commandByName.get(name);
    if (!entry) throw new Error(`unknown command ${name}`);
    return send(8, 1, encodePerformFunction(entry.opcode, packRecord(entry.args, args)), options);
  };
  /** Lets the commands run: they execute one at a time, across microtasks. */
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { send, perform, settle };
}
