import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Running, runToEnd, tempDir } from '../support/cli.js';
import { startLinkedFsw, writeKeyFile } from '../support/link.js';
import { PtyPair } from './transport/helpers.js';

/** Hazardous commands, argument ranges and a commanded restart, over a real pty from the ground CLI. */
describe('hazardous commands over a serial line', () => {
  const pty = new PtyPair();
  const dir = tempDir('skynode-hazard-');
  const keysFile = join(dir, 'keys.json');
  let fsw: Running | undefined;
  afterAll(async () => {
    fsw?.child.kill('SIGKILL');
    await pty.dispose();
  });
  const ground = (...args: string[]) =>
    runToEnd([
      'ground',
      '--link',
      `serial:${pty.b}`,
      '--keys',
      keysFile,
      '--state-dir',
      join(dir, 'ground'),
      ...args,
    ]);
  const startFsw = () => startLinkedFsw(`serial:${pty.a}`, keysFile, join(dir, 'fsw'));

  it('refuses an unarmed hazardous command with code 8, runs it once armed, and restarts on RESTART_FSW', async () => {
    writeKeyFile(keysFile, [1]);
    await pty.start();
    fsw = await startFsw();

    const unarmed = await ground('send', 'health.RESTART_FSW');
    expect(unarmed.code).toBe(1);
    expect(unarmed.stdout).toMatch(
      /acceptance: FAILED \(code 8\) health.RESTART_FSW is hazardous: send commanding.ARM functionId=259 first/,
    );

    // An enum value with no label (SET_MODE's mode is an enum of 4): sent raw, refused with code 6.
    const badMode = await ground('send', 'modes.SET_MODE', 'mode=CRUISE');
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toMatch(/mode: expected one of BOOT\|SAFE\|NOMINAL\|SURVIVAL/);

    expect((await ground('send', 'commanding.ARM', 'functionId=259')).code).toBe(0);
    const restart = await ground('send', 'health.RESTART_FSW');
    expect(restart.stdout).toMatch(/completion: ok/);
    expect(restart.code).toBe(0);
    // The flight software stops cleanly and exits 75 (EX_TEMPFAIL) for its supervisor to start it again.
    const exited = await fsw.exited;
    expect(exited.code).toBe(75);
    expect(fsw.lines.at(-1)).toMatch(/flight stack stopped.*|restart: commanded by RESTART_FSW/);
    fsw = await startFsw();
    await fsw.waitForLine((l) => l.includes('"bootCount":2'));
    // The arming was used up: the next RESTART_FSW is refused again.
    const again = await ground('send', 'health.RESTART_FSW');
    expect(again.stdout).toMatch(/FAILED \(code 8\)/);
  }, 60_000);
});
