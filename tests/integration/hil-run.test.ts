/**
 * `skynode hil run`: the flight software as its own process, its mission clock following the rig's
 * (`skynode fsw --clock-follow SOCKET`), against the rig's Modbus devices on a pseudo-terminal, in accelerated time.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, quickDurationS } from '../../hil/scenario.js';
import { run, runToEnd, tempDir } from '../support/cli.js';

/** A command's standard output. */
function runCommand(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(command, [...args], (_error, stdout) => resolve(String(stdout)));
  });
}

/** A scenario file of this test's own, in a temporary directory. */
function scenarioFile(document: Record<string, unknown>): string {
  const path = join(tempDir('skynode-scenario-'), `${String(document.name)}.json`);
  writeFileSync(path, JSON.stringify(document));
  return path;
}

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
    // Whole steps of the scenario's 333 ms: 361 of them.
    expect(stdout).toMatch(/^mission time +120\.2 s$/m);
    expect(stdout).toMatch(/^flight software +exit 0$/m);
    // Part of a scenario: no score (the optimum needs whole orbits).
    expect(stdout).toMatch(/^score +none/m);
    const realS = Number(/^real time +([\d.]+) s$/m.exec(stdout)?.[1]);
    const speedup = Number(/^speed-up +x([\d.]+) \(333 ms steps\)$/m.exec(stdout)?.[1]);
    expect(realS).toBeLessThan(120);
    expect(speedup).toBeGreaterThan(1);
    // Not a terminal: one progress line every 10 %.
    expect(stderr).toMatch(/\[#{10}\] 100 % t=120 s x\d+/);
  }, 60_000);

  it('injects every rig fault and runs a ground script over its own serial link, every check passing', async () => {
    const dir = tempDir('skynode-report-');
    const file = scenarioFile({
      name: 'rig-faults',
      description: 'every fault the rig injects, in 8 minutes',
      seed: 11,
      durationS: 480,
      rig: { stepMs: 250 },
      faults: [
        { atS: 20, kind: 'fsw-crash' },
        { atS: 40, kind: 'fsw-crash' },
        { atS: 60, kind: 'fsw-crash' },
        { atS: 130, kind: 'command-storm', count: 40, command: 'health.NOOP' },
        { atS: 170, kind: 'uplink-replay' },
        { atS: 200, kind: 'link-loss', durationS: 60 },
        { atS: 300, kind: 'device-disconnect', durationS: 10 },
        { atS: 340, kind: 'device-line-noise', durationS: 40, bitErrorRate: 0.002 },
        { atS: 340, kind: 'sensor-noise', sensor: 'battery', value: 0.01 },
      ],
      ground: [
        { atS: 60, expectEvent: 'fdir.REBOOT_LOOP', withinS: 30 },
        { atS: 60, expectTelemetry: 'modes.mode', equals: 'SAFE', withinS: 30 },
        { atS: 100, send: 'modes.SET_MODE', args: { mode: 'NOMINAL' } },
        { atS: 100, expectTelemetry: 'modes.mode', equals: 'NOMINAL', withinS: 30 },
        { atS: 160, expectTelemetry: 'health.noopCount', equals: 40, withinS: 30 },
        { atS: 170, expectTelemetry: 'link.rejectedReplay', min: 1, withinS: 30 },
        { atS: 190, expectTelemetry: 'health.noopCount', equals: 40 },
        { atS: 270, recoverGaps: { fromS: 150, toS: 270 }, withinS: 120 },
        { atS: 300, expectEvent: 'thermal.SENSOR_FALLBACK', withinS: 15 },
        { atS: 310, expectEvent: 'thermal.SENSOR_RECOVERED', withinS: 30 },
        { atS: 460, expectTelemetry: 'thermal.sensorOk', equals: true },
      ],
      criteria: { minScore: 0, maxJunctionKelvinSeconds: 0, maxBatteryDeficitWh: 0 },
    });
    const { code, stdout, stderr } = await runToEnd(['hil', 'run', file, '--report', dir]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toMatch(/^flight software +exit 0, restarted 3 time\(s\)$/m);
    expect(stdout).toMatch(/^faults injected +9$/m);
    expect(stdout).toMatch(/^ground checks +13 of 13 passed$/m);
    expect(stdout).toMatch(
      /pass t=130\.0 s command storm: 40 x health\.NOOP: 40 completed, 0 failed, 0 without/,
    );
    expect(stdout).toMatch(/pass t=170\.0 s uplink replay injected/);
    expect(stdout).toMatch(
      /pass t=2\d\d\.\d s recover gaps t=150\.\.270 s .*: [1-9]\d* packets missing in \d+ gaps, 0 still/,
    );
    // The device line's faults reached the bus.
    const bus = /^device bus +(\d+) requests, (\d+) CRC errors/m.exec(stdout);
    expect(Number(bus?.[2])).toBeGreaterThan(0);
    expect(stdout).toMatch(/^PASS$/m);
    const html = readFileSync(join(dir, 'rig-faults.run.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('fdir.REBOOT_LOOP');
    expect(html).toContain('fsw-crash');
    expect(html.match(/<svg /g)?.length).toBe(6);
  }, 120_000);

  it('stops cleanly when interrupted: the flight software (and socat, if it made the lines) go with it, exit 130', async () => {
    const rig = run(['hil', 'run', 'seeds/leo-550-beta0.json']);
    // Stepping once the flight software is up, after the optimum's linear program. The rig makes its serial lines
    // itself (python3 unlocking them, a moment); socat's, without python3, would be two more children.
    const children = async (): Promise<Array<{ pid: number; command: string }>> => {
      const listed = await runCommand('ps', ['--ppid', String(rig.child.pid), '-o', 'pid=,comm=']);
      return listed
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .map(([pid, command]) => ({ pid: Number(pid), command: command ?? '' }))
        .filter((c) => c.pid > 0);
    };
    let listed: Array<{ pid: number; command: string }> = [];
    for (let i = 0; i < 600 && !listed.some((c) => c.command === 'node'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      listed = await children();
    }
    expect(
      listed.map((c) => c.command),
      'the rig starts the flight software',
    ).toContain('node');
    const started = listed.filter((c) => c.command === 'node' || c.command === 'socat').map((c) => c.pid);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    rig.child.kill('SIGTERM');
    const { code } = await rig.exited;
    expect(code, rig.stderr.join('')).toBe(130);
    expect(rig.stderr.join('')).toMatch(/interrupted/);
    const alive = started.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  }, 60_000);

  it('fails with the step that did not hold, and refuses names the dictionary lacks before it starts', async () => {
    const failing = scenarioFile({
      name: 'wrong-mode',
      durationS: 60,
      ground: [{ atS: 10, expectTelemetry: 'modes.mode', equals: 'SAFE', withinS: 5 }],
    });
    const run1 = await runToEnd(['hil', 'run', failing]);
    expect(run1.code, run1.stdout).toBe(1);
    expect(run1.stdout).toMatch(
      /^ {2}FAIL t=10\.0 s telemetry modes\.mode = "SAFE" within 5 s: last value "NOMINAL"$/m,
    );
    expect(run1.stdout).toMatch(/^FAIL: .*modes\.mode/m);

    const unknown = scenarioFile({
      name: 'typo',
      durationS: 60,
      faults: [{ atS: 1, kind: 'command-storm', count: 2, command: 'health.NOPE' }],
      ground: [{ atS: 10, expectEvent: 'fdir.SAFE_MOOD' }],
    });
    const run2 = await runToEnd(['hil', 'run', unknown]);
    expect(run2.code).toBe(1);
    expect(run2.stderr).toMatch(/typo: unknown command health\.NOPE; unknown event fdir\.SAFE_MOOD/);

    const json = await runToEnd(['hil', 'run', 'seeds/leo-550-beta0.json', '--duration', '30', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      scenario: 'leo-550-beta0',
      passed: true,
      score: null,
      stepMs: 333,
    });
    // Whole steps: 91 of 333 ms.
    expect(result.missionS).toBeCloseTo(30.303, 3);
    expect(result.trace).toBeUndefined();
    expect(Array.isArray(result.checks)).toBe(true);

    const both = await runToEnd(['hil', 'run', 'seeds/leo-550-beta0.json', '--quick', '--duration', '10']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--quick or --duration/);
  }, 60_000);
});

describe('skynode hil run --quick', () => {
  it('runs the scripted part of a scenario: up to 5 minutes after its last scripted moment, no score', async () => {
    const scenario = loadScenario('seeds/leo-550-ground-abuse.json');
    const quickS = quickDurationS(scenario);
    expect(quickS).toBeLessThan(scenario.durationS);
    const { code, stdout, stderr } = await runToEnd([
      'hil',
      'run',
      'seeds/leo-550-ground-abuse.json',
      '--quick',
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as {
      missionS: number;
      score: unknown;
      passed: boolean;
      checks: Array<{ passed: boolean }>;
    };
    expect(result.passed).toBe(true);
    expect(result.score).toBeNull();
    expect(result.missionS).toBeGreaterThanOrEqual(quickS);
    expect(result.missionS).toBeLessThan(quickS + 1);
    // Every step of the ground script ran (and the storm's and the replay's checks with them), and held.
    expect(result.checks.length).toBeGreaterThan(scenario.ground.length);
    expect(result.checks.filter((c) => !c.passed)).toEqual([]);
  }, 120_000);
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
