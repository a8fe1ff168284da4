/**
 * The rig's ground station (`skynode hil run`): a `GroundStation` on its own serial line to the flight software,
 * with fresh SDLS keys, archiving what it receives, on the rig's mission clock (its timeouts and COP-1 timer are in
 * mission time, like the flight software's). It runs the scenario's ground script and records each step's verdict,
 * and it is where the link faults are injected: a ground pass lost (nothing crosses either way), the last uplink
 * frame replayed octet for octet, a command storm.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Observable } from 'rxjs';
import { filter } from 'rxjs';
import type { MissionClock } from '../src/core/clock.js';
import type { MissionDictionary } from '../src/core/dictionary.js';
import { GroundArchive } from '../src/ground/archive.js';
import { recoverGaps } from '../src/ground/recover.js';
import { type CommandOutcome, GroundStation } from '../src/ground/station.js';
import { parseKeyFile } from '../src/link/sdls.js';
import { type BytePipe, openPipe, type PipeState, type PipeStats } from '../src/transport/pipe.js';
import type { PtyEnd } from './pty.js';
import { openPtyPipe } from './pty-pipe.js';
import { DEFAULT_RECOVERY_S, DEFAULT_WITHIN_S, type GroundStep } from './scenario.js';

/** The verdict of one ground-script step or injected fault. */
export interface GroundCheck {
  /** Mission seconds when the step started. */
  readonly atS: number;
  readonly what: string;
  readonly passed: boolean;
  readonly detail: string;
}

/** An event as the ground received it. */
export interface GroundEvent {
  /** Mission seconds (spacecraft time) it was raised at. */
  readonly timeS: number;
  readonly name: string;
  readonly severity: string;
  readonly message: string;
}

/**
 * A byte pipe the rig can cut (a lost ground pass: what is written is dropped, what arrives is not delivered) and
 * that remembers the last chunk written, the last uplink frame, for a replay.
 */
export class GatedPipe implements BytePipe {
  readonly name: string;
  readonly data$: Observable<Uint8Array>;
  /** Octets dropped while cut, each way. */
  readonly dropped = { up: 0, down: 0 };
  private open = true;
  private last: Uint8Array | undefined;

  constructor(private readonly inner: BytePipe) {
    this.name = inner.name;
    this.data$ = inner.data$.pipe(
      filter((chunk) => {
        if (this.open) return true;
        this.dropped.down += chunk.length;
        return false;
      }),
    );
  }

  get state$(): Observable<PipeState> {
    return this.inner.state$;
  }
  get state(): PipeState {
    return this.inner.state;
  }
  get stats(): PipeStats {
    return this.inner.stats;
  }
  get isOpen(): boolean {
    return this.open;
  }

  setOpen(open: boolean): void {
    this.open = open;
  }

  write(bytes: Uint8Array): boolean {
    if (!this.open) {
      this.dropped.up += bytes.length;
      return true;
    }
    this.last = Uint8Array.from(bytes);
    return this.inner.write(bytes);
  }

