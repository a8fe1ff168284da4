/**
 * Load switches on GPIO lines, through the GPIO character device (`/dev/gpiochipN`). Node cannot issue the
 * GPIO ioctls itself, so this drives the libgpiod command-line tools (Debian/Ubuntu package `gpiod`), the
 * standard userspace interface, in both of their incompatible generations:
 * - v1: `gpioset --mode=signal gpiochip0 17=1` holds the line until SIGTERM; `gpioget gpiochip0 17`; names
 *   through `gpiofind`; `gpioinfo gpiochip0` shows who holds a line.
 * - v2: `gpioset -c gpiochip0 --banner 17=1` holds the line until killed and prints a banner once it has it;
 *   `gpioget -c gpiochip0 --numeric --as-is 17`; names directly.
 * A line keeps its level only while the process that requested it runs (after that the kernel makes no promise),
 * so each commanded state is held by a running gpioset: the holder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { errorText, type HalContext, listDir, readOptionalInteger, readOptionalText, under } from '../io.js';
import { runTool, type ToolOutcome } from '../tools.js';
import type { ActuationResult, LoadSwitch, Reading } from '../types.js';

const INSTALL_HINT = 'install the libgpiod tools (apt install gpiod)';

/** A GPIO chip: its char device name, and from the legacy sysfs class, when the kernel has it, label and size. */
export interface GpioChipEntry {
  /** `gpiochip0`: the name of the char device and of `/sys/bus/gpio/devices/gpiochip0`. */
  readonly name: string;
  /** The driver's label (`pinctrl-bcm2711`, `tegra234-gpio`), from `/sys/class/gpio/gpiochipNNN/label`. */
  readonly label?: string;
  /** Number of lines (`ngpio`). */
  readonly lines?: number;
  /** The first global (legacy sysfs) GPIO number (`base`). */
  readonly base?: number;
  /** Whether `/dev/gpiochipN` exists, which the tools need. */
  readonly charDevice: boolean;
}

const CHIP_NAME = /^gpiochip\d+$/;

/**
 * The GPIO chips: `/sys/bus/gpio/devices/gpiochipN` and `/dev/gpiochipN`, with label, `ngpio` (lines) and `base`
 * from `/sys/class/gpio/gpiochipNNN/` (named by base, not by N) where CONFIG_GPIO_SYSFS provides it; that entry's
 * `device/` is the parent device, which holds the `gpiochipN` it belongs to.
 */
export async function listGpioChips(ctx: HalContext): Promise<GpioChipEntry[]> {
  const names = new Set(
    (await listDir(ctx, under(ctx, '/sys/bus/gpio/devices'))).filter((n) => CHIP_NAME.test(n)),
  );
  const devNodes = new Set((await listDir(ctx, under(ctx, '/dev'))).filter((n) => CHIP_NAME.test(n)));
  for (const name of devNodes) names.add(name);

  const legacy = new Map<string, { label?: string; lines?: number; base?: number }>();
  for (const entry of await listDir(ctx, under(ctx, '/sys/class/gpio'))) {
    if (!CHIP_NAME.test(entry)) continue;
    const dir = under(ctx, `/sys/class/gpio/${entry}`);
    const [label, lines, base] = await Promise.all([
      readOptionalText(ctx, `${dir}/label`).catch(() => undefined),
      readOptionalInteger(ctx, `${dir}/ngpio`).catch(() => undefined),
      readOptionalInteger(ctx, `${dir}/base`).catch(() => undefined),
    ]);
    const attributes = {
      ...(label ? { label } : {}),
      ...(lines !== undefined ? { lines } : {}),
      ...(base !== undefined ? { base } : {}),
    };
    const owners = (await listDir(ctx, `${dir}/device`)).filter((n) => CHIP_NAME.test(n));
    for (const owner of owners) {
      legacy.set(owner, attributes);
      names.add(owner);
    }
  }

  return [...names]
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((name) => ({ name, ...legacy.get(name), charDevice: devNodes.has(name) }));
}

