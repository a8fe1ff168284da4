import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devWatchdog, listWatchdogs, systemdWatchdog } from '../../../src/hal/linux/watchdog.js';
import { tempDir } from '../../support/cli.js';
import { fakeExecutable, fakeHal, fakeTree, readAttribute } from '../../support/sysfs.js';

/** A board with a hardware watchdog (watchdog0, with its /dev/watchdog alias) and softdog as watchdog1. */
function boardTree(): string {
  return fakeTree({
    'dev/watchdog': '',
    'dev/watchdog0': '',
    'sys/class/watchdog/watchdog0/identity': 'bcm2835-pm-wdt\n',
    'sys/class/watchdog/watchdog0/timeout': '15\n',
    'sys/class/watchdog/watchdog1/identity': 'Software Watchdog\n',
    'sys/class/watchdog/watchdog1/timeout': '60\n',
  });
}

describe('kernel watchdog', () => {
  it('lists watchdogs with identity, timeout and whether the device node exists', async () => {
    expect(await listWatchdogs(fakeHal(boardTree()))).toEqual([
      {
        name: 'watchdog0',
        identity: 'bcm2835-pm-wdt',
        timeoutS: 15,
        devicePath: '/dev/watchdog0',
        deviceExists: true,
      },
      {
        name: 'watchdog1',
        identity: 'Software Watchdog',
        timeoutS: 60,
        devicePath: '/dev/watchdog1',
        deviceExists: false,
      },
    ]);
  });

  it('opens on the first kick, writes a byte per kick and the magic V on close', async () => {
    const root = boardTree();
    const watchdog = devWatchdog(fakeHal(root));
    expect(watchdog.timeoutS).toBeUndefined();
    expect(await watchdog.kick()).toEqual({ ok: true });
    expect(watchdog.timeoutS).toBe(15);
    expect(watchdog.info).toEqual({ source: 'watchdog0 bcm2835-pm-wdt (/dev/watchdog)', driver: 'watchdog' });
    expect(await watchdog.kick()).toEqual({ ok: true });
    expect(await watchdog.kick()).toEqual({ ok: true });
    expect(readAttribute(root, 'dev/watchdog')).toBe('kkk');
    await watchdog.close();
    expect(readAttribute(root, 'dev/watchdog')).toBe('kkkV');
    const after = await watchdog.kick();
    expect(after.ok).toBe(false);
    expect(readAttribute(root, 'dev/watchdog')).toBe('kkkV');
  });

  it('opens once for kicks that arrive together', async () => {
    const root = boardTree();
    const watchdog = devWatchdog(fakeHal(root), { path: '/dev/watchdog0' });
    await expect(Promise.all([watchdog.open(), watchdog.kick(), watchdog.kick()])).resolves.toEqual([
      { ok: true },
      { ok: true },
      { ok: true },
    ]);
    expect(watchdog.timeoutS).toBe(15);
    await watchdog.close();
    expect(readAttribute(root, 'dev/watchdog0')).toBe('kkV');
  });

  it('fails kicks naming the fix when the device is missing, and never creates it', async () => {
    const root = fakeTree({ 'sys/class/watchdog/.keep': '' });
    const watchdog = devWatchdog(fakeHal(root));
    const result = await watchdog.kick();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/\/dev\/watchdog does not exist: load .*modprobe softdog/);
    expect(() => readAttribute(root, 'dev/watchdog')).toThrow();
    await watchdog.close();
  });

  it('retries the open on the next kick once the device appears', async () => {
    const root = fakeTree({ 'sys/class/watchdog/watchdog0/timeout': '30\n' });
    const watchdog = devWatchdog(fakeHal(root));
    expect((await watchdog.kick()).ok).toBe(false);
    fakeTree({ 'dev/watchdog': '' }, root);
    expect(await watchdog.kick()).toEqual({ ok: true });
    expect(watchdog.timeoutS).toBe(30);
    await watchdog.close();
    expect(readAttribute(root, 'dev/watchdog')).toBe('kV');
  });
});

