/**
 * The flight software deployment: which components run, on which rate groups, and `skynode fsw`, which starts
 * them on a board. Composition only: the behaviour lives in the components.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DestinationStream } from 'pino';
import { boards } from '../../boards/index.js';
import type { TelemetrySample } from '../core/bus.js';
import { type MissionClock, RealClock } from '../core/clock.js';
import type { AnyComponent } from '../core/component.js';
import { DEFAULT_RATE_GROUPS, FlightStack } from '../core/executive.js';
import { createLogger, type Logger, type LogLevel } from '../core/log.js';
import { openStateStore } from '../core/persistence.js';
import type { BoardDefinition, BoardEnvironment, OpenBoard } from '../hal/board.js';
import { boardContext } from '../hal/linux/board.js';
import { systemdWatchdog } from '../hal/linux/watchdog.js';
import { nodeProcessMonitor } from '../hal/process.js';
import type { Watchdog } from '../hal/types.js';
import { isLinkProfile, type LinkProfile } from '../link/profile.js';
import { parseKeyFile, type SdlsKeys } from '../link/sdls.js';
import { power } from '../power/power.js';
import { commanding } from '../services/commanding/commanding.js';
import { createFdir } from '../services/fdir/fdir.js';
import { FLIGHT_RULES } from '../services/fdir/rules.js';
import { health } from '../services/health/health.js';
import { createLink, type LinkConfig } from '../services/link/link.js';
import { modes } from '../services/modes/modes.js';
import { eventReports } from '../services/telemetry/events.js';
import { housekeeping } from '../services/telemetry/housekeeping.js';
import { recorder } from '../services/telemetry/recorder.js';
import { thermal } from '../thermal/thermal.js';
import { type BytePipe, openPipe, parseLinkSpec } from '../transport/pipe.js';

/**
 * The components of the flight software, in start-up order. The mission dictionary derives from this list; the
 * link's configuration (transport, profile, keys) changes nothing in it.
 */
export function flightComponents(
  link: LinkConfig = { profile: 'serial', insecure: true },
): readonly AnyComponent[] {
  // Event reports and the link first: they must be listening before the others' first events (health.BOOT).
  return [
    eventReports,
    createLink(link),
    housekeeping,
    recorder,
    modes,
    commanding,
    health,
    power,
    thermal,
    createFdir(FLIGHT_RULES),
  ];
}

