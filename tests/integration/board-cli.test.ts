/** `skynode board probe` as a process: on this machine, on fake trees with --root, and checking board files. */
import { describe, expect, it } from 'vitest';
import type { BoardCheck } from '../../src/hal/check.js';
import type { ProbeReport } from '../../src/hal/probe.js';
import { fakeTools, LOAD_SWITCH_LEVELS, raspberryPi5Tree, writeBoardFile } from '../support/boards.js';
import { run } from '../support/cli.js';

/** Runs `skynode board ...` to its end; `env` is laid over this process's environment (PATH replaced). */
async function board(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const running = run(['board', ...args], { env });
  const { code } = await running.exited;
  return { code, stdout: running.lines.join('\n'), stderr: running.stderr.join('') };
}

const HEADINGS = [
  'thermal zones:',
  'cooling devices:',
  'hwmon:',
  'power supplies:',
  'devfreq:',
  'cpufreq:',
  'GPIO chips:',
  'watchdogs:',
  'serial ports:',
  'NVIDIA GPUs:',
];

describe('skynode board probe', () => {
  it('probes this machine: exits 0 with every section and a suggested board', async () => {
    const { code, stdout, stderr } = await board(['probe']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^machine: /);
    expect(lines[0]).not.toContain('tree at');
    for (const heading of HEADINGS) expect(lines).toContain(heading);
    expect(lines.some((line) => /^suggested board: [a-z0-9-]+ \(.+\)$/.test(line))).toBe(true);
    expect(stdout).toContain('export default defineLinuxBoard({');
  });

  it('probes a Pi 5 tree given with --root and prints the report as JSON', async () => {
    const root = raspberryPi5Tree();
    const { code, stdout } = await board(['probe', '--root', root, '--json'], fakeTools().env);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as ProbeReport;
    expect(report.root).toBe(root);
    expect(report.model).toBe('Raspberry Pi 5 Model B Rev 1.0');
    expect(report.suggestion.board).toBe('raspberry-pi-5');
    expect(report.suggestion.reason).toBe("model 'Raspberry Pi 5 Model B Rev 1.0'");
    expect(report.suggestion.boardFile).toContain(
      "busMonitor: { driver: 'hwmon', chip: 'ina219', channel: 1 },",
    );
    expect(report.thermalZones[0]).toMatchObject({ type: 'cpu-thermal', celsius: 52.35 });
    expect(report.serialPorts[0]).toEqual({ path: '/dev/ttyAMA0', driver: 'uart-pl011' });
  });

  it('checks the raspberry-pi-5 board on a matching tree: exit 0, and no line is driven', async () => {
    const tools = fakeTools({ gpio: LOAD_SWITCH_LEVELS });
    const { code, stdout, stderr } = await board(
      ['probe', '--root', raspberryPi5Tree(), '--board', 'raspberry-pi-5', '--check'],
      tools.env,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines.filter((line) => line.startsWith('FAIL'))).toEqual([]);
    expect(lines.filter((line) => line.startsWith('ok '))).toHaveLength(9);
    expect(lines.at(-1)).toBe('board raspberry-pi-5: every role resolves');
    expect(tools.calls('gpioset').filter((call) => call !== 'gpioset --version')).toEqual([]);
  });

  it('checks a board on a tree missing its INA219 and UART: exit 1 and FAIL lines', async () => {
    const root = raspberryPi5Tree({ ina219: false, uart: false });
    const { code, stdout } = await board(
      ['probe', '--root', root, '--board', 'raspberry-pi-5', '--check'],
      fakeTools({ gpio: LOAD_SWITCH_LEVELS }).env,
    );
    expect(code).toBe(1);
    const failing = stdout.split('\n').filter((line) => line.startsWith('FAIL'));
    expect(failing).toHaveLength(2);
    expect(failing.join('\n')).toMatch(/^FAIL {2}busMonitor .*no hwmon chip named 'ina219'/m);
    expect(failing.join('\n')).toMatch(/^FAIL {2}link .*\/dev\/ttyAMA0 does not exist/m);
    expect(stdout.split('\n').at(-1)).toBe('board raspberry-pi-5: 2 of 9 roles fail');
  });

  it('prints the check as JSON with --json', async () => {
    const root = raspberryPi5Tree({ uart: false });
    const { code, stdout } = await board(
      ['probe', '--root', root, '--board', 'raspberry-pi-5', '--check', '--json'],
      fakeTools({ gpio: LOAD_SWITCH_LEVELS }).env,
    );
    expect(code).toBe(1);
    const check = JSON.parse(stdout) as BoardCheck;
    expect(check.ok).toBe(false);
    expect(check.roles.filter((role) => !role.ok).map((role) => role.role)).toEqual(['link']);
  });

  it('checks the board file it suggested, on the machine it was made for', async () => {
    const root = raspberryPi5Tree();
    const env = fakeTools().env;
    const probed = await board(['probe', '--root', root, '--json'], env);
    const report = JSON.parse(probed.stdout) as ProbeReport;
    const file = writeBoardFile(report.suggestion.boardFile, 'my-raspberry-pi-5');
    const { code, stdout, stderr } = await board(['probe', '--root', root, '--board', file, '--check'], env);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.split('\n').at(-1)).toBe('board my-raspberry-pi-5: every role resolves');
  });

  it('refuses --check without --board, with a usage message (exit 2)', async () => {
    const { code, stdout, stderr } = await board(['probe', '--check']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('--check needs --board NAME|FILE');
    expect(stderr).toContain("Run 'skynode board --help'.");
  });

  it('refuses --board without --check, and a board file that does not exist', async () => {
    const alone = await board(['probe', '--board', 'raspberry-pi-5']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--board goes with --check');
    const missing = await board(['probe', '--board', '/nonexistent/board.ts', '--check']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot load board file /nonexistent/board.ts');
  });

  it('prints its help with --help (exit 0)', async () => {
    const { code, stdout } = await board(['probe', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('skynode board probe [--root DIR] [--json]');
    expect(stdout).toContain('--check');
  });
});
