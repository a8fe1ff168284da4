import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Running, run, runToEnd, tempDir } from '../support/cli.js';
import { writeKeyFile } from '../support/link.js';

/** The radio profile (CLTU up with BCH and randomizer, CADU down with ASM and randomizer) over TCP, with AES-GCM. */
describe('radio profile over TCP', () => {
  let fsw: Running | undefined;
  afterAll(() => {
    fsw?.child.kill('SIGKILL');
  });

  it('commands and watches a node through CLTUs and CADUs', async () => {
    const dir = tempDir('skynode-radio-');
    const keysFile = join(dir, 'keys.json');
    // Only SPI 2 (AES-256-GCM): the ground encrypts every command.
    writeKeyFile(keysFile, [2]);
    fsw = run([
      'fsw',
      '--link',
      'tcp-listen:127.0.0.1:0',
      '--profile',
      'radio',
      '--keys',
      keysFile,
      '--state-dir',
      join(dir, 'fsw'),
      '--telemetry-log',
      '0',
    ]);
    const listening = await fsw.waitForLine((l) => l.includes('listening on'));
    const port = /listening on [\d.]+:(\d+)/.exec(listening)?.[1];
    expect(port).toMatch(/^\d+$/);
    const ground = (...args: string[]) =>
      runToEnd([
        'ground',
        '--link',
        `tcp:127.0.0.1:${port}`,
        '--profile',
        'radio',
        '--keys',
        keysFile,
        '--state-dir',
        join(dir, 'ground'),
        ...args,
      ]);
    const sent = await ground('send', 'health.NOOP');
    expect(sent.stdout).toMatch(/health.NOOP \(request [0-9a-f]+\): completed/);
    expect(sent.code).toBe(0);
    const watched = await ground('watch', '--duration', '2.5');
    expect(watched.stdout).toMatch(/tlm health.uptimeS=\d+ health.bootCount=1 /);
    expect(watched.stdout).toMatch(/link: \d+ frames, 0 rejected/);
    await fsw.waitForLine((l) => l.includes('"event":"health.NOOP"'));
  });
});