export interface GpioLoadSwitchOptions {
  /** The load's name for the power system and the ground (`heater`). */
  readonly name: string;
  /**
   * The chip: `gpiochip0`, a number, a `/dev` path, or its label (`tegra234-gpio`, looked up in sysfs).
   * May be left out when `line` is a name, which the tools then look for on every chip.
   */
  readonly chip?: string;
  /** The line offset on the chip, or the line's name from the device tree (`GPIO17`, `PWR_EN`). */
  readonly line: number | string;
  /** The load is on when the line is low. */
  readonly activeLow?: boolean;
  /** The state to drive at once; without it the line is left alone until the first `set()`. */
  readonly initial?: boolean;
}

export interface GpioLoadSwitch extends LoadSwitch {
  /** Stops the holder: the line is released and its level is no longer guaranteed. */
  close(): Promise<void>;
}

/** The libgpiod tools, with the install hint when they are missing. */
function runGpioTool(ctx: HalContext, tool: string, args: readonly string[]): Promise<ToolOutcome> {
  return runTool(ctx, tool, args, { missingHint: INSTALL_HINT });
}

/** What a switch resolves once: the tools' generation and how to name the line to them. */
interface Setup {
  readonly version: 1 | 2;
  /** v1: the chip argument; v2: the `-c` argument, when there is one. */
  readonly chip?: string;
  /** v1: the offset; v2: the offset or the name. */
  readonly line: string;
  /** v2: the line is a name that reads like a number. */
  readonly byName: boolean;
}

interface Holder {
  readonly child: ChildProcess;
  readonly on: boolean;
  stderr: string;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  /** Set when we stop it, so that its exit is not taken for a failure. */
  stopping: boolean;
  readonly closed: Promise<void>;
}

function exitText(holder: Holder): string {
  const how = holder.exit?.signal ? `signal ${holder.exit.signal}` : `exit code ${holder.exit?.code ?? '?'}`;
  const said = holder.stderr.trim().split('\n').filter(Boolean).pop();
  return said ? `${how}: ${said}` : how;
}

/**
 * A load switch on a GPIO line. `set(on)` stops the previous holder and starts a gpioset holding the physical
 * level (inverted when `activeLow`), and waits until it has the line (v2: its banner; v1: `gpioinfo` shows the
 * line held by gpioset) or has failed. The old holder must exit first: the kernel grants a line to one request
 * at a time, so a second gpioset on the same line fails with EBUSY while the first runs.
 * `read()` reports the commanded state while the holder runs, and `failed` once it has died on its own.
 */
