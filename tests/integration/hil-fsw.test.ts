/**
 * Hardware in the loop, end to end: the flight software as its own process on the `sim-serial` board, talking
 * Modbus RTU over a real pseudo-terminal pair to the rig's simulated EPS and accelerator controller, which serve
 * the plant's state and apply the flight software's power cap and load switches to it. Real time, real processes.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type SerialDevices, startSerialDevices } from '../../hil/devices/serial-rig.js';
import { exampleNode } from '../../hil/plant/defaults.js';
import { Plant } from '../../hil/plant/plant.js';
import { RealClock } from '../../src/core/clock.js';
import { json, run, tempDir } from '../support/cli.js';
import { PtyPair, waitUntil } from './transport/helpers.js';

const telemetryOf = (component: string) => (line: string) =>
  line.includes('"msg":"telemetry"') && line.includes(`"component":"${component}"`);

describe('the flight software on the sim-serial board against the rig', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('reads the plant through the Modbus devices and throttles it through them', async () => {
    const pty = new PtyPair();
    await pty.start();
    cleanup.push(() => pty.dispose());
    // A node that starts hot: the governor must cut the power cap at once.
    const plant = new Plant(
      exampleNode({
        thermal: { junction: { initialC: 84 }, coldPlate: { initialC: 70 }, radiator: { initialC: 58 } },
      }),
    );
    const rig: SerialDevices = await startSerialDevices({ plant, clock: new RealClock(), path: pty.a });
    cleanup.push(() => rig.close());

    const dir = tempDir();
    const fsw = run(['fsw', '--board', 'sim-serial', '--state-dir', join(dir, 'state')], {
      env: { SKYNODE_DEVICE_PORT: pty.b },
    });
    cleanup.push(async () => {
      fsw.child.kill('SIGTERM');
      await fsw.exited;
    });
    const thermal = json(
      await fsw.waitForLine(
        (l) => telemetryOf('thermal')(l) && (json(l).telemetry as { sensorOk?: boolean }).sensorOk === true,
        20_000,
      ),
    ).telemetry as Record<string, unknown>;
    expect(Math.abs((thermal.junctionC as number) - plant.state.junctionC)).toBeLessThan(3);
    // The state of charge the EPS reports over Modbus, as the power component estimates it.
    const power = json(
      await fsw.waitForLine((l) => {
        if (!telemetryOf('power')(l)) return false;
        const t = json(l).telemetry as { soc?: number; socSource?: string };
        return t.socSource === 'gauge' && Math.abs((t.soc ?? -1) - plant.state.soc) < 0.01;
      }, 20_000),
    ).telemetry as Record<string, number>;
    expect(power.solarW).toBeGreaterThan(1000);
    // The cap the flight software wrote over Modbus reached the plant.
    await waitUntil(() => plant.state.powerCapW < 399, 'the power cap to reach the plant', 20_000);
    expect(plant.state.acceleratorW).toBeLessThan(400);
    expect(rig.stats.requests).toBeGreaterThan(10);
    fsw.child.kill('SIGTERM');
    expect((await fsw.exited).code).toBe(0);
  }, 90_000);

  it('runs as a bench would: skynode hil devices on one end of a line, skynode fsw on the other', async () => {
    const pty = new PtyPair();
    await pty.start();
    cleanup.push(() => pty.dispose());
    const rig = run(['hil', 'devices', '--port', pty.a, 'seeds/leo-550-beta0.json', '--duration', '30']);
    cleanup.push(async () => {
      rig.child.kill('SIGTERM');
      await rig.exited;
    });
    await rig.waitForLine((l) => l.startsWith('serving EPS (unit 1) and accelerator controller (unit 2)'));
    const dir = tempDir();
    const fsw = run(['fsw', '--board', 'sim-serial', '--state-dir', join(dir, 'state')], {
      env: { SKYNODE_DEVICE_PORT: pty.b },
    });
    cleanup.push(async () => {
      fsw.child.kill('SIGTERM');
      await fsw.exited;
    });
    const thermal = json(
      await fsw.waitForLine(
        (l) =>
          telemetryOf('thermal')(l) &&
          ((json(l).telemetry as { acceleratorW?: number }).acceleratorW ?? 0) > 100,
        20_000,
      ),
    ).telemetry as Record<string, number>;
    expect(thermal.junctionC).toBeGreaterThan(40);
    expect(thermal.acceleratorW).toBeGreaterThan(100);
    rig.child.kill('SIGTERM');
    expect((await rig.exited).code).toBe(0);
    // The rig's last status line counts the requests the flight software made, all answered.
    const status = rig.lines.filter((l) => l.startsWith('t=')).at(-1) ?? '';
    const requests = Number(/requests (\d+)/.exec(status)?.[1]);
    const responses = Number(/responses (\d+)/.exec(status)?.[1]);
    expect(requests).toBeGreaterThan(3);
    // One may be on the line at the moment of the stop.
    expect(responses).toBeGreaterThanOrEqual(requests - 1);
  }, 90_000);
});
