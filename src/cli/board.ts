/**
 * `skynode board`: what this machine exposes (`probe`), and whether a board file fits it (`probe --board FILE
 * --check`). Composition only: the probing and the checks live in src/hal.
 */
import { parseArgs } from 'node:util';
import { RealClock } from '../core/clock.js';
import { checkBoard, formatCheck } from '../hal/check.js';
import { halContext } from '../hal/io.js';
import { formatProbe, probe } from '../hal/probe.js';
import { loadBoard, UsageError } from './fsw.js';

const BOARD_HELP = `skynode board probe: list what this machine exposes to the flight software and suggest a board file

usage:
  skynode board probe [--root DIR] [--json]
  skynode board probe --board NAME|FILE --check [--root DIR] [--json]

Lists thermal zones (with trip points), cooling devices, hwmon chips (INA219/INA226/INA3221 rails, temperatures),
power supplies, devfreq and cpufreq, GPIO chips, watchdogs, serial ports and NVIDIA GPUs, with their readings in
volts, amps, watts, degC and MHz, then names the board file in boards/ that fits and prints one made from what
was found.

options:
  --root DIR          probe a captured or fake tree shaped like / (DIR/sys/class/...) instead of this machine;
                      nvidia-smi and the GPIO tools still run from this machine's PATH
  --board NAME|FILE   with --check: the board to check (a name from boards/ or a path to a board file)
  --check             open the board and read every role once: exit 0 when every role resolves and reads sane
                      values, 1 when one does not. Nothing is switched and the watchdog is not opened (that arms it).
  --json              print the report as JSON
  -h, --help          this text
`;

export async function boardCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      root: { type: 'string' },
      board: { type: 'string' },
      check: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(BOARD_HELP);
    return 0;
  }
  const [action, ...extra] = positionals;
  if (action !== 'probe') {
    throw new UsageError(
      action === undefined
        ? 'board needs an action: skynode board probe'
        : `unknown board action '${action}': use probe`,
    );
  }
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (values.check && !values.board)
    throw new UsageError('--check needs --board NAME|FILE: the board to check');
  if (values.board && !values.check) {
    throw new UsageError('--board goes with --check (skynode board probe --board FILE --check)');
  }
  const root = values.root ?? '/';
  // A probe is a one-off look at the machine from the command line: wall-clock time stamps its readings.
  const now = () => Date.now();
  if (values.check) {
    const board = await loadBoard(values.board as string);
    // The sim board steps its plant on a clock's scheduler: the real one, for a check.
    const result = await checkBoard(board, {
      stateDir: '',
      now,
      root,
      env: process.env,
      clock: new RealClock(),
    });
    process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatCheck(result));
    return result.ok ? 0 : 1;
  }
  const report = await probe(halContext({ now, root }));
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatProbe(report));
  return 0;
}
