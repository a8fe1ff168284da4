/**
 * `skynode hil run` from a build, as on a board or a rig PC that has `dist/` and `bin/` but no sources (and so no
 * tsx): the rig finds the command to start the flight software above its own module wherever that is, and the
 * whole run works from the built JavaScript.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../support/cli.js';

const install = tempDir('skynode-built-');
afterAll(() => rmSync(install, { recursive: true, force: true }));

function runBuilt(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(install, 'bin', 'skynode.js'), ...args], {
    cwd: install,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((done) => child.on('exit', (code) => done({ code, stdout, stderr })));
}

describe('skynode hil run from a build without sources', () => {
  it('starts the flight software from the build and passes', async () => {
    // The build, laid out as a package is installed: bin/, dist/, package.json and the dependencies.
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(ROOT, 'tsconfig.build.json'),
        '--outDir',
        join(install, 'dist'),
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
    cpSync(join(ROOT, 'bin'), join(install, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(install, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(install, 'node_modules'));
    mkdirSync(join(install, 'seeds'));
    cpSync(join(ROOT, 'seeds/leo-550-beta0.json'), join(install, 'seeds/leo-550-beta0.json'));
    expect(existsSync(join(install, 'src')), 'no sources: bin/skynode.js runs dist/').toBe(false);

    const { code, stdout, stderr } = await runBuilt([
      'hil',
      'run',
      'seeds/leo-550-beta0.json',
      '--duration',
      '60',
    ]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toMatch(/^PASS$/m);
    expect(stdout).toMatch(/^flight software +exit 0$/m);
  }, 120_000);
});
