/**
 * What the Linux drivers need from their surroundings, injected so that they run against a fake sysfs tree in
 * tests (`root`), can be given an I/O layer that fails the way the kernel does (EIO), and stamp readings with
 * mission time rather than the wall clock.
 */
import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Reading } from './types.js';

/** The file operations drivers use. The default is node:fs; tests may wrap it to inject kernel errors. */
export interface FileIo {
  readFile(path: string): Promise<string>;
  writeFile(path: string, data: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  readlink(path: string): Promise<string>;
}

export const nodeFileIo: FileIo = {
  readFile: (path) => readFile(path, 'utf8'),
  writeFile: (path, data) => writeFile(path, data),
  readdir: (path) => readdir(path),
  readlink: (path) => readlink(path),
};

export interface HalContext {
  /** Filesystem root the drivers read under: `/` on a board, a fake or captured tree in tests and `--root`. */
  readonly root: string;
  /** Mission time (UTC ms), from the mission clock. */
  now(): number;
  readonly io: FileIo;
  /** PATH-style environment for the tools drivers run (nvidia-smi, gpioset); defaults to the process's. */
  readonly env?: NodeJS.ProcessEnv;
}

export function halContext(options: Partial<HalContext> & Pick<HalContext, 'now'>): HalContext {
  return {
    root: options.root ?? '/',
    io: options.io ?? nodeFileIo,
    now: options.now,
    ...(options.env ? { env: options.env } : {}),
  };
}

/** An absolute device path under the context's root: `under(ctx, '/sys/class/thermal')`. */
export function under(ctx: Pick<HalContext, 'root'>, path: string): string {
  return join(ctx.root, path);
}

/** The message of an error, with its errno code (`EIO: ...`) when it has one. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.startsWith(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/** Reads a sysfs attribute as trimmed text. */
export async function readText(ctx: HalContext, path: string): Promise<string> {
  return (await ctx.io.readFile(path)).trim();
}

/** Reads a sysfs attribute holding one integer (sysfs numbers are decimal integers in the kernel's units). */
export async function readInteger(ctx: HalContext, path: string): Promise<number> {
  const text = await readText(ctx, path);
  if (!/^-?\d+$/.test(text)) throw new Error(`${path}: expected an integer, read '${text.slice(0, 40)}'`);
  return Number.parseInt(text, 10);
}

/** Reads an optional attribute: undefined when the file does not exist, other errors thrown. */
export async function readOptionalInteger(ctx: HalContext, path: string): Promise<number | undefined> {
  try {
    return await readInteger(ctx, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function readOptionalText(ctx: HalContext, path: string): Promise<string | undefined> {
  try {
    return await readText(ctx, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Entries of a directory, sorted naturally (`hwmon2` before `hwmon10`); empty when it does not exist. */
export async function listDir(ctx: HalContext, path: string): Promise<string[]> {
  try {
    const entries = await ctx.io.readdir(path);
    return entries.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' ||
      (error as NodeJS.ErrnoException).code === 'ENOTDIR'
    ) {
      return [];
    }
    throw error;
  }
}

export interface ReadingPolicy<T> {
  /** A good value older than this stands in for a failed read as `stale`; after it the reading is `failed`. */
  readonly holdLastGoodMs?: number;
  /**
   * When set, a value that has not changed at all for this long is reported `stale`: real sensors have noise, and
   * a frozen register means a hung bus or a driver that stopped updating.
   */
  readonly frozenAfterMs?: number;
  /** Physical plausibility: outside it the reading is `outOfRange`. */
  readonly plausible?: (value: T) => string | undefined;
  /** Whether two values are equal, for the frozen check (default: JSON equality). */
  readonly same?: (a: T, b: T) => boolean;
}

/**
 * Turns a raw read function into a `read()` that never rejects and grades its result: ok, out of range, stale
 * (last good value standing in, or a frozen value) or failed.
 */
export function gradedReader<T>(
  ctx: Pick<HalContext, 'now'>,
  sample: () => Promise<T>,
  policy: ReadingPolicy<T> = {},
): () => Promise<Reading<T>> {
  let lastGood: { value: T; time: number } | undefined;
  let unchangedSince: { value: T; time: number } | undefined;
  const same = policy.same ?? ((a: T, b: T) => JSON.stringify(a) === JSON.stringify(b));
  return async () => {
    let value: T;
    try {
      value = await sample();
    } catch (error) {
      const time = ctx.now();
      const why = errorText(error);
      if (lastGood && policy.holdLastGoodMs !== undefined && time - lastGood.time <= policy.holdLastGoodMs) {
        return { quality: 'stale', value: lastGood.value, time: lastGood.time, error: why };
      }
      return { quality: 'failed', time, error: why };
    }
    const time = ctx.now();
    const implausible = policy.plausible?.(value);
    if (implausible !== undefined) return { quality: 'outOfRange', value, time, error: implausible };
    if (policy.frozenAfterMs !== undefined) {
      if (!unchangedSince || !same(unchangedSince.value, value)) unchangedSince = { value, time };
      else if (time - unchangedSince.time > policy.frozenAfterMs) {
        return {
          quality: 'stale',
          value,
          time: unchangedSince.time,
          error: `value unchanged for ${Math.round(time - unchangedSince.time)} ms`,
        };
      }
    }
    lastGood = { value, time };
    return { quality: 'ok', value, time };
  };
}

/** A range check for `ReadingPolicy.plausible`. */
export function within(min: number, max: number, units: string): (value: number) => string | undefined {
  return (value) =>
    value < min || value > max || Number.isNaN(value)
      ? `${value} ${units} is outside ${min}..${max} ${units}`
      : undefined;
}

/** Plausibility shared by the drivers: wider than any part we fly, narrower than what a broken sensor reads. */
export const PLAUSIBLE_CELSIUS = within(-60, 150, 'degC');
export const PLAUSIBLE_VOLTS = within(0, 60, 'V');
export const PLAUSIBLE_AMPS = within(-50, 50, 'A');
/** A read that hits a busy or hung bus (EIO) does not drop the sensor at once: the last good value stands in. */
export const SENSOR_HOLD_LAST_GOOD_MS = 5000;

/** Whether an error means the device's files have gone (unplugged, driver unbound, renumbered). */
export function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENODEV';
}

/** The value, or undefined when the read fails: for optional attributes in listings. */
export async function quietly<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch {
    return undefined;
  }
}

/**
 * Runs `use` on a located device, locating it on first use. When its files have gone (the driver was rebound and
 * the kernel gave the device another number), locates it once more and retries.
 */
export function relocating<E>(locate: () => Promise<E>): <T>(use: (entry: E) => Promise<T>) => Promise<T> {
  let located: E | undefined;
  return async (use) => {
    const wasLocated = located !== undefined;
    located ??= await locate();
    try {
      return await use(located);
    } catch (error) {
      if (!isGone(error)) throw error;
      located = undefined;
      if (!wasLocated) throw error;
      located = await locate();
      return use(located);
    }
  };
}
