import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flightComponents } from '../../src/cli/fsw.js';
import type { DownlinkPacket } from '../../src/core/bus.js';
import { VirtualClock } from '../../src/core/clock.js';
import { FlightStack } from '../../src/core/executive.js';
import { silentLogger } from '../../src/core/log.js';
import { memoryStateStore } from '../../src/core/persistence.js';
import { GroundArchive, playbackSpans, type SequenceGap } from '../../src/ground/archive.js';
import { type CommandOutcome, GroundStation, PLAYBACK_VCID } from '../../src/ground/station.js';
import { sdlsKey, sdlsKeys } from '../../src/link/sdls.js';
import { impairedPair } from '../../src/transport/impaired.js';

/**
 * Store-and-forward end to end over a lossy downlink, in virtual time: the real flight stack (link service,
 * recorder, housekeeping of every component once a second) talks to a real ground station through an impaired link
 * that loses 20 % of the downlink frames and flips a few bits. The ground archives what it receives, finds the
 * sequence count gaps, and asks the recorder to play them back (TC(15,9), one request at a time, as
 * `skynode ground gaps --request` does), round after round (the playbacks cross the same lossy downlink), until
 * nothing is missing: then it holds, byte for byte, every packet the node sent on the real-time VC.
 */

const SEED = 7;
/** Virtual time of real-time TM whose packets must all reach the archive. */
const RUN_MS = 120_000;
/** Packets of the first seconds (before the recorder started, before the ground listened) are not counted. */
const SETTLE_MS = 5_000;
/**
 * Playback rounds at most: each one requests every gap still open. A playback crosses the same lossy downlink: the
 * packets of one span (a second of TM, about 7 packets) take two or three frames, so a gap stays open after a round
 * with a probability of about 0.4, and 40-odd gaps need 6 to 8 rounds in the worst of the seeds tried.
 */
