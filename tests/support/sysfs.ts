/**
 * Fake Linux device trees for driver tests: a temp directory shaped like /sys and /dev, with the kernel's units,
 * symlinks where the kernel has them, and an I/O layer that fails like the kernel does (EIO on a hung I2C device).
 */
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type FileIo, type HalContext, nodeFileIo } from '../../src/hal/io.js';
import { tempDir } from './cli.js';

/** A file's content, or a symlink (`{ link: '../../devices/...' }`, relative to the link's directory or absolute). */
export type TreeEntry = string | { readonly link: string };

/** Writes `entries` (paths relative to the root, no leading slash) under `root` (a new temp dir by default). */
export function fakeTree(
  entries: Readonly<Record<string, TreeEntry>>,
  root = tempDir('skynode-sysfs-'),
): string {
  for (const [path, entry] of Object.entries(entries)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    if (typeof entry === 'string') writeFileSync(full, entry);
    else symlinkSync(entry.link.startsWith('/') ? join(root, entry.link) : entry.link, full);
  }
  return root;
}

/** Changes one attribute in a tree, as the kernel would between two reads. */
export function setAttribute(root: string, path: string, content: string): void {
  writeFileSync(join(root, path), content);
}

export function readAttribute(root: string, path: string): string {
  return readFileSync(join(root, path), 'utf8');
}

/** Makes a script executable: fake tools (nvidia-smi, gpioset) on a PATH of the test's own. */
export function fakeExecutable(dir: string, name: string, script: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return path;
}

/**
 * An I/O layer that fails reads (and writes) of the given paths with the errno the kernel returns, until
 * `heal()`: what a sensor on a hung I2C bus does (EIO), or a device that went away (ENODEV).
 */
export function failingIo(
  base: FileIo = nodeFileIo,
): FileIo & { fail(pathEnd: string, code?: string): void; heal(pathEnd?: string): void } {
  const failing = new Map<string, string>();
  const check = (path: string): void => {
    for (const [end, code] of failing) {
      if (path.endsWith(end)) {
        const error = new Error(`${code}: i/o error, open '${path}'`) as NodeJS.ErrnoException;
        error.code = code;
        throw error;
      }
    }
  };
  return {
    async readFile(path) {
      check(path);
      return base.readFile(path);
    },
    async writeFile(path, data) {
      check(path);
      return base.writeFile(path, data);
    },
    readdir: (path) => base.readdir(path),
    readlink: (path) => base.readlink(path),
    fail(pathEnd, code = 'EIO') {
      failing.set(pathEnd, code);
    },
    heal(pathEnd) {
      if (pathEnd === undefined) failing.clear();
      else failing.delete(pathEnd);
    },
  };
}

/** A HAL context on a fake tree with a hand-driven mission clock. */
export function fakeHal(root: string, io: FileIo = nodeFileIo): HalContext & { advance(ms: number): void } {
  let now = Date.UTC(2026, 10, 30, 12, 0, 0);
  return {
    root,
    io,
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
