/**
 * Watchdogs: the kernel's hardware watchdog (`/dev/watchdogN`, the watchdog core's char device) and systemd's
 * service watchdog (`WatchdogSec=` in the unit). Either resets something when the flight software stops kicking:
 * the board, or the service.
 */
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { basename } from 'node:path';
import { errorText, type HalContext, listDir, readOptionalInteger, readOptionalText, under } from '../io.js';
import { runTool } from '../tools.js';
import type { ActuationResult, DeviceInfo, Watchdog } from '../types.js';

const CLASS_DIR = '/sys/class/watchdog';

/** A watchdog the kernel knows, from `/sys/class/watchdog/watchdogN`. */
export interface WatchdogEntry {
  /** `watchdog0`. */
  readonly name: string;
  /** The driver's name for the hardware (`identity`): `Software Watchdog`, `bcm2835-pm-wdt`, `tegra_wdt`. */
  readonly identity?: string;
  /** The timeout in seconds (`timeout`), when the driver reports it. */
  readonly timeoutS?: number;
  /** `/dev/watchdogN`. */
  readonly devicePath: string;
  /** Whether the char device node exists (udev made it; a container may not have it). */
  readonly deviceExists: boolean;
}

/** The watchdogs under `/sys/class/watchdog`, with `identity`, `timeout` (seconds) and their `/dev` node. */
export async function listWatchdogs(ctx: HalContext): Promise<WatchdogEntry[]> {
  const devNodes = new Set(await listDir(ctx, under(ctx, '/dev')));
  const found: WatchdogEntry[] = [];
  for (const name of await listDir(ctx, under(ctx, CLASS_DIR))) {
    if (!/^watchdog\d+$/.test(name)) continue;
    const dir = under(ctx, `${CLASS_DIR}/${name}`);
    const [identity, timeoutS] = await Promise.all([
      readOptionalText(ctx, `${dir}/identity`).catch(() => undefined),
      readOptionalInteger(ctx, `${dir}/timeout`).catch(() => undefined),
    ]);
    found.push({
      name,
      ...(identity ? { identity } : {}),
      ...(timeoutS !== undefined ? { timeoutS } : {}),
      devicePath: `/dev/${name}`,
      deviceExists: devNodes.has(name),
    });
  }
  return found;
}

/** A kernel watchdog device; `open()` arms it ahead of the first kick. */
export interface DevWatchdog extends Watchdog {
  /**
   * Opens (and so arms) the device and reads its timeout and identity. `kick()` does this itself when the
   * device is not open yet, so calling it is optional; it is there for a start-up check before the first kick.
   */
  open(): Promise<ActuationResult>;
}

/** The sysfs name for a device node: `/dev/watchdog` is the legacy alias of `watchdog0`. */
function sysfsName(path: string): string {
  const name = basename(path);
  return name === 'watchdog' ? 'watchdog0' : name;
}