describe('systemd watchdog', () => {
  /** A fake systemd-notify that records its arguments and NOTIFY_SOCKET, and fails when asked to. */
  function fakeNotify(): { bin: string; log: string } {
    const bin = tempDir('skynode-bin-');
    const log = join(bin, 'notify.log');
    fakeExecutable(
      bin,
      'systemd-notify',
      `#!/usr/bin/env bash
echo "$NOTIFY_SOCKET $*" >> '${log}'
if [ -n "$NOTIFY_FAIL" ]; then echo 'Failed to notify init system: Connection refused' >&2; exit 1; fi
`,
    );
    return { bin, log };
  }

  const lines = (log: string): string[] => readFileSync(log, 'utf8').trim().split('\n');

  it('kicks with systemd-notify WATCHDOG=1, ready and stopping, timeout from WATCHDOG_USEC', async () => {
    const { bin, log } = fakeNotify();
    const env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      NOTIFY_SOCKET: '/run/systemd/notify',
      WATCHDOG_USEC: '30000000',
    };
    const watchdog = systemdWatchdog({ ...fakeHal(tempDir()), env });
    expect(watchdog.info).toEqual({ source: 'systemd (NOTIFY_SOCKET)', driver: 'systemd' });
    expect(watchdog.timeoutS).toBe(30);
    expect(await watchdog.ready()).toEqual({ ok: true });
    expect(await watchdog.kick()).toEqual({ ok: true });
    await watchdog.close();
    expect(lines(log)).toEqual([
      '/run/systemd/notify --ready',
      '/run/systemd/notify WATCHDOG=1',
      '/run/systemd/notify STOPPING=1',
    ]);
    expect((await watchdog.kick()).ok).toBe(false);
  });

  it('uses the socket given in the options and leaves timeoutS unset without WATCHDOG_USEC', async () => {
    const { bin, log } = fakeNotify();
    const { NOTIFY_SOCKET: _socket, WATCHDOG_USEC: _usec, ...rest } = process.env;
    const env = { ...rest, PATH: `${bin}:${process.env.PATH}` };
    const watchdog = systemdWatchdog({ ...fakeHal(tempDir()), env }, { notifySocket: '@skynode/notify' });
    expect(watchdog.timeoutS).toBeUndefined();
    expect(await watchdog.kick()).toEqual({ ok: true });
    expect(lines(log)).toEqual(['@skynode/notify WATCHDOG=1']);
    expect(
      systemdWatchdog({ ...fakeHal(tempDir()), env: { ...env, WATCHDOG_USEC: '2500000' } }).timeoutS,
    ).toBe(2.5);
    expect(systemdWatchdog({ ...fakeHal(tempDir()), env: { ...env, WATCHDOG_USEC: 'soon' } }).timeoutS).toBe(
      undefined,
    );
  });

  it('is disabled without NOTIFY_SOCKET and runs nothing', async () => {
    const { bin, log } = fakeNotify();
    const { NOTIFY_SOCKET: _socket, ...rest } = process.env;
    const watchdog = systemdWatchdog({
      ...fakeHal(tempDir()),
      env: { ...rest, PATH: `${bin}:${process.env.PATH}` },
    });
    const result = await watchdog.kick();
    expect(result).toEqual({
      ok: false,
      error: expect.stringContaining('not started by systemd with WatchdogSec='),
    });
    expect((await watchdog.ready()).ok).toBe(false);
    await watchdog.close();
    expect(() => readFileSync(log)).toThrow();
  });

  it('reports what systemd-notify said when it fails, and a missing tool', async () => {
    const { bin } = fakeNotify();
    const env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      NOTIFY_SOCKET: '/run/x',
      NOTIFY_FAIL: '1',
    };
    const failing = await systemdWatchdog({ ...fakeHal(tempDir()), env }).kick();
    expect(failing).toEqual({ ok: false, error: expect.stringContaining('Connection refused') });
    const empty = tempDir('skynode-bin-');
    const missing = await systemdWatchdog({
      ...fakeHal(tempDir()),
      env: { PATH: empty, NOTIFY_SOCKET: '/run/x' },
    }).kick();
    expect(missing).toEqual({ ok: false, error: expect.stringContaining('systemd-notify not found') });
  });
});
