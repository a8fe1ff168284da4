import { join } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { flightComponents } from '../../src/cli/fsw.js';
import { buildDictionary } from '../../src/core/dictionary.js';
import { ArsnFile } from '../../src/ground/arsn.js';
import { GroundStation } from '../../src/ground/station.js';
import { openPipe } from '../../src/transport/pipe.js';
import { type Running, tempDir } from '../support/cli.js';
import { startLinkedFsw, writeKeyFile } from '../support/link.js';
import { PtyPair, waitForState } from './transport/helpers.js';

/** TC and TM frames both ways over a real serial line whose far end disappears and comes back. */
describe('link over a serial line that is unplugged and plugged back', () => {
  const pty = new PtyPair();
  const dir = tempDir('skynode-reconnect-');
  let fsw: Running | undefined;

  afterAll(async () => {
    fsw?.child.kill('SIGKILL');
    await pty.dispose();
  });

  it('carries commands and telemetry again once the line is back, without a restart of either end', async () => {
    const keysFile = join(dir, 'keys.json');
    const keys = writeKeyFile(keysFile, [1]);
    await pty.start();
    fsw = await startLinkedFsw(`serial:${pty.a}`, keysFile, join(dir, 'fsw'));
    const counters = ArsnFile.inDirectory(join(dir, 'ground'));
    const pipe = openPipe(`serial:${pty.b}`, {
      scheduler: asyncScheduler,
      backoff: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    const station = new GroundStation({
      pipe,
      profile: 'serial',
      dictionary: buildDictionary(flightComponents()),
      scheduler: asyncScheduler,
      keys,
      nextArsn: (spi) => counters.take(spi),
      timerMs: 500,
      transmissionLimit: 40,
    });
    await station.connect(10_000);
    await station.sendAndVerify('health.NOOP', {}, 10_000);
    await station.awaitTelemetry('health.noopCount', (v) => v === 1, 10_000);

    // Unplugged: both ends lose the line and keep trying.
    await pty.kill();
    await waitForState(pipe, (s) => s.kind === 'reconnecting', 5000);
    await fsw.waitForLine(
      (l) => l.includes('"event":"link.PIPE_STATE"') && l.includes('"state":"reconnecting"'),
    );

    // Plugged back in: the same paths, new terminals.
    await pty.start();
    await waitForState(pipe, (s) => s.kind === 'open', 10_000);
    const opened = () =>
      (fsw?.lines ?? []).filter(
        (l) => l.includes('"event":"link.PIPE_STATE"') && l.includes('"state":"open"'),
      ).length;
    for (let i = 0; i < 200 && opened() < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(opened()).toBe(2);

    // COP-1 carries on where it was; a command sent now completes, telemetry flows again.
    const outcome = await station.send('health.NOOP', {}, 15_000);
    expect(outcome.ok).toBe(true);
    await station.awaitTelemetry('health.noopCount', (v) => v === 2, 10_000);
    expect(pipe.stats.reconnects).toBeGreaterThanOrEqual(1);
    await station.close();
    await pipe.close();
  }, 60_000);
});
