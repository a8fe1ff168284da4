/**
 * Recovering what the ground missed: the archive's sequence gaps are asked for again from the on-board recorder
 * (TC(15,9)), one span at a time, in rounds, until nothing in the spans asked for is missing or the rounds run out.
 * `skynode ground gaps --request` and the HIL rig's ground script (`recoverGaps`) both run this.
 */
import type { SchedulerLike } from 'rxjs';
import { describeGap, type GroundArchive, playbackSpans, type SequenceGap } from './archive.js';
import { type CommandOutcome, type GroundStation, PLAYBACK_VCID } from './station.js';

/** The node's report that a playback is complete (src/services/telemetry/recorder.ts), when it has one. */
export const PLAYBACK_DONE_EVENT = 'recorder.PLAYBACK_DONE';
/** Playback packets go down at the lowest priority: wait this long without one before counting what came. */
export const PLAYBACK_QUIET_MS = 1000;
/** Rounds of playback requests before giving up on what is still missing. */
export const PLAYBACK_ROUNDS = 3;

export interface RecoverOptions {
  readonly station: GroundStation;
  readonly archive: GroundArchive;
  /** The station's scheduler: the quiet waits run on it. */
  readonly scheduler: SchedulerLike;
  /** The gaps to recover, as `archive.gaps(span)` found them. */
  readonly gaps: readonly SequenceGap[];
  /** The span they were looked for in (UTC ms). */
  readonly span: { readonly from: number; readonly to: number };
  /** Per request and per PLAYBACK_DONE wait. */
  readonly timeoutMs: number;
  /** Progress lines, for a terminal or a log. */
  readonly say?: (line: string) => void;
  readonly rounds?: number;
}

export interface RecoverResult {
  /** Packets missing at the start. */
  readonly requested: number;
  /** Packets still missing at the end, and where. */
  readonly stillMissing: number;
  readonly pending: readonly SequenceGap[];
}

function describeStages(outcome: CommandOutcome): string[] {
  return outcome.stages.map((s) =>
    s.success ? `  ${s.stage}: ok` : `  ${s.stage}: FAILED (code ${s.code}) ${s.reason ?? ''}`,
  );
}

/** Resolves once `quietMs` pass without a packet on the playback VC. */
export function playbackQuiet(
  station: GroundStation,
  scheduler: SchedulerLike,
  quietMs: number,
): Promise<void> {
  return new Promise<void>((done) => {
    const finish = () => {
      records.unsubscribe();
      done();
    };
    let timer = scheduler.schedule(finish, quietMs);
    const records = station.records$.subscribe((received) => {
      if (received.vcid !== PLAYBACK_VCID) return;
      timer.unsubscribe();
      timer = scheduler.schedule(finish, quietMs);
    });
  });
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * One request at a time: each waits until the node says its playback is done (and VC 1 is quiet), so the packets
 * are in the archive before the next, and before the count of what was recovered. Playback crosses the same link
 * as what it replaces: what a round loses, the next asks for again.
 */
export async function recoverGaps(options: RecoverOptions): Promise<RecoverResult> {
  const { station, archive, scheduler, gaps, span, timeoutMs } = options;
  const say = options.say ?? (() => {});
  const rounds = options.rounds ?? PLAYBACK_ROUNDS;
  const reportsDone = station.dictionary.eventByName.has(PLAYBACK_DONE_EVENT);
  const requested = gaps.reduce((n, g) => n + g.missing, 0);
  // What is still missing inside the spans asked for (new gaps elsewhere, since, aside).
  const stillMissing = () => {
    archive.flush();
    return archive
      .gaps(span)
      .filter((g) => gaps.some((o) => o.apid === g.apid && g.fromMs >= o.fromMs && g.toMs <= o.toMs));
  };
  let pending: readonly SequenceGap[] = gaps;
  for (let round = 1; round <= rounds && pending.length > 0; round++) {
    if (round > 1) say(`round ${round}: ${pending.length} gap${pending.length === 1 ? '' : 's'} left`);
    let failed = 0;
    const spans = playbackSpans(pending);
    for (const { fromMs, toMs, gaps: covered } of spans) {
      let outcome: CommandOutcome;
      try {
        outcome = await station.requestPlayback(fromMs, toMs, timeoutMs);
      } catch (error) {
        // A report lost on a bad link is no reason to give up the other spans: the playback may well run.
        say(`playback ${iso(fromMs)} to ${iso(toMs)}: ${(error as Error).message}`);
        failed += 1;
        await playbackQuiet(station, scheduler, 2 * PLAYBACK_QUIET_MS);
        continue;
      }
      say(
        `playback ${iso(fromMs)} to ${iso(toMs)} (${covered} gap${covered === 1 ? '' : 's'}) (request ${outcome.requestId.toString(16)}): ${outcome.ok ? 'completed' : 'FAILED'}`,
      );
      for (const line of describeStages(outcome)) say(line);
      if (!outcome.ok) {
        failed += 1;
        continue;
      }
      if (reportsDone) {
        try {
          const done = await station.awaitEvent(
            PLAYBACK_DONE_EVENT,
            (args) => args.requestId === outcome.requestId,
            timeoutMs,
          );
          say(`  ${done.message}`);
        } catch {
          say(`  no ${PLAYBACK_DONE_EVENT} for it within ${timeoutMs / 1000} s`);
        }
      }
      // The event may overtake the last packets (they go at the lowest priority): wait until VC 1 is quiet.
      await playbackQuiet(station, scheduler, reportsDone ? PLAYBACK_QUIET_MS : 2 * PLAYBACK_QUIET_MS);
    }
    pending = stillMissing();
    if (failed === spans.length && round === 1) break; // nothing is answering: no point
  }
  const still = pending.reduce((n, g) => n + g.missing, 0);
  say(`recovered ${requested - still} of ${requested} missing packets`);
  for (const gap of pending) say(`  still missing: ${describeGap(gap)}`);
  return { requested, stillMissing: still, pending };
}