  /** Sends the last chunk written again, as it was (no new sequence numbers, no new MAC): false if none yet. */
  replayLast(): boolean {
    if (!this.last || !this.open) return false;
    return this.inner.write(this.last);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface RigGroundOptions {
  /** Where the keys, the ARSN counters and the archive go. */
  readonly dir: string;
  readonly clock: MissionClock;
  /**
   * The rig's end of the ground line: a pseudo-terminal pair's end it made (hil/pty.ts), or (with `baud`) a real
   * serial port, its path.
   */
  readonly line: PtyEnd;
  /** A real serial port's speed: open `line.path` through serialport rather than as a pseudo-terminal. */
  readonly baud?: number;
  /** The node's keys (a bench); default: fresh keys, written for the flight software the rig starts. */
  readonly keysFile?: string;
  /**
   * Keep an archive of every packet received (what `recoverGaps` needs to find the gaps); default true. Without
   * a `recoverGaps` step the rig leaves it out: it is a fifth of the ground's work.
   */
  readonly archive?: boolean;
  readonly dictionary: MissionDictionary;
  /** Mission time (UTC ms) of the scenario's t = 0. */
  readonly epochMs: number;
}

const DEFAULT_TIMEOUT_S = 60;

/** What a ground-script step asks for, in words, for the report. */
export function describeStep(step: GroundStep): string {
  if ('send' in step) {
    const args = Object.entries(step.args ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    return `send ${[step.send, ...args].join(' ')} -> ${step.expect ?? 'completed'}`;
  }
  if ('expectTelemetry' in step) {
    const bounds = [
      step.equals !== undefined ? `= ${JSON.stringify(step.equals)}` : '',
      step.min !== undefined ? `>= ${step.min}` : '',
      step.max !== undefined ? `<= ${step.max}` : '',
    ].filter(Boolean);
    return `telemetry ${step.expectTelemetry} ${bounds.join(' and ')} within ${step.withinS ?? DEFAULT_WITHIN_S} s`;
  }
  if ('expectEvent' in step) {
    return `event ${step.expectEvent} since t=${step.sinceS ?? step.atS} s within ${step.withinS ?? DEFAULT_WITHIN_S} s`;
  }
  return `recover gaps t=${step.recoverGaps.fromS}..${step.recoverGaps.toS} s within ${step.withinS ?? DEFAULT_RECOVERY_S} s, at most ${step.maxMissing ?? 0} missing`;
}

/** Names in a ground script or storm that the dictionary does not have, as messages (empty: all known). */
export function unknownNames(
  dictionary: MissionDictionary,
  steps: readonly GroundStep[],
  commands: readonly string[],
): string[] {
  const problems: string[] = [];
  for (const name of commands) {
    if (!dictionary.commandByName.has(name)) problems.push(`unknown command ${name}`);
  }
  for (const step of steps) {
    if ('send' in step && !dictionary.commandByName.has(step.send))
      problems.push(`unknown command ${step.send}`);
    if ('expectTelemetry' in step && !dictionary.telemetryByName.has(step.expectTelemetry))
      problems.push(`unknown telemetry ${step.expectTelemetry}`);
    if ('expectEvent' in step && !dictionary.eventByName.has(step.expectEvent))
      problems.push(`unknown event ${step.expectEvent}`);
  }
  return problems;
}

export class RigGround {
  readonly keysFile: string;
  readonly station: GroundStation;
  readonly archive: GroundArchive | undefined;
  readonly pipe: GatedPipe;
  readonly checks: GroundCheck[] = [];
  readonly events: GroundEvent[] = [];
  /** Lines the recovery and the faults said, for the report. */
  readonly log: string[] = [];
  private readonly clock: MissionClock;
  private readonly epochMs: number;
  private readonly subscriptions: Array<{ unsubscribe(): void }> = [];
  /** Ground-script steps run so far. */
  stepsRun = 0;
  private closed = false;
  private nextArsn = new Map<number, number>();
  private sequence = 0;

  constructor(options: RigGroundOptions) {
    this.clock = options.clock;
    this.epochMs = options.epochMs;
    const dir = join(options.dir, 'ground');
    mkdirSync(dir, { recursive: true });
    let keyText: string;
    if (options.keysFile) {
      this.keysFile = options.keysFile;
      keyText = readFileSync(options.keysFile, 'utf8');
    } else {
      // Fresh keys for the run, in a key file as a deployment has them (PROTOCOL.md, "Keys").
      this.keysFile = join(dir, 'keys.json');
      keyText = JSON.stringify({
        '1': { algorithm: 'hmac-sha256', key: randomBytes(32).toString('hex') },
        '2': { algorithm: 'aes-256-gcm', key: randomBytes(32).toString('hex') },
      });
      writeFileSync(this.keysFile, keyText, { mode: 0o600 });
    }
    const keys = parseKeyFile(keyText);
    if (!keys.ok) throw new Error(`keys ${this.keysFile}: ${keys.error}`);
    // Written every 10 s of mission time (and before every gap search): at a few hundred times real time, the
    // archive's default 100 ms would be thousands of commits a second.
    this.archive =
      options.archive === false
        ? undefined
        : GroundArchive.inDirectory(dir, { scheduler: options.clock.scheduler, flushMs: 10_000 });
    this.pipe = new GatedPipe(
      options.baud !== undefined
        ? openPipe(`serial:${options.line.path}@${options.baud}`, { scheduler: options.clock.scheduler })
        : openPtyPipe(options.line),
    );
    this.station = new GroundStation({
      pipe: this.pipe,
      profile: 'serial',
      dictionary: options.dictionary,
      scheduler: options.clock.scheduler,
      keys: keys.keys,
      // The ground's anti-replay counters live as long as the run: the node's state directory does too.
      nextArsn: (spi) => {
        const next = (this.nextArsn.get(spi) ?? 0) + 1;
        this.nextArsn.set(spi, next);
        return next;
      },
      nextSequenceCount: () => {
        this.sequence = (this.sequence + 1) % 0x4000;
        return this.sequence;
      },
    });
    this.subscriptions.push(
      this.station.records$.subscribe((received) => {
        this.archive?.add(received);
        const { record } = received;
        if (record.kind === 'event') {
          this.events.push({
            timeS: this.toS(received.time),
            name: record.name,
            severity: record.severity,
            message: record.message,
          });
        }
      }),
      this.station.alerts$.subscribe((alert) => this.say(`COP-1 alert (${alert.reason}): ${alert.detail}`)),
    );
  }

  /** Mission seconds since the scenario's start. */
  get nowS(): number {
    return this.toS(this.clock.now());
  }

  private toS(ms: number): number {
    return (ms - this.epochMs) / 1000;
  }

  private say(line: string): void {
    this.log.push(`t=${this.nowS.toFixed(1)} s ${line}`);
    if (this.log.length > 2000) this.log.splice(0, this.log.length - 2000);
  }

  private record(atS: number, what: string, passed: boolean, detail: string): void {
    this.checks.push({ atS, what, passed, detail });
    this.say(`${passed ? 'PASS' : 'FAIL'} ${what}: ${detail}`);
  }

  /** Resolves at mission second `atS` (at once if it has passed). */
  until(atS: number): Promise<void> {
    const delay = Math.max(0, this.epochMs + atS * 1000 - this.clock.now());
    return new Promise<void>((done) => {
      this.clock.scheduler.schedule(() => done(), delay);
    });
  }

  /** Waits for the node's first CLCW and starts COP-1 from it (again after a restart of the node). */
  async connect(timeoutS = 60): Promise<void> {
    await this.station.connect(timeoutS * 1000);
  }

  /** Runs the script's steps in order, each at its time or after the one before. */
  async runScript(steps: readonly GroundStep[]): Promise<void> {
    for (const step of steps) {
      await this.until(step.atS);
      if (this.closed) return;
      await this.runStep(step);
      this.stepsRun += 1;
    }
  }

  private async runStep(step: GroundStep): Promise<void> {
    const atS = this.nowS;
    const what = describeStep(step);
    try {
      if ('send' in step) {
        const outcome = await this.station.send(
          step.send,
          step.args ?? {},
          (step.timeoutS ?? DEFAULT_TIMEOUT_S) * 1000,
        );
        const expected = step.expect ?? 'completed';
        const got = outcome.ok ? 'completed' : 'failed';
        const stage = outcome.failure
          ? ` at ${outcome.failure.stage}${outcome.failure.code !== undefined ? ` (code ${outcome.failure.code})` : ''}: ${outcome.failure.reason}`
          : '';
        this.record(atS, what, got === expected, `${got}${stage}`);
        return;
      }
      if ('expectTelemetry' in step) {
        const ok = (value: unknown): boolean => {
          if (step.equals !== undefined && value !== step.equals && String(value) !== String(step.equals))
            return false;
          if (step.min !== undefined && !(typeof value === 'number' && value >= step.min)) return false;
          if (step.max !== undefined && !(typeof value === 'number' && value <= step.max)) return false;
          return true;
        };
        const withinMs = (step.withinS ?? DEFAULT_WITHIN_S) * 1000;
        try {
          const value = await this.station.awaitTelemetry(step.expectTelemetry, ok, withinMs);
          this.record(atS, what, true, `${step.expectTelemetry} = ${JSON.stringify(value)}`);
        } catch {
          const last = this.station.value(step.expectTelemetry);
          this.record(
            atS,
            what,
            false,
            last === undefined ? 'never received' : `last value ${JSON.stringify(last)}`,
          );
        }
        return;
      }
      if ('expectEvent' in step) {
        const sinceS = step.sinceS ?? step.atS;
        const seen = () => this.events.find((e) => e.name === step.expectEvent && e.timeS >= sinceS);
        const withinMs = (step.withinS ?? DEFAULT_WITHIN_S) * 1000;
        let found = seen();
        if (!found) {
          await new Promise<void>((done) => {
            const timer = this.clock.scheduler.schedule(() => {
              watch.unsubscribe();
              done();
            }, withinMs);
            const watch = this.station.records$.subscribe(() => {
              if (!seen()) return;
              timer.unsubscribe();
              watch.unsubscribe();
              done();
            });
          });
          found = seen();
        }
        this.record(
          atS,
          what,
          found !== undefined,
          found ? `at t=${found.timeS.toFixed(1)} s: ${found.message}` : 'not received',
        );
        return;
      }
      const withinS = step.withinS ?? DEFAULT_RECOVERY_S;
      const span = {
        from: this.epochMs + step.recoverGaps.fromS * 1000,
        to: this.epochMs + step.recoverGaps.toS * 1000,
      };
      const archive = this.archive;
      if (!archive) throw new Error('no archive kept (the rig was told there would be no recoverGaps step)');
      archive.flush();
      const gaps = archive.gaps(span);
      const missingBefore = gaps.reduce((n, g) => n + g.missing, 0);
      const result =
        gaps.length === 0
          ? { requested: 0, stillMissing: 0 }
          : await recoverGaps({
              station: this.station,
              archive,
              scheduler: this.clock.scheduler,
              gaps,
              span,
              timeoutMs: withinS * 1000,
              say: (line) => this.say(line),
            });
      const tookS = this.nowS - atS;
      this.record(
        atS,
        what,
        result.stillMissing <= (step.maxMissing ?? 0) && tookS <= withinS,
        `${missingBefore} packets missing in ${gaps.length} gaps, ${result.stillMissing} still missing after playback, which took ${tookS.toFixed(0)} s`,
      );
    } catch (error) {
      this.record(atS, what, false, (error as Error).message);
    }
  }

  /** A lost ground pass: nothing crosses the link either way for `durationS`. */
  loseLink(durationS: number): void {
    this.pipe.setOpen(false);
    this.say(`link lost for ${durationS} s`);
    this.clock.scheduler.schedule(() => {
      this.pipe.setOpen(true);
      this.say(
        `link back (dropped ${this.pipe.dropped.up} octets up, ${this.pipe.dropped.down} down so far)`,
      );
    }, durationS * 1000);
  }

  /** The last uplink frame again, octet for octet; recorded as a check (was there one to replay). */
  replayLastUplink(): void {
    const replayed = this.pipe.replayLast();
    this.record(
      this.nowS,
      'uplink replay injected',
      replayed,
      replayed
        ? 'the last uplink frame sent again as it was'
        : 'no uplink frame sent yet (or the link is cut)',
    );
  }

  /**
   * `count` commands at once (COP-1 queues what its window cannot take): passes when every one of them comes back
   * with its verification, completed.
   */
  async storm(count: number, command: string, args: Readonly<Record<string, unknown>> = {}): Promise<void> {
    const atS = this.nowS;
    const sends: Array<Promise<CommandOutcome>> = [];
    for (let i = 0; i < count; i++)
      sends.push(this.station.send(command, args, 10 * DEFAULT_TIMEOUT_S * 1000));
    const settled = await Promise.allSettled(sends);
    const completed = settled.filter((s) => s.status === 'fulfilled' && s.value.ok).length;
    const failed = settled.filter((s) => s.status === 'fulfilled' && !s.value.ok).length;
    const lost = settled.filter((s) => s.status === 'rejected');
    const firstError = lost[0]?.status === 'rejected' ? ` (${(lost[0].reason as Error).message})` : '';
    this.record(
      atS,
      `command storm: ${count} x ${command}`,
      completed === count,
      `${completed} completed, ${failed} failed, ${lost.length} without a verification${firstError}; ended t=${this.nowS.toFixed(1)} s`,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    await this.station.close();
    await this.pipe.close();
    this.archive?.close();
  }
}