/** Reads a key file (PROTOCOL.md, "Keys"), naming the fix when it is wrong. */
export function loadKeys(path: string): SdlsKeys {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read key file ${path}: ${(error as Error).message}`);
  }
  const parsed = parseKeyFile(text);
  if (!parsed.ok) throw new UsageError(`key file ${path}: ${parsed.error}`);
  return parsed.keys;
}

export function linkProfile(text: string | undefined): LinkProfile {
  const profile = text ?? 'serial';
  if (!isLinkProfile(profile)) throw new UsageError(`--profile takes serial or radio, not '${profile}'`);
  return profile;
}

export function checkLinkSpec(text: string): void {
  const parsed = parseLinkSpec(text);
  if (!parsed.ok) throw new UsageError(parsed.error);
}

export const flightRateGroups = DEFAULT_RATE_GROUPS;

export const DEFAULT_STATE_DIR = '.skynode-state';

export class UsageError extends Error {
  override name = 'UsageError';
}

export function findBoard(name: string): BoardDefinition {
  const board = boards[name];
  if (!board) {
    throw new UsageError(
      `unknown board '${name}': choose one of ${Object.keys(boards).join(', ')}, or give a board file (--board ./boards/mine.ts)`,
    );
  }
  return board;
}

function isBoardDefinition(value: unknown): value is BoardDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as BoardDefinition).name === 'string' &&
    typeof (value as BoardDefinition).open === 'function'
  );
}

/**
 * A board by name (`boards/index.ts`) or by file: a path (`./boards/my-board.ts`, `/etc/skynode/board.js`) whose
 * default export, or else whose only exported board, is a board definition.
 */
export async function loadBoard(nameOrPath: string): Promise<BoardDefinition> {
  if (!/[/\\]|\.[cm]?[jt]s$/.test(nameOrPath)) return findBoard(nameOrPath);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(nameOrPath)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`cannot load board file ${nameOrPath}: ${(error as Error).message}`);
  }
  if (isBoardDefinition(module.default)) return module.default;
  const found = Object.values(module).filter(isBoardDefinition);
  if (found.length === 1 && found[0]) return found[0];
  throw new UsageError(
    `${nameOrPath} exports ${found.length === 0 ? 'no' : 'several'} board definitions: export one as default (export default defineLinuxBoard({...}))`,
  );
}

export interface FlightOptions {
  /** A board name from boards/, or a definition already loaded (`loadBoard`). */
  readonly board: string | BoardDefinition;
  readonly stateDir: string;
  readonly logLevel?: LogLevel;
  readonly logDestination?: DestinationStream;
  readonly clock?: MissionClock;
  /** The link to the ground: a transport spec (`serial:/dev/ttyUSB0@115200`, `tcp-listen:5000`, ...). */
  readonly link?: string;
  /** Or a transport already open (the demo's in-memory link, tests). */
  readonly pipe?: BytePipe;
  readonly profile?: LinkProfile;
  /** Key file path; required with `link` unless `insecure`. */
  readonly keysFile?: string;
  readonly insecure?: boolean;
  /** Called when a command asks for a restart of the flight software. */
  readonly onRestartRequest?: (reason: string) => void;
  /** Called with the stack before its components start, so subscribers see everything from the first event. */
  readonly beforeStart?: (stack: FlightStack) => void;
  /** Log the telemetry of each component at most this often (seconds); 0: never. */
  readonly telemetryLogIntervalS?: number;
  /** Read the board's devices under this directory instead of `/` (a captured tree, a HIL rig's fake sysfs). */
  readonly halRoot?: string;
  /** The environment the drivers' tools run in (PATH, NOTIFY_SOCKET, WATCHDOG_USEC); default: this process's. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunningFlight {
  readonly stack: FlightStack;
  readonly logger: Logger;
  readonly board: BoardDefinition;
  /** I/O the board's drivers have in flight (`OpenBoard.pendingIo`; 0 for a board that does not tell). */
  pendingIo(): number;
  /** Resolves when the board's I/O is next idle (`OpenBoard.ioIdle`; at once for a board that does not tell). */
  ioIdle(): Promise<void>;
  /** Stops the stack and releases the board (GPIO holders stopped, watchdog disarmed) before it resolves. */
  shutdown(reason: string): Promise<void>;
}

/**
 * Under a systemd unit with `WatchdogSec=` the service watchdog must be kicked whatever the board's own watchdog
 * is, or systemd kills a healthy process: when the board has a hardware watchdog, both are kicked together.
 */
function withServiceWatchdog(opened: OpenBoard, env: BoardEnvironment): OpenBoard {
  const serviceManaged = Boolean(env.env?.NOTIFY_SOCKET && env.env.WATCHDOG_USEC);
  const board = opened.devices.watchdog;
  if (!serviceManaged || board?.info.driver === 'systemd') return opened;
  const service = systemdWatchdog(boardContext(env));
  const watchdog: Watchdog = board
    ? {
        info: { source: `${board.info.source} + ${service.info.source}`, driver: 'composite' },
        ...(board.timeoutS !== undefined || service.timeoutS !== undefined
          ? {
              timeoutS: Math.min(
                board.timeoutS ?? Number.POSITIVE_INFINITY,
                service.timeoutS ?? Number.POSITIVE_INFINITY,
              ),
            }
          : {}),
        async kick() {
          const [a, b] = await Promise.all([board.kick(), service.kick()]);
          if (!a.ok) return a;
          return b;
        },
        async close() {
          await Promise.all([board.close(), service.close()]);
        },
      }
    : service;
  return {
    devices: { ...opened.devices, watchdog },
    ...(opened.pendingIo ? { pendingIo: () => opened.pendingIo?.() ?? 0 } : {}),
    ...(opened.ioIdle ? { ioIdle: () => opened.ioIdle?.() ?? Promise.resolve() } : {}),
    // The board closes its own devices (its hardware watchdog among them); the service watchdog is ours to close.
    async close() {
      await Promise.all([opened.close(), service.close()]);
    },
  };
}

/** Every board runs the flight software's own process: boards that do not list it get it here. */
function withProcessMonitor(opened: OpenBoard, stateDir: string): OpenBoard {
  if (opened.devices.process) return opened;
  const process = nodeProcessMonitor({ stateDir });
  return {
    devices: { ...opened.devices, process },
    ...(opened.pendingIo ? { pendingIo: () => opened.pendingIo?.() ?? 0 } : {}),
    ...(opened.ioIdle ? { ioIdle: () => opened.ioIdle?.() ?? Promise.resolve() } : {}),
    async close() {
      process.close();
      await opened.close();
    },
  };
}

/** Opens the board and the state directory and starts the stack on them. */
export function startFlight(options: FlightOptions): RunningFlight {
  const board = typeof options.board === 'string' ? findBoard(options.board) : options.board;
  const clock = options.clock ?? new RealClock();
  const logger = createLogger({
    clock,
    level: options.logLevel ?? 'info',
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const profile = options.profile ?? 'serial';
  // A board with a radio/serial port of its own links there unless told otherwise.
  const linkSpec =
    options.link ??
    (board.link && !options.pipe ? `serial:${board.link.path}@${board.link.baud}` : undefined);
  if (linkSpec) checkLinkSpec(linkSpec);
  if ((linkSpec || options.pipe) && !options.keysFile && !options.insecure) {
    throw new UsageError(
      'refusing to start a link without authentication: give --keys FILE (PROTOCOL.md, "Keys"), or --insecure-no-auth for development',
    );
  }
  const keys = options.keysFile ? loadKeys(options.keysFile) : undefined;
  const stateDir = resolve(options.stateDir);
  const store = openStateStore(stateDir);
  let pipe: BytePipe | undefined;
  let hardware: OpenBoard;
  const boardEnv: BoardEnvironment = {
    stateDir,
    now: () => clock.now(),
    clock,
    env: options.env ?? process.env,
    ...(options.halRoot ? { root: resolve(options.halRoot) } : {}),
  };
  try {
    hardware = withProcessMonitor(withServiceWatchdog(board.open(boardEnv), boardEnv), stateDir);
  } catch (error) {
    store.close();
    throw error;
  }
  let stack: FlightStack;
  try {
    pipe = linkSpec ? openPipe(linkSpec, { scheduler: clock.scheduler }) : options.pipe;
    stack = FlightStack.create({
      components: flightComponents({
        profile,
        ...(pipe ? { pipe } : {}),
        ...(keys ? { keys } : {}),
        insecure: !keys,
      }),
      clock,
      store,
      logger: logger.child({ board: board.name }),
      hal: hardware.devices,
      rateGroups: flightRateGroups,
      ...(options.onRestartRequest ? { onRestartRequest: options.onRestartRequest } : {}),
    });
    options.beforeStart?.(stack);
    stack.start();
    // Under systemd (Type=notify) start-up ends here: READY=1 lets units ordered after this one start.
    if (boardEnv.env?.NOTIFY_SOCKET) {
      void systemdWatchdog(boardContext(boardEnv))
        .ready()
        .then((result) => {
          if (!result.ok) logger.warn({ error: result.error }, 'systemd readiness notification failed');
        });
    }
  } catch (error) {
    void pipe?.close();
    hardware.close();
    store.close();
    throw error;
  }
  const stopTelemetryLog = logTelemetry(stack, logger, options.telemetryLogIntervalS ?? 1);
  let down = false;
  return {
    stack,
    logger,
    board,
    pendingIo: () => hardware.pendingIo?.() ?? 0,
    ioIdle: () => hardware.ioIdle?.() ?? Promise.resolve(),
    async shutdown(reason) {
      if (down) return;
      down = true;
      stopTelemetryLog();
      stack.stop();
      void pipe?.close();
      store.close();
      try {
        await hardware.close();
      } catch (error) {
        logger.error({ err: error }, 'releasing the board failed');
      }
      logger.info({ reason }, 'flight stack stopped');
    },
  };
}

/**
 * One log line per component with the values it published since its last line, at most every `intervalS`
 * (mission time), written when a rate-group tick completes so a tick's samples land together.
 */
function logTelemetry(stack: FlightStack, logger: Logger, intervalS: number): () => void {
  if (intervalS <= 0) return () => {};
  const pending = new Map<string, Record<string, unknown>>();
  const lastLogged = new Map<string, number>();
  const samples = stack.bus.telemetry$.subscribe((sample: TelemetrySample) => {
    const dot = sample.name.indexOf('.');
    const component = sample.name.slice(0, dot);
    let values = pending.get(component);
    if (!values) {
      values = {};
      pending.set(component, values);
    }
    values[sample.name.slice(dot + 1)] = sample.value;
  });
  const ticks = [...stack.rateGroups.values()].map((group) =>
    group.ticks$.subscribe(() => {
      const now = stack.clock.now();
      for (const [component, values] of pending) {
        const last = lastLogged.get(component);
        // 10 % slack: a tick a few ms early must not push a 1 s line to the next tick.
        if (last !== undefined && now - last < intervalS * 900) continue;
        logger.info({ component, telemetry: values }, 'telemetry');
        lastLogged.set(component, now);
        pending.delete(component);
      }
    }),
  );
  return () => {
    samples.unsubscribe();
    for (const t of ticks) t.unsubscribe();
  };
}
