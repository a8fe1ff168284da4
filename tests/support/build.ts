/**
 * The package built and laid out as it is installed on a board or a rig PC: `bin/`, `dist/` (tsc with
 * tsconfig.build.json), `package.json` and the dependencies, no sources, so that `bin/skynode.js` runs the build.
 * Built afresh into a temporary folder each time (about 8 s), never the checkout's own `dist/`, which a developer's
 * edits may have left stale.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './cli.js';

export interface BuiltInstall {
  /** The folder: bin/, dist/, package.json, node_modules (a link to the checkout's). */
  readonly dir: string;
  /** Its bin/skynode.js. */
  readonly bin: string;
}

export function buildInstall(prefix = 'skynode-built-'): BuiltInstall {
  const dir = tempDir(prefix);
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      join(dir, 'dist'),
    ],
    { cwd: ROOT, stdio: 'pipe' },
  );
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return { dir, bin: join(dir, 'bin', 'skynode.js') };
}