const MAX_ROUNDS = 12;
/** Virtual time the playback rounds may take at most (keeps the run short in real time whatever happens). */
const PLAYBACK_BUDGET_MS = 30 * 60_000;
/** What the CLI waits for: PLAYBACK_DONE, then VC 1 quiet for a second (src/cli/ground.ts). */
const PLAYBACK_DONE_EVENT = 'recorder.PLAYBACK_DONE';
const PLAYBACK_QUIET_MS = 1_000;
const REQUEST_TIMEOUT_MS = 10_000;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('playback over an impaired downlink', () => {
  it("a run over the impaired link with 20 % frame loss ends with zero missing packets after the ground station's playback requests", async () => {
    const groundDir = mkdtempSync(join(tmpdir(), 'skynode-playback-impaired-'));
    const clock = new VirtualClock();
    const startMs = clock.now();
    const pair = impairedPair({
      scheduler: clock.scheduler,
      seed: SEED,
      latencyMs: 20,
      jitterMs: 5,
      // Down (node -> ground): a fifth of the frames lost, a few corrupted (and rejected by the frame CRC).
      aToB: { dropProbability: 0.2, bitErrorRate: 1e-5 },
      // Up: lightly impaired; COP-1 retransmits.
      bToA: { dropProbability: 0.05, bitErrorRate: 1e-5 },
    });
    const keys = sdlsKeys(
      sdlsKey(1, new Uint8Array(32).fill(0x11)),
      sdlsKey(2, new Uint8Array(32).fill(0x22)),
    );
    const stack = FlightStack.create({
      components: flightComponents({ profile: 'serial', pipe: pair.a, keys }),
      clock,
      store: memoryStateStore(),
      logger: silentLogger(clock),
    });
    // Ground truth: every packet the node puts on the real-time VC.
    const emitted: DownlinkPacket[] = [];
    const emitting = stack.bus.downlink$.subscribe((packet) => {
      if (packet.vcid === 0) emitted.push(packet);
    });
    stack.start();
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
    // The archive batches its writes on the virtual scheduler (every 100 ms), and flushes before gaps and query.
    const archive = GroundArchive.inDirectory(groundDir, { scheduler: clock.scheduler });
    const archiving = station.records$.subscribe((received) => archive.add(received));
    const alerts: string[] = [];
    const alerting = station.alerts$.subscribe((a) => alerts.push(`${a.reason}: ${a.detail}`));
    let playbackPackets = 0;
    const countingPlayback = station.records$.subscribe((r) => {
      if (r.vcid === PLAYBACK_VCID) playbackPackets += 1;
    });

    /** Advances virtual time in 10 ms steps, letting promise callbacks run, until `until` or `maxMs`. */
    const run = async (maxMs: number, until: () => boolean = () => false): Promise<void> => {
      for (let t = 0; t < maxMs && !until(); t += 10) {
        clock.advanceBy(10);
        for (let i = 0; i < 5; i++) await Promise.resolve();
      }
    };
    /** Runs until `promise` settles (bounded by `maxMs` of virtual time); its value, or the error. */
    const settle = async <T>(promise: Promise<T>, maxMs: number): Promise<{ value?: T; error?: unknown }> => {
      let result: { value?: T; error?: unknown } | undefined;
      promise.then(
        (value) => {
          result = { value };
        },
        (error: unknown) => {
          result = { error };
        },
      );
      await run(maxMs, () => result !== undefined);
      return result ?? { error: new Error(`not settled within ${maxMs} ms`) };
    };
    /** Runs until `quietMs` pass without a packet on the playback VC (at most `maxMs`). */
    const runUntilPlaybackQuiet = async (quietMs: number, maxMs: number): Promise<void> => {
      let last = clock.now();
      const sub = station.records$.subscribe((r) => {
        if (r.vcid === PLAYBACK_VCID) last = clock.now();
      });
      await run(maxMs, () => clock.now() - last >= quietMs);
      sub.unsubscribe();
    };

    try {
      const connected = await settle(station.connect(30_000), 30_000);
      expect(connected.error).toBeUndefined();

      // The real-time pass: two minutes of housekeeping, events and reports over the lossy downlink.
      await run(startMs + RUN_MS + 2_000 - clock.now());
      const spanFrom = startMs + SETTLE_MS;
      const spanTo = startMs + RUN_MS;
      const truth = new Map<string, DownlinkPacket>();
      for (const p of emitted) if (p.time >= spanFrom && p.time <= spanTo) truth.set(hex(p.bytes), p);
      const held = (): Set<string> =>
        new Set(archive.query({ from: startMs - 1_000, to: clock.now() + 1_000 }).map((a) => hex(a.packet)));
      const missing = (): string[] => {
        const have = held();
        return [...truth.keys()].filter((k) => !have.has(k));
      };
      const missingFirstPass = missing().length;
      // The ground's own view of what it lacks, as `skynode ground gaps` computes it: gaps touching the span.
      const openGaps = (): SequenceGap[] =>
        archive
          .gaps({ from: startMs, to: clock.now() })
          .filter((g) => g.toMs >= spanFrom - 1_000 && g.fromMs <= spanTo + 1_000);
      const gapsFirstPass = openGaps();

      // Playback, one request at a time, round after round until nothing is missing.
      const rounds: Array<{ gaps: number; missingPackets: number; requests: number; unconfirmed: number }> =
        [];
      const playbackDeadline = clock.now() + PLAYBACK_BUDGET_MS;
      for (let round = 0; round < MAX_ROUNDS && clock.now() < playbackDeadline; round++) {
        const gaps = openGaps();
        if (gaps.length === 0) break;
        const spans = playbackSpans(gaps);
        let unconfirmed = 0;
        for (const { fromMs, toMs } of spans) {
          const request = await settle(
            station.requestPlayback(fromMs, toMs, REQUEST_TIMEOUT_MS),
            REQUEST_TIMEOUT_MS + 1_000,
          );
          const outcome: CommandOutcome | undefined = request.value;
          if (outcome === undefined || !outcome.ok) {
            // The completion report itself may be lost on the downlink (reports are not repeated): the playback
            // still runs on board, and what it does not bring is asked for again in the next round.
            expect(outcome?.failure, 'a playback request refused').toBeUndefined();
            unconfirmed += 1;
          } else {
            await settle(
              station.awaitEvent(PLAYBACK_DONE_EVENT, (args) => args.requestId === outcome.requestId, 5_000),
              6_000,
            );
          }
          // PLAYBACK_DONE may overtake the last packets (lowest priority): wait until VC 1 is quiet.
          await runUntilPlaybackQuiet(PLAYBACK_QUIET_MS, 30_000);
        }
        rounds.push({
          gaps: gaps.length,
          missingPackets: gaps.reduce((n, g) => n + g.missing, 0),
          requests: spans.length,
          unconfirmed,
        });
      }
      const missingAfter = missing();
      const gapsAfter = openGaps();

      console.log(
        JSON.stringify({
          emittedInSpan: truth.size,
          missingFirstPass,
          gapsFirstPass: gapsFirstPass.length,
          rounds,
          playbackPackets,
          missingAfter: missingAfter.length,
          downlinkDropped: pair.a.stats.impairments.dropped,
          downlinkCorrupted: pair.a.stats.impairments.corrupted,
          framesRejected: station.stats.framesRejected,
          virtualSeconds: (clock.now() - startMs) / 1000,
        }),
      );

      // The link really was lossy, and the first pass really had holes, which the ground saw as gaps.
      expect(truth.size).toBeGreaterThan(300);
      expect(pair.a.stats.impairments.dropped).toBeGreaterThan(50);
      expect(missingFirstPass).toBeGreaterThan(0);
      expect(gapsFirstPass.length).toBeGreaterThan(0);
      expect(gapsFirstPass.reduce((n, g) => n + g.missing, 0)).toBeGreaterThanOrEqual(missingFirstPass);
      // After playback: every real-time packet of the span is in the archive, byte for byte; no gap is left.
      expect(missingAfter.map((k) => truth.get(k)?.time)).toEqual([]);
      expect(gapsAfter).toEqual([]);
      expect(alerts).toEqual([]);
    } finally {
      countingPlayback.unsubscribe();
      alerting.unsubscribe();
      archiving.unsubscribe();
      emitting.unsubscribe();
      await station.close();
      stack.stop();
      await pair.close();
      archive.close();
      rmSync(groundDir, { recursive: true, force: true });
    }
  });
});
