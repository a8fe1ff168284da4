/**
 * `skynode hil run`: the flight software as its own process, its mission clock following the rig's
 * (`skynode fsw --clock-follow SOCKET`), against the rig's Modbus devices on a pseudo-terminal, in accelerated time.
 */
import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, runToEnd, tempDir } from '../support/cli.js';

describe('skynode hil run', () => {
  it('runs 120 s of a scenario against the flight software faster than real time, and passes', async () => {
    const { code, stdout, stderr } = await runToEnd([
      'hil',
      'run',
      'seeds/leo-550-beta0.json',
      '--duration',
      '120',
    ]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toMatch(/^PASS$/m);
    expect(stdout).toMatch(/^mission time +120\.0 s$/m);
    expect(stdout).toMatch(/^flight software +exit 0$/m);
    const realS = Number(/^real time +([\d.]+) s$/m.exec(stdout)?.[1]);
    const speedup = Number(/^speed-up +x([\d.]+)$/m.exec(stdout)?.[1]);
    expect(realS).toBeLessThan(120);
    expect(speedup).toBeGreaterThan(1);
    // Not a terminal: one progress line every 10 %.
    expect(stderr).toMatch(/\[#{10}\] 100 % t=120 s x\d+/);
  }, 60_000);

  it('refuses a scenario with sensor noise, which the rig cannot inject', async () => {
    const { code, stderr } = await runToEnd(['hil', 'run', 'seeds/leo-550-aged-battery.json']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/sensor-noise faults .* not supported by 'hil run'/);
  }, 30_000);
});

describe('skynode fsw --clock-follow', () => {
  it('follows the clock it is given, answers each step, and exits 0 when the socket closes', async () => {
    const dir = tempDir();
    const path = join(dir, 'clock.sock');
    const start = Date.UTC(2026, 0, 1);
    const replies: string[] = [];
    const server = createServer();
    const connected = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      // The sim board: no device I/O to settle, the plant stepped on the followed clock.
      const fsw = run([
        'fsw',
        '--board',
        'sim',
        '--state-dir',
        join(dir, 'state'),
        '--telemetry-log',
        '0',
        '--clock-follow',
        path,
      ]);
      const socket = await connected;
      socket.setEncoding('utf8');
      let buffered = '';
      let wake: (() => void) | undefined;
      socket.on('data', (chunk: string) => {
        buffered += chunk;
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        replies.push(...parts);
        wake?.();
      });
      const advance = async (ms: number) => {
        const before = replies.length;
        socket.write(`${JSON.stringify({ advanceTo: ms })}\n`);
        while (replies.length === before) await new Promise<void>((resolve) => (wake = resolve));
      };
      for (let t = 0; t <= 2000; t += 100) await advance(start + t);
      expect(replies.map((r) => JSON.parse(r))).toEqual(
        Array.from({ length: 21 }, (_, i) => ({ at: start + i * 100 })),
      );
      socket.end();
      const { code } = await fsw.exited;
      expect(code, fsw.stderr.join('')).toBe(0);
      // Its log runs on the followed clock: mission time, not the wall clock.
      const stopped = fsw.lines.find((l) => l.includes('flight stack stopped'));
      expect(stopped).toBeDefined();
      expect((JSON.parse(stopped as string) as { time: string }).time).toBe(
        new Date(start + 2000).toISOString(),
      );
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