function openErrorText(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const why = errorText(error);
  switch (code) {
    case 'ENOENT':
      return `${path} does not exist: load the board's watchdog driver (or softdog: modprobe softdog)`;
    case 'EBUSY':
      return `${path} is held by another process (systemd's RuntimeWatchdogSec=, a watchdog daemon): stop it, or use the systemd watchdog instead`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied opening ${path}: run as root or grant the service user access with a udev rule (${why})`;
    default:
      return `opening ${path} failed: ${why}`;
  }
}

/**
 * The kernel watchdog at `path` (default `/dev/watchdog`, i.e. watchdog0). The device is opened write-only on
 * the first `kick()` (or `open()`): opening arms it, every kick writes one byte, and `close()` writes the magic
 * `V` before closing so that an orderly stop disarms it (unless the kernel was built with nowayout). The timeout
 * (seconds) and identity come from `/sys/class/watchdog/watchdogN/{timeout,identity}` when it is opened.
 * A failed open is retried on the next kick; kick never throws.
 */
export function devWatchdog(ctx: HalContext, options: { path?: string } = {}): DevWatchdog {
  const devicePath = options.path ?? '/dev/watchdog';
  const name = sysfsName(devicePath);
  let handle: FileHandle | undefined;
  let opening: Promise<ActuationResult> | undefined;
  let closed = false;
  let timeoutS: number | undefined;
  let info: DeviceInfo = { source: `${name} (${devicePath})`, driver: 'watchdog' };

  const doOpen = async (): Promise<ActuationResult> => {
    try {
      // O_WRONLY without O_CREAT: where the node is missing, creating a regular file there would make every
      // kick "succeed" while nothing watches.
      handle = await open(under(ctx, devicePath), constants.O_WRONLY);
    } catch (error) {
      return { ok: false, error: openErrorText(devicePath, error) };
    }
    const dir = under(ctx, `${CLASS_DIR}/${name}`);
    // Timeout and identity are for logs and the kick period; a watchdog without them still works.
    timeoutS = await readOptionalInteger(ctx, `${dir}/timeout`).catch(() => undefined);
    const identity = await readOptionalText(ctx, `${dir}/identity`).catch(() => undefined);
    if (identity) info = { source: `${name} ${identity} (${devicePath})`, driver: 'watchdog' };
    return { ok: true };
  };

  const ensureOpen = async (): Promise<ActuationResult> => {
    if (closed) return { ok: false, error: `${devicePath}: watchdog closed` };
    if (handle) return { ok: true };
    // Concurrent kicks share one open, so the device is never opened twice (the second would get EBUSY).
    opening ??= doOpen().finally(() => {
      opening = undefined;
    });
    return opening;
  };

  return {
    get info() {
      return info;
    },
    get timeoutS() {
      return timeoutS;
    },
    open: ensureOpen,
    async kick() {
      const opened = await ensureOpen();
      if (!opened.ok || !handle) return opened.ok ? { ok: false, error: `${devicePath}: not open` } : opened;
      try {
        // Any write pings the watchdog; a byte other than 'V' also cancels a pending magic close.
        await handle.write('k');
        return { ok: true };
      } catch (error) {
        return { ok: false, error: `kicking ${devicePath} failed: ${errorText(error)}` };
      }
    },
    async close() {
      closed = true;
      await opening;
      const open = handle;
      handle = undefined;
      if (!open) return;
      try {
        await open.write('V');
      } catch {
        // Nothing more to do on shutdown: without the magic close the watchdog stays armed, as after a crash.
      }
      await open.close().catch(() => undefined);
    },
  };
}

/** systemd's service watchdog, with `ready()` for Type=notify units. */
export interface SystemdWatchdog extends Watchdog {
  /** Tells systemd start-up is complete (`READY=1`), for Type=notify units. */
  ready(): Promise<ActuationResult>;
}

async function runNotify(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<ActuationResult> {
  const outcome = await runTool({ env }, 'systemd-notify', args, {
    missingHint: 'it ships with systemd (apt install systemd)',
  });
  return outcome.ok ? { ok: true } : { ok: false, error: outcome.error };
}

/**
 * systemd's service watchdog (`WatchdogSec=` in the unit). Node cannot send datagrams on a unix socket, so each
 * kick runs `systemd-notify WATCHDOG=1`; systemd accepts it from a child only with `NotifyAccess=all` in the unit.
 * The timeout is `WATCHDOG_USEC` (microseconds) from the environment systemd gave the service. Without
 * `NOTIFY_SOCKET` (not started by systemd) the watchdog is disabled and every kick says so.
 */
export function systemdWatchdog(ctx: HalContext, options: { notifySocket?: string } = {}): SystemdWatchdog {
  const base = ctx.env ?? process.env;
  const socket = options.notifySocket ?? base.NOTIFY_SOCKET;
  const env: NodeJS.ProcessEnv = socket ? { ...base, NOTIFY_SOCKET: socket } : base;
  const usecText = base.WATCHDOG_USEC?.trim();
  const usec = usecText && /^\d+$/.test(usecText) ? Number.parseInt(usecText, 10) : undefined;
  const timeoutS = usec !== undefined && usec > 0 ? usec / 1_000_000 : undefined;
  const disabled: ActuationResult = {
    ok: false,
    error: 'systemd watchdog disabled: not started by systemd with WatchdogSec= (NOTIFY_SOCKET is unset)',
  };
  let closed = false;

  return {
    info: { source: 'systemd (NOTIFY_SOCKET)', driver: 'systemd' },
    ...(timeoutS !== undefined ? { timeoutS } : {}),
    async kick() {
      if (!socket) return disabled;
      if (closed) return { ok: false, error: 'systemd watchdog closed' };
      return runNotify(env, ['WATCHDOG=1']);
    },
    async ready() {
      if (!socket) return disabled;
      return runNotify(env, ['--ready']);
    },
    async close() {
      if (!socket || closed) return;
      closed = true;
      // STOPPING=1 tells systemd the stop is deliberate, so the missing kicks that follow are not a hang.
      await runNotify(env, ['STOPPING=1']);
    },
  };
}
