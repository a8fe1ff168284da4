/**
 * Structured logging with pino, stamped with mission time (so a virtual-time run logs virtual time). One JSON
 * object per line on stdout by default: what journald, a HIL rig or `jq` reads.
 */
import { type DestinationStream, type Level, type Logger as PinoLogger, pino } from 'pino';
import type { MissionClock } from './clock.js';

export type Logger = PinoLogger;
export type LogLevel = Level | 'silent';

export interface LoggerOptions {
  readonly clock: MissionClock;
  readonly level?: LogLevel;
  /** Where lines go; stdout (synchronously, so a crash loses no line) when omitted. */
  readonly destination?: DestinationStream;
  readonly name?: string;
}

export function createLogger(options: LoggerOptions): Logger {
  const { clock } = options;
  const destination = options.destination ?? pino.destination({ fd: 1, sync: true });
  return pino(
    {
      name: options.name ?? 'skynode',
      level: options.level ?? 'info',
      base: undefined,
      // Mission time, not the wall clock: in virtual time the log follows the simulation.
      timestamp: () => `,"time":"${new Date(clock.now()).toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // Telemetry and event arguments may hold bigint (u64) or bytes, which JSON cannot carry as they are.
        logMethod(args, method) {
          method.apply(this, args.map(jsonSafe) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

/** A logger that drops everything (for tests that do not look at logs). */
export function silentLogger(clock: MissionClock): Logger {
  return createLogger({ clock, level: 'silent' });
}

/** Makes a value JSON-serialisable: bigint as a decimal string, bytes as hex; deep. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (value instanceof Error || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(jsonSafe);
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const safe = jsonSafe(v);
    if (safe !== v) changed = true;
    out[k] = safe;
  }
  return changed ? out : value;
}
