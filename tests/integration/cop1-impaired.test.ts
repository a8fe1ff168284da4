import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { flightComponents } from '../../src/cli/fsw.js';
import { VirtualClock } from '../../src/core/clock.js';
import { FlightStack } from '../../src/core/executive.js';
import { silentLogger } from '../../src/core/log.js';
import { memoryStateStore } from '../../src/core/persistence.js';
import { GroundStation } from '../../src/ground/station.js';
import { sdlsKey, sdlsKeys } from '../../src/link/sdls.js';
import { impairedPair } from '../../src/transport/impaired.js';

/**
 * COP-1 end to end over a bad link, in virtual time: the real flight stack (link service with SDLS and FARM-1,
 * commanding service) and the real ground station (FOP-1, SDLS), talking KISS-framed TC and TM frames through an
 * impaired link that loses 20 % of the frames, flips bits and reorders, in both directions.
 */
describe('COP-1 through the whole stack over an impaired link', () => {
  it.each([1, 2])('executes 1,000 commands exactly once and in order (seed %i)', async (seed) => {
    const clock = new VirtualClock();
    const pair = impairedPair({
      scheduler: clock.scheduler,
      seed,
      dropProbability: 0.2,
      bitErrorRate: 1e-4,
      reorderProbability: 0.1,
      reorderMaxHoldMs: 50,
      latencyMs: 20,
      jitterMs: 5,
    });
    const keys = sdlsKeys(sdlsKey(1, randomBytes(32)), sdlsKey(2, randomBytes(32)));
    const stack = FlightStack.create({
      components: flightComponents({ profile: 'serial', pipe: pair.a, keys }),
      clock,
      store: memoryStateStore(),
      logger: silentLogger(clock),
    });
    const executed: number[] = [];
    stack.bus.eventsNamed('health.NOOP').subscribe((e) => executed.push(e.args.count as number));
    stack.start();
    await stack.params.set('link.frameLatencyMs', 20);
    let arsn = 1;
    const station = new GroundStation({
      pipe: pair.b,
      profile: 'serial',
      dictionary: stack.dictionary,
      scheduler: clock.scheduler,
      keys,
      nextArsn: () => arsn++,
      timerMs: 500,
      transmissionLimit: 50,
    });
    const alerts: string[] = [];
    station.alerts$.subscribe((a) => alerts.push(`${a.reason}: ${a.detail}`));
    const run = async (until: () => boolean, maxMs: number) => {
      for (let t = 0; t < maxMs && !until(); t += 10) {
        clock.advanceBy(10);
        for (let i = 0; i < 5; i++) await Promise.resolve();
      }
    };
    let connected = false;
    station.connect(60_000).then(() => {
      connected = true;
    });
    await run(() => connected, 60_000);
    expect(connected).toBe(true);

    let acknowledged = 0;
    const all = Array.from({ length: 1000 }, () =>
      station.transmit('health.NOOP').then(() => acknowledged++),
    );
    await run(() => acknowledged === 1000 && executed.length >= 1000, 3 * 3600_000);
    await Promise.all(all);
    await run(() => false, 2000);

    expect(alerts).toEqual([]);
    expect(executed).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    // The link was really bad: frames were lost, corrupted and discarded, and FOP-1 retransmitted.
    const impairments = pair.b.stats.impairments;
    expect(impairments.dropped).toBeGreaterThan(100);
    expect(impairments.bitsFlipped).toBeGreaterThan(0);
    expect(impairments.reordered).toBeGreaterThan(10);
    expect(station.stats.framesRejected).toBeGreaterThan(0);
    await station.close();
    stack.stop();
    await pair.close();
  });
});