export function gpioLoadSwitch(ctx: HalContext, options: GpioLoadSwitchOptions): GpioLoadSwitch {
  const { name, activeLow = false } = options;
  const where = `${options.chip ?? ''}${options.chip ? ':' : ''}${options.line}`;
  let setup: Setup | undefined;
  let holder: Holder | undefined;
  let commanded: boolean | undefined;
  let died: string | undefined;
  let closed = false;

  // set/read/close run one at a time: two gpiosets racing for the line would leave the wrong one holding it.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const result = queue.then(task);
    queue = result.catch(() => undefined);
    return result;
  };

  const resolveSetup = async (): Promise<{ ok: true; setup: Setup } | { ok: false; error: string }> => {
    if (setup) return { ok: true, setup };
    const version = await runGpioTool(ctx, 'gpioset', ['--version']);
    if (!version.ok) return version;
    const major = /\(libgpiod\)\s+v(\d+)\./.exec(version.stdout)?.[1];
    if (major !== '1' && major !== '2') {
      return { ok: false, error: `gpioset --version: unknown libgpiod version '${version.stdout.trim()}'` };
    }
    const chip = options.chip === undefined ? undefined : await chipArgument(ctx, options.chip);
    if (major === '1') {
      if (typeof options.line === 'string') {
        // v1 tools take offsets only; gpiofind turns a name into `gpiochipN offset`.
        const found = await runGpioTool(ctx, 'gpiofind', [options.line]);
        if (!found.ok) return { ok: false, error: `GPIO line '${options.line}' not found: ${found.error}` };
        const [foundChip, offset] = found.stdout.trim().split(/\s+/);
        if (!foundChip || !offset)
          return { ok: false, error: `gpiofind ${options.line}: '${found.stdout.trim()}'` };
        setup = { version: 1, chip: foundChip, line: offset, byName: false };
      } else {
        if (chip === undefined) return { ok: false, error: `load ${name}: a line offset needs a chip` };
        setup = { version: 1, chip, line: String(options.line), byName: false };
      }
    } else {
      if (typeof options.line === 'number' && chip === undefined) {
        return { ok: false, error: `load ${name}: a line offset needs a chip` };
      }
      setup = {
        version: 2,
        ...(chip !== undefined ? { chip } : {}),
        line: String(options.line),
        byName: typeof options.line === 'string' && /^\d+$/.test(options.line),
      };
    }
    return { ok: true, setup };
  };

  const stop = async (old: Holder): Promise<void> => {
    old.stopping = true;
    if (!old.exit) old.child.kill('SIGTERM');
    await old.closed;
  };

  const start = async (s: Setup, on: boolean): Promise<ActuationResult> => {
    const level = on !== activeLow ? 1 : 0;
    if (s.version === 1) {
      // Confirming a v1 holder means seeing "gpioset" hold the line, which proves nothing if one already did.
      const before = await lineUseV1(s);
      if (before?.used) {
        return {
          ok: false,
          error: `line ${s.line} of ${s.chip} is already requested by ${before.consumer ?? 'another process'} (a request would fail with EBUSY)`,
        };
      }
    }
    const args =
      s.version === 1
        ? ['--mode=signal', s.chip ?? '', `${s.line}=${level}`]
        : [
            ...(s.chip !== undefined ? ['-c', s.chip] : []),
            '--banner',
            ...(s.byName ? ['--by-name'] : []),
            `${s.line}=${level}`,
          ];
    const child = spawn('gpioset', args, { env: ctx.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let confirm: () => void = () => undefined;
    const bannerSeen = new Promise<void>((resolve) => {
      confirm = resolve;
    });
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout = (stdout + chunk).slice(-500);
      if (stdout.includes('Setting line')) confirm();
    });
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', resolve);
    });
    if (spawned) {
      return {
        ok: false,
        error:
          (spawned as NodeJS.ErrnoException).code === 'ENOENT'
            ? `gpioset not found on PATH: ${INSTALL_HINT}`
            : `starting gpioset failed: ${errorText(spawned)}`,
      };
    }
    const next: Holder = {
      child,
      on,
      stderr: '',
      stopping: false,
      closed: new Promise((resolve) => {
        child.once('close', (code, signal) => {
          next.exit = { code, signal };
          if (!next.stopping && holder === next) {
            died = `gpioset holding ${where} for ${name} ended unexpectedly (${exitText(next)}); the line is no longer driven`;
            holder = undefined;
          }
          resolve();
        });
      }),
    };
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      next.stderr = (next.stderr + chunk).slice(-2000);
    });

    const held =
      s.version === 2
        ? await Promise.race([bannerSeen.then(() => true), next.closed.then(() => false)])
        : await heldV1(s, next);
    if (!held || next.exit) {
      await next.closed;
      return { ok: false, error: `gpioset ${args.join(' ')} failed (${exitText(next)})` };
    }
    holder = next;
    return { ok: true };
  };

  /**
   * v1: who holds the line, from `gpioinfo <chip>` (`line  17:  "PWR_EN"  "gpioset"  output  active-high [used]`);
   * undefined when gpioinfo cannot say (missing, or failing).
   */
  const lineUseV1 = async (s: Setup): Promise<{ used: boolean; consumer?: string } | undefined> => {
    const info = await runGpioTool(ctx, 'gpioinfo', [s.chip ?? '']);
    if (!info.ok) return undefined;
    const pattern = new RegExp(`^\\s*line\\s+${s.line}:\\s+("[^"]*"|\\S+)\\s+("[^"]*"|\\S+)`);
    for (const text of info.stdout.split('\n')) {
      const match = pattern.exec(text);
      if (match) return { used: text.includes('[used'), ...(match[2] ? { consumer: match[2] } : {}) };
    }
    // gpioinfo lists every line of the chip; one missing from it is not in use.
    return { used: false };
  };

  /**
   * v1 gpioset prints nothing once it holds the line, and a failed request ends it at once; gpioinfo shows the
   * line `[used]` by consumer "gpioset" when the request went through (the caller checked the line was free
   * before, so that gpioset is ours). Each gpioinfo run takes a few ms, which paces the polling without a timer.
   * Without gpioinfo, a holder still running counts as started.
   */
  const heldV1 = async (s: Setup, next: Holder): Promise<boolean> => {
    for (let attempt = 0; attempt < 50 && !next.exit; attempt++) {
      const use = await lineUseV1(s);
      if (use === undefined) break;
      if (use.used && use.consumer === '"gpioset"') return true;
    }
    return !next.exit;
  };

  const set = (on: boolean): Promise<ActuationResult> =>
    serial(async () => {
      if (closed) return { ok: false, error: `load ${name}: switch closed` };
      if (holder && !holder.exit && holder.on === on) return { ok: true };
      const resolved = await resolveSetup();
      if (!resolved.ok) return { ok: false, error: `load ${name} (${where}): ${resolved.error}` };
      if (holder) {
        await stop(holder);
        holder = undefined;
      }
      const started = await start(resolved.setup, on);
      if (!started.ok) return { ok: false, error: `load ${name} (${where}): ${started.error}` };
      commanded = on;
      died = undefined;
      return { ok: true };
    });

  const readLine = async (): Promise<Reading<boolean>> => {
    const resolved = await resolveSetup();
    if (!resolved.ok) return { quality: 'failed', time: ctx.now(), error: `load ${name}: ${resolved.error}` };
    const s = resolved.setup;
    // v2 --as-is reads without turning an output into an input; v1 has no such option before 1.6.
    const args =
      s.version === 1
        ? [s.chip ?? '', s.line]
        : [
            ...(s.chip !== undefined ? ['-c', s.chip] : []),
            '--numeric',
            '--as-is',
            ...(s.byName ? ['--by-name'] : []),
            s.line,
          ];
    const result = await runGpioTool(ctx, 'gpioget', args);
    const time = ctx.now();
    if (!result.ok) return { quality: 'failed', time, error: `load ${name} (${where}): ${result.error}` };
    const text = result.stdout.trim();
    if (text !== '0' && text !== '1') {
      return { quality: 'failed', time, error: `load ${name}: gpioget printed '${text.slice(0, 40)}'` };
    }
    return { quality: 'ok', value: (text === '1') !== activeLow, time };
  };

  const read = (): Promise<Reading<boolean>> =>
    serial(async () => {
      if (died !== undefined) return { quality: 'failed', time: ctx.now(), error: died };
      // While our holder runs it has the line requested, and the kernel refuses gpioget a second request
      // (EBUSY): the commanded state is the best knowledge there is, and the holder being alive backs it.
      if (holder && !holder.exit && commanded !== undefined)
        return { quality: 'ok', value: commanded, time: ctx.now() };
      return readLine();
    });

  if (options.initial !== undefined) void set(options.initial);

  return {
    info: { source: `gpio ${where}`, driver: 'gpio' },
    name,
    read,
    set,
    close: () =>
      serial(async () => {
        closed = true;
        const old = holder;
        holder = undefined;
        if (old) await stop(old);
      }),
  };
}

/** The chip argument for the tools: names, numbers and paths as given; a label looked up in sysfs. */
async function chipArgument(ctx: HalContext, chip: string): Promise<string> {
  if (CHIP_NAME.test(chip) || /^\d+$/.test(chip) || chip.startsWith('/')) return chip;
  const match = (await listGpioChips(ctx).catch(() => [])).find((entry) => entry.label === chip);
  // Unknown to sysfs (no CONFIG_GPIO_SYSFS): v1 tools look labels up themselves; v2 will say it has no such chip.
  return match?.name ?? chip;
}
