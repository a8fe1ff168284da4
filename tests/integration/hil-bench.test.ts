/**
 * `skynode hil run` on a bench: the rig's devices and ground station on real serial ports (here the rig's ends of
 * two socat pseudo-terminal pairs, as two USB-serial adapters would be), in real time, against a flight software
 * the rig did not start (`skynode fsw --board sim-serial` on the other ends, as on a dev board).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run, runToEnd, tempDir } from '../support/cli.js';
import { writeKeyFile } from '../support/link.js';
import { PtyPair } from './transport/helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('skynode hil run on a bench (real ports, real time)', () => {
  it("serves the board's devices and runs the ground script over the ports it is given", async () => {
    const dir = tempDir();
    const devices = new PtyPair();
    const link = new PtyPair();
    await devices.start();
    await link.start();
    cleanups.push(
      () => devices.dispose(),
      () => link.dispose(),
    );
    const keys = join(dir, 'keys.json');
    writeKeyFile(keys);
    const fsw = run(
      [
        'fsw',
        '--board',
        'sim-serial',
        '--state-dir',
        join(dir, 'state'),
        '--link',
        `serial:${link.b}`,
        '--keys',
        keys,
        '--telemetry-log',
        '0',
      ],
      { env: { SKYNODE_DEVICE_PORT: devices.b } },
    );
    cleanups.push(async () => {
      fsw.child.kill('SIGTERM');
      await fsw.exited;
    });
    const scenario = join(dir, 'bench.json');
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'bench',
        durationS: 12,
        // Twelve seconds from a cold start say nothing of the controller against the optimum.
        criteria: { minScore: 0 },
        faults: [{ atS: 6, kind: 'device-disconnect', durationS: 3 }],
        ground: [
          { atS: 2, send: 'health.NOOP' },
          { atS: 3, expectTelemetry: 'health.noopCount', equals: 1, withinS: 5 },
          { atS: 4, expectTelemetry: 'thermal.junctionC', min: 20, max: 90 },
          { atS: 6, expectEvent: 'thermal.SENSOR_FALLBACK', withinS: 3 },
        ],
      }),
    );
    const { code, stdout, stderr } = await runToEnd([
      'hil',
      'run',
      scenario,
      '--device-port',
      devices.a,
      '--ground-port',
      link.a,
      '--keys',
      keys,
    ]);
    expect(code, `${stdout}\n${stderr}\n${fsw.stderr.join('')}`).toBe(0);
    expect(stdout).toMatch(/^ground checks +4 of 4 passed$/m);
    expect(stdout).toMatch(/^flight software +on the board/m);
    // Real time: the run took as long as the scenario.
    const realS = Number(/^real time +([\d.]+) s$/m.exec(stdout)?.[1]);
    expect(realS).toBeGreaterThan(11);
    expect(realS).toBeLessThan(20);
    const requests = Number(/^device bus +(\d+) requests/m.exec(stdout)?.[1]);
    expect(requests).toBeGreaterThan(50);
  }, 60_000);

  it('says what a bench needs, and refuses a process fault it cannot inject', async () => {
    const half = await runToEnd(['hil', 'run', 'seeds/leo-550-beta0.json', '--device-port', '/dev/null']);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/--device-port PATH and --ground-port PATH/);
    const noKeys = await runToEnd([
      'hil',
      'run',
      'seeds/leo-550-beta0.json',
      '--device-port',
      '/dev/null',
      '--ground-port',
      '/dev/null',
    ]);
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toMatch(/--keys FILE/);
    const dir = tempDir();
    const keys = join(dir, 'keys.json');
    writeKeyFile(keys);
    const crash = await runToEnd([
      'hil',
      'run',
      'seeds/leo-550-reboot-loop.json',
      '--device-port',
      '/dev/null',
      '--ground-port',
      '/dev/null',
      '--keys',
      keys,
    ]);
    expect(crash.code).toBe(1);
    expect(crash.stderr).toMatch(/fsw-crash fault .* on a bench it runs on the board/);
  }, 60_000);
});
