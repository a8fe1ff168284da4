/**
 * A flight-stack process for the recorder restart test, in virtual time.
 *
 * `write DIR`: puts numbered TM packets on the real-time channel, one per 10 ms of mission time, as fast as it can,
 * until killed; whenever the recorder commits a batch (its `recorded` telemetry, once a second of mission time)
 * it prints `stored N`: packets 0 to N-1 are on disk.
 *
 * `read DIR`: starts on the same state directory, asks for a playback of everything (TC(15,9) through the
 * commanding service), and prints one JSON line: how many numbered packets came back on VC 1, whether they are
 * packets 0, 1, 2, ... without a hole, and whether each is byte for byte the packet first sent.
 */
import { VirtualClock } from '../../src/core/clock.js';
import { FlightStack } from '../../src/core/executive.js';
import { silentLogger } from '../../src/core/log.js';
import { openStateStore } from '../../src/core/persistence.js';
import { encodeCuc, unixMsToCuc } from '../../src/core/time.js';
import { AckFlags, encodeTcPacket, encodeTmPacket } from '../../src/link/pus.js';
import { commanding } from '../../src/services/commanding/commanding.js';
import { recorder } from '../../src/services/telemetry/recorder.js';

const START_MS = Date.UTC(2030, 0, 1);
const STEP_MS = 10;
const APID = 0x30;

/** Packet number `k`, as the writer sends it at START_MS + k * STEP_MS. */
function packet(k: number): Uint8Array {
  const data = new Uint8Array(32).fill(k & 0xff);
  new DataView(data.buffer).setUint32(0, k);
  return encodeTmPacket({
    apid: APID,
    sequenceCount: k & 0x3fff,
    service: 3,
    subtype: 25,
    messageTypeCounter: k & 0xffff,
    time: unixMsToCuc(START_MS + k * STEP_MS),
    sourceData: data,
  });
}

const [mode, stateDir] = process.argv.slice(2);
if (!stateDir || (mode !== 'write' && mode !== 'read'))
  throw new Error('usage: recorder-process write|read DIR');

if (mode === 'write') {
  const clock = new VirtualClock({ startMs: START_MS });
  const stack = FlightStack.create({
    components: [commanding, recorder],
    clock,
    store: openStateStore(stateDir),
    logger: silentLogger(clock),
  });
  let last = -1;
  stack.bus.valuesOf(recorder.tlm.recorded).subscribe((stored) => {
    if (stored !== last) process.stdout.write(`stored ${stored}\n`);
    last = stored;
  });
  stack.start();
  let k = 0;
  const step = () => {
    for (let i = 0; i < 10; i++) {
      stack.bus.publishDownlink({ bytes: packet(k), vcid: 0, priority: 10, time: clock.now() });
      k += 1;
      clock.advanceBy(STEP_MS);
    }
    setImmediate(step);
  };
  step();
} else {
  const clock = new VirtualClock({ startMs: START_MS + 10_000_000 });
  const stack = FlightStack.create({
    components: [commanding, recorder],
    clock,
    store: openStateStore(stateDir),
    logger: silentLogger(clock),
  });
  const played: Uint8Array[] = [];
  let done = false;
  stack.bus.downlink$.subscribe((p) => {
    if (p.vcid === 1) played.push(p.bytes);
  });
  stack.bus.eventsNamed('recorder.PLAYBACK_DONE').subscribe(() => {
    done = true;
  });
  stack.start();
  const set = stack.params.set('recorder.playbackPerTick', 1000);
  if (!set.ok) throw new Error(set.reason);
  const request = new Uint8Array(14);
  request[1] = 1; // store ID 1
  request.set(encodeCuc(unixMsToCuc(START_MS - 1000)), 2);
  request.set(encodeCuc(unixMsToCuc(START_MS + 9_000_000)), 8);
  stack.bus.publishUplink({
    bytes: encodeTcPacket({
      apid: 0x10,
      sequenceCount: 0,
      ackFlags: AckFlags.none,
      service: 15,
      subtype: 9,
      appData: request,
    }),
    vcid: 0,
    time: clock.now(),
  });
  for (let i = 0; i < 10; i++) await Promise.resolve();
  for (let i = 0; i < 100_000 && !done; i++) clock.advanceBy(100);
  const numbered = played.filter(
    (bytes) => ((((bytes[0] as number) & 7) << 8) | (bytes[1] as number)) === APID,
  );
  const numbers = numbered.map((bytes) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(19));
  const identical = numbered.every((bytes, i) => Buffer.from(bytes).equals(packet(numbers[i] as number)));
  process.stdout.write(
    `${JSON.stringify({
      done,
      count: numbers.length,
      contiguous: numbers.every((k, i) => k === i),
      identical,
    })}\n`,
  );
  stack.stop();
  process.exit(0);
}
