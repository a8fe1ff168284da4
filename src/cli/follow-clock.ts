/**
 * `skynode fsw --clock-follow PATH`: the flight software's mission clock follows another's, as ROS nodes follow
 * `/clock` under use_sim_time. A HIL rig (`skynode hil run`) owns the time; the flight software runs on a
 * VirtualClock that moves only when the rig says so, and as fast as both can go.
 *
 * Protocol, newline-delimited JSON over the unix socket PATH (the rig listens, the flight software connects):
 *   rig -> fsw  {"advanceTo": MS}   mission time, UTC ms; the first one sets the clock's start
 *   fsw -> rig  {"at": MS}          sent once everything due up to MS has run and the board's I/O has settled
 * One request at a time. When the socket closes, the flight software stops cleanly (exit 0).
 */
import { createConnection, type Socket } from 'node:net';
import type { VirtualClock } from '../core/clock.js';
import { UsageError } from './fsw.js';

/**
 * How long (real time) a step waits at most for the board's I/O to settle. A healthy answer on a pseudo-terminal
 * takes about a millisecond; a request lost on the line never gets one, and each such wait costs this much.
 */
export const SETTLE_LIMIT_MS = 25;

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Waits until the work a clock step started has settled: the microtasks and I/O callbacks run, then, while the
 * board has I/O in flight, waits for it to go idle (at most `limitMs` of real time in all: an answer that will
 * never come, on a noisy or cut line, is the master's timeout to notice, on the next steps' mission time), then
 * one more turn of the event loop for whatever the last answers started.
 */
export async function settle(
  pendingIo: () => number,
  limitMs = SETTLE_LIMIT_MS,
  ioIdle?: () => Promise<void>,
): Promise<void> {
  await immediate();
  const deadline = performance.now() + limitMs;
  while (pendingIo() > 0) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    if (ioIdle) {
      // Sleep until the answers are in rather than spin: the rig and its devices need the CPU meanwhile.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ioIdle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    }
    // setImmediate, not a timer: Node rounds timers up to 1 ms, which would cost a millisecond every step; the
    // immediate runs right after the event loop has polled, and lets what the answers started queue its I/O.
    await immediate();
  }
  await immediate();
}

export interface ClockFollower {
  /** The mission time of the rig's first message: start the VirtualClock there. */
  readonly startMs: number;
  /** Starts answering the rig: each `advanceTo` moves `clock`, settles, and is answered. */
  follow(clock: VirtualClock, pendingIo: () => number, ioIdle?: () => Promise<void>): void;
  /** Resolves when the socket has closed (the rig is done or gone). */
  readonly closed: Promise<void>;
  close(): void;
}

function parseAdvance(line: string): number {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    throw new Error(`clock follower: not JSON: ${line.slice(0, 80)}`);
  }
  const ms = (message as { advanceTo?: unknown } | null)?.advanceTo;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new Error(`clock follower: expected {"advanceTo": MS}, got ${line.slice(0, 80)}`);
  }
  return ms;
}

/**
 * Connects to the rig's socket and waits for its first message. Resolves with the follower, or with undefined
 * when the socket closes before the first message (nothing to run).
 */
export async function connectClockFollower(path: string): Promise<ClockFollower | undefined> {
  const socket: Socket = createConnection({ path });
  socket.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', (error) =>
      reject(new UsageError(`--clock-follow: cannot connect to ${path}: ${error.message}`)),
    );
  });
  const lines: string[] = [];
  let buffered = '';
  let wake: (() => void) | undefined;
  let ended = false;
  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => {
      ended = true;
      wake?.();
      resolve();
    });
  });
  // After the connection, an error (the rig gone) ends the run like a close does.
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) if (part.trim()) lines.push(part);
    wake?.();
  });
  const nextLine = async (): Promise<string | undefined> => {
    while (lines.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
    return lines.shift();
  };

  const first = await nextLine();
  if (first === undefined) return undefined;
  const startMs = parseAdvance(first);
  return {
    startMs,
    closed,
    close: () => socket.destroy(),
    follow(clock, pendingIo, ioIdle) {
      void (async () => {
        try {
          for (let line: string | undefined = first; line !== undefined; line = await nextLine()) {
            const ms = parseAdvance(line);
            clock.advanceTo(ms);
            await settle(pendingIo, SETTLE_LIMIT_MS, ioIdle);
            if (socket.destroyed) return;
            socket.write(`${JSON.stringify({ at: clock.now() })}\n`);
          }
        } catch (error) {
          process.stderr.write(`skynode fsw: ${(error as Error).message}\n`);
          socket.destroy();
        }
      })();
    },
  };
}
