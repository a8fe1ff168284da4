import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flightComponents } from '../../src/cli/fsw.js';
import { buildDictionary } from '../../src/core/dictionary.js';
import { ArsnFile } from '../../src/ground/arsn.js';
import { GroundStation } from '../../src/ground/station.js';
import { parseKeyFile } from '../../src/link/sdls.js';
import { openPipe } from '../../src/transport/pipe.js';
import { json, type Running, run, runToEnd, tempDir } from '../support/cli.js';
import { startLinkedFsw, writeKeyFile } from '../support/link.js';
import { PtyPair } from './transport/helpers.js';

/**
 * The flight software and the ground station as separate processes on the two ends of a real pseudo-terminal
 * pair, in the serial profile with HMAC-SHA-256 authentication: what a tester with a USB serial cable does.
 */
describe('ground station to flight software over a serial line', () => {
  const pty = new PtyPair();
  const dir = tempDir('skynode-e2e-');
  const keysFile = join(dir, 'keys.json');
  const stateDir = join(dir, 'fsw-state');
  let fsw: Running;

  const startFsw = () => startLinkedFsw(`serial:${pty.a}`, keysFile, stateDir);
  const ground = (...args: string[]) =>
    runToEnd([
      'ground',
      '--link',
      `serial:${pty.b}`,
      '--keys',
      keysFile,
      '--state-dir',
      join(dir, 'ground'),
      '--timeout',
      '15',
      ...args,
    ]);

  beforeAll(async () => {
    writeKeyFile(keysFile);
    await pty.start();
    fsw = await startFsw();
  });

  afterAll(async () => {
    fsw?.child.kill('SIGKILL');
    await pty.dispose();
  });

  it('sends a command by name and prints its verification, exit 0', async () => {
    const result = await ground('send', 'health.NOOP');
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(
      /^health.NOOP \(request [0-9a-f]+\): completed\n {2}acceptance: ok\n {2}start: ok\n {2}completion: ok$/,
    );
    expect(result.code).toBe(0);
    await fsw.waitForLine((l) => l.includes('"event":"health.NOOP"'));
  });

  it('exits 1 with the failure report when the node refuses, and 2 on arguments it can check itself', async () => {
    const refused = await ground('send', 'commanding.ARM', 'functionId=257');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/FAILED \(code 6\) health.NOOP is not hazardous/);
    const bad = await ground('send', 'commanding.ARM', 'functionId=70000');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/functionId: 70000 not in \[0, 65535\]/);
    const typo = await ground('send', 'health.NOPE');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown command 'health.NOPE'; did you mean health.NOOP/);
  });

  it('runs a script against the scripting API', async () => {
    const script = join(dir, 'check.mts');
    writeFileSync(
      script,
      `export default async (station) => {
        await station.sendAndVerify('health.RESET_COUNTERS');
        await station.sendAndVerify('health.NOOP');
        await station.awaitTelemetry('health.noopCount', (v) => v === 1, 10000);
        const failed = await station.send('commanding.ARM', { functionId: 257 });
        if (failed.ok || failed.failure.code !== 6) throw new Error('expected failure code 6');
      };\n`,
    );
    const result = await ground('script', script);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/script completed/);
    expect(result.code).toBe(0);
  });

  it('watches telemetry and events live', async () => {
    const result = await ground('watch', '--duration', '2.5');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/tlm health.uptimeS=\d+ health.bootCount=1 /);
    expect(result.stdout).toMatch(/tlm link.pipeState=open link.authenticated=true/);
    expect(result.stdout).toMatch(/link: \d+ frames, 0 rejected/);
  });

  it('rejects a frame captured before a kill -9 and restart: no command runs twice', async () => {
    const keys = parseKeyFile(readFileSync(keysFile, 'utf8'));
    if (!keys.ok) throw new Error(keys.error); // read back as the ground would, from the file the node has
    const pipe = openPipe(`serial:${pty.b}`, { scheduler: asyncScheduler });
    const captured: Uint8Array[] = [];
    const write = pipe.write.bind(pipe);
    pipe.write = (bytes: Uint8Array) => {
      captured.push(bytes.slice());
      return write(bytes);
    };
    const dictionary = buildDictionary(flightComponents());
    const counters = ArsnFile.inDirectory(join(dir, 'ground-replay'));
    const station = new GroundStation({
      pipe,
      profile: 'serial',
      dictionary,
      scheduler: asyncScheduler,
      keys: keys.keys,
      nextArsn: (spi) => counters.take(spi) + 5000, // clear of the CLI runs' numbers
    });
    await station.connect(10_000);
    await station.sendAndVerify('health.NOOP');
    expect(captured.length).toBeGreaterThan(0);
    await station.close();
    await pipe.close();

    fsw.child.kill('SIGKILL');
    await fsw.exited;
    fsw = await startFsw();
    await fsw.waitForLine((l) => l.includes('"bootCount":2'));

    // The attacker (or a confused ground) plays the captured bytes again.
    const replay = openPipe(`serial:${pty.b}`, { scheduler: asyncScheduler });
    await new Promise((r) => setTimeout(r, 300));
    for (const bytes of captured) replay.write(bytes);
    await new Promise((r) => setTimeout(r, 500));
    await replay.close();

    // The node reports its counters once a second: wait until the rejection shows (the flight log has it first).
    await fsw.waitForLine((l) => l.includes('"event":"link.AUTH_FAILED"'), 10_000);
    const watched = await ground('watch', '--duration', '3');
    const link = watched.stdout.split('\n').findLast((l) => l.includes('link.rejectedReplay='));
    expect(link).toMatch(/link.rejectedReplay=[1-9]/);
    const commandingLine = watched.stdout.split('\n').findLast((l) => l.includes('commanding.executed='));
    expect(commandingLine).toMatch(/commanding.executed=0 /);
    expect(fsw.lines.some((l) => l.includes('"event":"health.NOOP"'))).toBe(false);
    expect(fsw.lines.map((l) => json(l)).some((l) => l.event === 'link.AUTH_FAILED')).toBe(true);
  });
});

describe('skynode fsw with a link', () => {
  it('refuses to start without keys unless authentication is explicitly disabled, and then says so loudly', async () => {
    const refused = await runToEnd(['fsw', '--link', 'tcp-listen:127.0.0.1:0', '--state-dir', tempDir()]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refusing to start a link without authentication: give --keys FILE/);
    const insecure = run([
      'fsw',
      '--link',
      'tcp-listen:127.0.0.1:0',
      '--insecure-no-auth',
      '--state-dir',
      tempDir(),
    ]);
    const warning = json(await insecure.waitForLine((l) => l.includes('link.INSECURE')));
    expect(warning).toMatchObject({ level: 'error', severity: 'high' });
    insecure.child.kill('SIGTERM');
    expect((await insecure.exited).code).toBe(0);
    const badKeys = await runToEnd([
      'fsw',
      '--link',
      'tcp-listen:127.0.0.1:0',
      '--keys',
      '/nonexistent.json',
      '--state-dir',
      tempDir(),
    ]);
    expect(badKeys.code).toBe(2);
    expect(badKeys.stderr).toMatch(/cannot read key file \/nonexistent.json/);
  });
});
