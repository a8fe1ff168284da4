import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, ROOT, run, tempDir } from '../support/cli.js';
import { fakeExecutable, fakeTree } from '../support/sysfs.js';

/** A board file of a test's own, passed to `--board FILE`: the way an engineer brings up a new board. */
function writeBoardFile(dir: string, watchdog: string): string {
  // .mts: outside a package of "type": "module", a .ts file would load as CommonJS.
  const file = join(dir, 'test-board.mts');
  writeFileSync(
    file,
    `import { defineLinuxBoard } from '${join(ROOT, 'src/hal/linux/board.js')}';
export default defineLinuxBoard({
  name: 'test-board',
  description: 'fake tree',
  temperatures: { soc: { driver: 'thermal-zone', zone: 'cpu-thermal' } },
  watchdog: ${watchdog},
});
`,
  );
  return file;
}

const boardTree = (): string =>
  fakeTree({
    'sys/class/thermal/thermal_zone0/type': 'cpu-thermal\n',
    'sys/class/thermal/thermal_zone0/temp': '48250\n',
    'sys/class/watchdog/watchdog0/identity': 'bcm2835-pm-wdt\n',
    'sys/class/watchdog/watchdog0/timeout': '15\n',
    // A regular file stands in for the character device: the kicks and the magic close land in it.
    'dev/watchdog0': '',
  });

describe('skynode fsw on a Linux board file', () => {
  it('kicks the hardware watchdog every second and disarms it with the magic close on SIGTERM', async () => {
    const root = boardTree();
    const dir = tempDir();
    const boardFile = writeBoardFile(dir, `{ driver: 'dev-watchdog', path: '/dev/watchdog0' }`);
    const fsw = run(['fsw', '--board', boardFile, '--hal-root', root, '--state-dir', join(dir, 'state')]);
    const started = json(await fsw.waitForLine((l) => l.includes('flight stack started')));
    expect(started.board).toBe('test-board');
    await fsw.waitForLine((l) => {
      if (!l.includes('"msg":"telemetry"') || !l.includes('"component":"health"')) return false;
      return ((json(l).telemetry as { watchdogKicks?: number }).watchdogKicks ?? 0) >= 2;
    });
    const kicked = readFileSync(join(root, 'dev/watchdog0'), 'utf8');
    expect(kicked.length).toBeGreaterThanOrEqual(2);
    expect(kicked).not.toContain('V');
    fsw.child.kill('SIGTERM');
    expect(await fsw.exited).toEqual({ code: 0, signal: null });
    expect(readFileSync(join(root, 'dev/watchdog0'), 'utf8').endsWith('V')).toBe(true);
  });

  it('reports a missing watchdog device as a WATCHDOG_FAILED event and keeps running', async () => {
    const root = fakeTree({ 'sys/class/thermal/thermal_zone0/type': 'cpu-thermal\n' });
    const dir = tempDir();
    const boardFile = writeBoardFile(dir, `{ driver: 'dev-watchdog', path: '/dev/watchdog0' }`);
    const fsw = run(['fsw', '--board', boardFile, '--hal-root', root, '--state-dir', join(dir, 'state')]);
    const failed = json(await fsw.waitForLine((l) => l.includes('"event":"health.WATCHDOG_FAILED"')));
    expect(failed.args).toMatchObject({ error: expect.stringMatching(/ENOENT|does not exist|watchdog0/) });
    fsw.child.kill('SIGTERM');
    expect((await fsw.exited).code).toBe(0);
  });

  it('under systemd (Type=notify, WatchdogSec=) reports READY and kicks the service watchdog beside the hardware one', async () => {
    const root = boardTree();
    const dir = tempDir();
    const bin = join(dir, 'bin');
    const log = join(dir, 'notify.log');
    fakeExecutable(bin, 'systemd-notify', `#!/bin/sh\necho "$*" >> '${log}'\n`);
    const boardFile = writeBoardFile(dir, `{ driver: 'dev-watchdog', path: '/dev/watchdog0' }`);
    const fsw = run(['fsw', '--board', boardFile, '--hal-root', root, '--state-dir', join(dir, 'state')], {
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        NOTIFY_SOCKET: join(dir, 'notify.sock'),
        WATCHDOG_USEC: '10000000',
      },
    });
    await fsw.waitForLine((l) => {
      if (!l.includes('"msg":"telemetry"') || !l.includes('"component":"health"')) return false;
      return ((json(l).telemetry as { watchdogKicks?: number }).watchdogKicks ?? 0) >= 2;
    });
    fsw.child.kill('SIGTERM');
    expect((await fsw.exited).code).toBe(0);
    const notes = readFileSync(log, 'utf8').trim().split('\n');
    expect(notes).toContain('--ready');
    expect(notes.filter((n) => n === 'WATCHDOG=1').length).toBeGreaterThanOrEqual(2);
    // A kick already on its way may land after it; none starts after it.
    expect(notes).toContain('STOPPING=1');
    expect(readFileSync(join(root, 'dev/watchdog0'), 'utf8').endsWith('V')).toBe(true);
  });
});
