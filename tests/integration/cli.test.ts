import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { canonicalStringify } from '../../src/core/dictionary.js';
import { json, run, runToEnd, tempDir } from '../support/cli.js';

const isTelemetry = (line: string) =>
  line.includes('"msg":"telemetry"') && line.includes('"component":"health"');

describe('skynode fsw --board sim', () => {
  it('starts, logs health telemetry, stops cleanly on SIGTERM, and counts boots across restarts and kill -9', async () => {
    const stateDir = tempDir();
    const first = run(['fsw', '--board', 'sim', '--state-dir', stateDir]);
    const boot = json(await first.waitForLine((l) => l.includes('"event":"health.BOOT"')));
    expect(boot).toMatchObject({ level: 'info', severity: 'info', args: { bootCount: 1, clock: 'real' } });
    const started = json(await first.waitForLine((l) => l.includes('flight stack started')));
    expect(started).toMatchObject({
      board: 'sim',
      components: [
        'events',
        'link',
        'housekeeping',
        'recorder',
        'modes',
        'commanding',
        'health',
        'power',
        'thermal',
        'fdir',
      ],
      rateGroups: { '10Hz': 10, '1Hz': 1 },
    });
    // Two telemetry lines: the one at start and the next a second later.
    await first.waitForLine(isTelemetry);
    await first.waitForLine((l) => isTelemetry(l) && (json(l).telemetry as { uptimeS: number }).uptimeS >= 1);
    const telemetry = json(first.lines.filter(isTelemetry).at(-1) as string).telemetry as Record<
      string,
      number
    >;
    expect(telemetry.bootCount).toBe(1);
    expect(telemetry.rssMiB).toBeGreaterThan(10);
    expect(telemetry.heapUsedMiB).toBeGreaterThan(1);
    expect(telemetry.eventLoopLagMs).toBeGreaterThanOrEqual(0);
    expect(telemetry).toHaveProperty('cpuPercent');
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.lines.at(-1)).toContain('flight stack stopped');

    const second = run(['fsw', '--state-dir', stateDir]);
    await second.waitForLine((l) => l.includes('"bootCount":2'));
    second.child.kill('SIGKILL');
    await second.exited;

    const third = run(['fsw', '--state-dir', stateDir, '--telemetry-log', '0']);
    await third.waitForLine((l) => l.includes('flight stack started') && l.includes('"bootCount":3'));
    await new Promise((r) => setTimeout(r, 1500));
    third.child.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);
    expect(third.lines.filter(isTelemetry)).toEqual([]);

    const fourth = run(['fsw', '--state-dir', stateDir]);
    await fourth.waitForLine((l) => l.includes('"bootCount":4'));
    fourth.child.kill('SIGTERM');
    await fourth.exited;
  });

  it('explains a wrong board, option or value and exits 2', async () => {
    const board = await runToEnd(['fsw', '--board', 'pi9000']);
    expect(board.code).toBe(2);
    expect(board.stderr).toMatch(/unknown board 'pi9000': choose one of sim/);
    const option = await runToEnd(['fsw', '--bord', 'sim']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/Unknown option '--bord'[\s\S]*skynode fsw --help/);
    const level = await runToEnd(['fsw', '--log-level', 'loud']);
    expect(level.stderr).toMatch(/--log-level takes one of trace, debug/);
    const help = await runToEnd(['fsw', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--state-dir DIR/);
    const unknown = await runToEnd(['fly']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'fly'/);
  });
});

describe('skynode dict', () => {
  it('prints the dictionary of the deployed components with a CRC a ground station can check', async () => {
    const { code, stdout } = await runToEnd(['dict', '--format', 'json']);
    expect(code).toBe(0);
    const { crc32: printed, ...content } = JSON.parse(stdout) as Record<string, unknown>;
    expect(printed).toBe(
      `0x${crc32(Buffer.from(canonicalStringify(content)))
        .toString(16)
        .padStart(8, '0')}`,
    );
    const commands = content.commands as Array<{ name: string; opcode: number }>;
    expect(commands).toContainEqual(expect.objectContaining({ name: 'health.NOOP', opcode: 0x0101 }));
    const telemetry = content.telemetry as Array<{ name: string; type: { units?: string } }>;
    expect(telemetry).toContainEqual(
      expect.objectContaining({ name: 'health.rssMiB', type: expect.objectContaining({ units: 'MiB' }) }),
    );
  });

  it('refuses a format it does not know, saying which ones it has', async () => {
    const { code, stderr } = await runToEnd(['dict', '--format', 'yaml']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/json, xtce or cosmos/);
  });
});

describe('skynode demo', () => {
  it('joins the two ends in memory when socat is not installed, with the same protocol stack', async () => {
    // A PATH with node alone: no socat to be found.
    const bin = tempDir('skynode-nosocat-');
    symlinkSync(process.execPath, join(bin, 'node'));
    const demo = run(['demo', '--state-dir', tempDir(), '--duration', '3', '--refresh', '2'], {
      input: 'health.NOOP\n',
      env: { PATH: bin },
    });
    const { code } = await demo.exited;
    const stdout = demo.lines.join('\n');
    expect(code).toBe(0);
    expect(stdout).toMatch(/link in memory \(install socat for a pseudo-terminal pair\)/);
    expect(stdout).toMatch(/command health.NOOP \(request [0-9a-f]{8}\): ok/);
  });

  it('runs the stack with a view of telemetry and events, taking commands from standard input', async () => {
    const stateDir = tempDir();
    const { code, stdout } = await runToEnd(
      ['demo', '--state-dir', stateDir, '--duration', '2.5', '--refresh', '1'],
      { input: 'health.NOOP\nhealth.NOPE\nhealth.NOOP extra=1\nhelp\nhealth.NOOP\n' },
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/skynode demo \| board sim \| boot 1/);
    expect(stdout).toMatch(
      /event \d\d:\d\d:\d\d INFO health.BOOT: flight software started, boot 1 \(real time\)/,
    );
    expect(stdout).toMatch(/command health.NOOP \(request [0-9a-f]{8}\): ok/);
    expect(stdout).toMatch(/not sent: unknown command health.NOPE; did you mean health.NOOP/);
    expect(stdout).toMatch(/not sent: health.NOOP has no argument 'extra'/);
    expect(stdout).toMatch(/health.RESET_COUNTERS/);
    expect(stdout).toMatch(/event .* health.NOOP: no-op 2/);
    // The final view: the table with live values and units.
    const finalView = stdout.slice(stdout.lastIndexOf('skynode demo |'));
    expect(finalView).toMatch(/health.noopCount\s+2\s/);
    expect(finalView).toMatch(/health.bootCount\s+1\s/);
    expect(finalView).toMatch(/health.rssMiB\s+[\d.]+\s+MiB/);
    expect(finalView).toMatch(/LAST COMMAND health.NOOP \(request [0-9a-f]{8}\): ok/);
  });
});
