/**
 * `skynode`: the one command for flight, ground and tools. Composition only; each subcommand lives in its file.
 */
import { parseArgs } from 'node:util';
import { VirtualClock } from '../core/clock.js';
import { buildDictionary, DictionaryError, dictionaryToJson } from '../core/dictionary.js';
import type { LogLevel } from '../core/log.js';
import {
  DEFAULT_STATE_DIR,
  flightComponents,
  linkProfile,
  loadBoard,
  startFlight,
  UsageError,
} from './fsw.js';

/** Exit status of a commanded restart (EX_TEMPFAIL): the supervisor starts the flight software again. */
export const RESTART_EXIT_CODE = 75;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const USAGE = `skynode: flight software for orbital AI compute nodes

Usage:
  skynode demo [options]        flight stack on the simulated board with a live terminal view (npm start)
  skynode fsw [options]         run the flight software on a board, logging JSON lines to stdout
  skynode ground --link SPEC ... send NAME arg=value ... | watch | script FILE.ts | gaps [--request]
  skynode ground export --from T --to T --format csv|json
                                the ground station: command and watch a node over serial, TCP or UDP; its archive
  skynode link decode --profile serial|radio [--hex] [--keys FILE] [FILE|-]
                                decode a captured byte stream into frames and packets, one JSON object per line
  skynode dict [--format json|xtce|cosmos]
                                the mission dictionary derived from the deployed components (and its exports)
  skynode hil score seeds/NAME.json [--json] [--report DIR]
                                run a scenario in virtual time: skynode's controller and three baselines scored
                                against the optimum (a linear program); exit 1 when the scenario's criteria fail
  skynode hil devices --port PATH [seeds/NAME.json]
                                the rig's simulated EPS and accelerator controller (Modbus RTU) on a serial port
  skynode hil run seeds/NAME.json [--duration S] [--step-ms MS]
                                the flight software as its own process against the rig's Modbus devices on a
                                pseudo-terminal, its clock following the rig's, in accelerated time
  skynode board probe [--root DIR] [--board NAME|FILE --check]
                                what this machine exposes (sensors, rails, GPIO, watchdogs, GPUs) and which board
                                file fits; --check reads every role of a board file once
  skynode help                  this text; 'skynode COMMAND --help' for a command's options
`;

const FSW_HELP = `skynode fsw: run the flight software

Options:
  --board NAME|FILE       a board from boards/ (sim, generic-linux, raspberry-pi-5, jetson-orin-nano,
                          nvidia-datacenter) or the path of a board file (default: sim)
  --state-dir DIR         where parameters, boot count and other durable state live (default: ${DEFAULT_STATE_DIR})
  --log-level LEVEL       ${LOG_LEVELS.join('|')} (default: info)
  --telemetry-log S       log each component's telemetry at most every S seconds; 0 turns it off (default: 1)
  --link SPEC             the link to the ground: serial:PATH[@BAUD] | tcp:HOST:PORT | tcp-listen:[HOST:]PORT |
                          udp:HOST:PORT[?bind=PORT] | udp-listen:[HOST:]PORT (default: the board's serial port,
                          none on sim)
  --profile P             serial (KISS, 256-octet TM frames) or radio (CLTU up, CADU down) (default: serial)
  --keys FILE             SDLS keys (JSON, PROTOCOL.md "Keys"); required with --link
  --insecure-no-auth      development only: accept unauthenticated frames (logged loudly, reported as an event)
  --hal-root DIR          read the board's devices under DIR instead of / (a captured tree, a HIL rig's fake sysfs)
  --clock-follow PATH     mission time follows a HIL rig's clock (like ROS use_sim_time): connect to the unix
                          socket PATH, start a virtual clock at the rig's first time, and on each
                          {"advanceTo": MS} line run everything due up to MS, wait for the board's I/O to
                          settle, and answer {"at": MS}; exit 0 when the socket closes ('skynode hil run')
  -h, --help              this text
`;

const DEMO_HELP = `skynode demo: the flight stack on the simulated board, with its telemetry and events live in the terminal

Type a command at the prompt (for example: health.NOOP), 'help' for the list, 'quit' to leave.
On a non-interactive terminal, commands are read one per line from standard input and the view is printed
every --refresh seconds.

Options:
  --board NAME            board file from boards/ (default: sim)
  --state-dir DIR         durable state (default: ${DEFAULT_STATE_DIR}/demo); the flight log goes to DIR/fsw.log
  --duration S            stop after S seconds (default: run until quit)
  --refresh S             seconds between redraws (default: 0.5 interactive, 5 otherwise)
  -h, --help              this text
`;

const DICT_HELP = `skynode dict: print the mission dictionary

Options:
  --format FORMAT         json (default): the dictionary with its CRC-32
                          xtce: XTCE 1.2 for YAMCS (one SpaceSystem: types, parameters, containers, commands)
                          cosmos: an OpenC3 COSMOS target's definitions, written to --out DIR
  --out DIR               with --format cosmos: writes DIR/cmd_tlm/cmd.txt and DIR/cmd_tlm/tlm.txt
  -h, --help              this text

The JSON carries "crc32": the CRC-32 (zlib) of the canonical JSON (keys sorted, no whitespace) of everything
else in it. The flight software reports the same CRC, so a ground station can tell that its copy matches. The
XTCE and COSMOS exports carry the same CRC in their header comments (and XTCE in Header version).
`;

function seconds(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0)
    throw new UsageError(`${name} takes a number of seconds >= 0, not '${text}'`);
  return value;
}

function logLevel(text: string | undefined): LogLevel {
  if (text === undefined) return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(text)) {
    throw new UsageError(`--log-level takes one of ${LOG_LEVELS.join(', ')}, not '${text}'`);
  }
  return text as LogLevel;
}

async function fsw(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      board: { type: 'string', default: 'sim' },
      'state-dir': { type: 'string', default: DEFAULT_STATE_DIR },
      'log-level': { type: 'string' },
      'telemetry-log': { type: 'string' },
      link: { type: 'string' },
      profile: { type: 'string' },
      keys: { type: 'string' },
      'insecure-no-auth': { type: 'boolean', default: false },
      'hal-root': { type: 'string' },
      'clock-follow': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(FSW_HELP);
    return 0;
  }
  // Signal handlers go in before anything starts: a SIGTERM during start-up must stop the stack cleanly too.
  let stopRequested: string | undefined;
  let onStop: (reason: string) => void = (reason) => {
    stopRequested = reason;
  };
  process.once('SIGINT', (signal) => onStop(signal));
  process.once('SIGTERM', (signal) => onStop(signal));
  let onRestart: (reason: string) => void = () => {};
  const board = await loadBoard(values.board);
  // Under --clock-follow, mission time is the rig's: a virtual clock that starts at the rig's first message.
  const follower = values['clock-follow']
    ? await (await import('./follow-clock.js')).connectClockFollower(values['clock-follow'])
    : null;
  if (follower === undefined) return 0; // the rig closed the socket before its first message: nothing to run
  const followedClock = follower ? new VirtualClock({ startMs: follower.startMs }) : undefined;
  const flight = startFlight({
    onRestartRequest: (reason) => onRestart(reason),
    ...(values.link ? { link: values.link } : {}),
    profile: linkProfile(values.profile),
    ...(values.keys ? { keysFile: values.keys } : {}),
    insecure: values['insecure-no-auth'],
    board,
    ...(values['hal-root'] ? { halRoot: values['hal-root'] } : {}),
    ...(followedClock ? { clock: followedClock } : {}),
    stateDir: values['state-dir'],
    logLevel: logLevel(values['log-level']),
    telemetryLogIntervalS: seconds('--telemetry-log', values['telemetry-log'], 1),
  });
  if (follower && followedClock) {
    follower.follow(
      followedClock,
      () => flight.pendingIo(),
      () => flight.ioIdle(),
    );
    void follower.closed.then(() => onStop('clock source closed'));
  }
  return await new Promise<number>((resolveExit) => {
    onStop = (reason) => {
      follower?.close();
      void flight.shutdown(reason).then(() => resolveExit(0));
    };
    if (stopRequested) onStop(stopRequested);
    // A commanded restart: stop cleanly and exit with EX_TEMPFAIL, for the supervisor (systemd) to start again.
    onRestart = (reason) => {
      void flight.shutdown(`restart: ${reason}`).then(() => resolveExit(RESTART_EXIT_CODE));
    };
    process.once('uncaughtException', (error) => {
      flight.logger.fatal({ err: error }, 'uncaught exception: stopping');
      void flight.shutdown('uncaughtException').then(() => resolveExit(1));
    });
  });
}

async function demo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      board: { type: 'string', default: 'sim' },
      'state-dir': { type: 'string', default: `${DEFAULT_STATE_DIR}/demo` },
      duration: { type: 'string' },
      refresh: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const duration = seconds('--duration', values.duration, 0);
  const { runDemo } = await import('./demo.js');
  return await runDemo({
    board: values.board,
    stateDir: values['state-dir'],
    durationS: duration > 0 ? duration : undefined,
    refreshS: seconds('--refresh', values.refresh, interactive ? 0.5 : 5),
    interactive,
  });
}

function dict(argv: string[]): number | Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      format: { type: 'string', default: 'json' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(DICT_HELP);
    return 0;
  }
  const format = values.format;
  if (format !== 'json' && format !== 'xtce' && format !== 'cosmos') {
    throw new UsageError(`--format takes json, xtce or cosmos, not '${format}'`);
  }
  if (format === 'cosmos' && values.out === undefined) {
    throw new UsageError(
      '--format cosmos writes a COSMOS target folder: add --out DIR (it writes DIR/cmd_tlm/cmd.txt and DIR/cmd_tlm/tlm.txt)',
    );
  }
  if (format !== 'cosmos' && values.out !== undefined) {
    throw new UsageError(`--out goes with --format cosmos; --format ${format} prints to standard output`);
  }
  const dictionary = buildDictionary(flightComponents());
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(dictionaryToJson(dictionary), null, 2)}\n`);
    return 0;
  }
  // The exports are ground tools, loaded on demand. main() returns this promise from inside its try without
  // awaiting it there, so whatever goes wrong is reported here.
  return (async () => {
    try {
      if (format === 'xtce') {
        const { toXtce } = await import('../ground/exports/xtce.js');
        process.stdout.write(toXtce(dictionary));
        return 0;
      }
      const [{ toCosmos }, { mkdirSync, writeFileSync }, { join }] = await Promise.all([
        import('../ground/exports/cosmos.js'),
        import('node:fs'),
        import('node:path'),
      ]);
      const target = toCosmos(dictionary);
      const folder = join(values.out as string, 'cmd_tlm');
      const files = [
        [join(folder, 'cmd.txt'), target.cmd],
        [join(folder, 'tlm.txt'), target.tlm],
      ] as const;
      mkdirSync(folder, { recursive: true });
      for (const [path, text] of files) writeFileSync(path, text);
      for (const [path] of files) process.stdout.write(`${path}\n`);
      return 0;
    } catch (error) {
      process.stderr.write(`skynode dict: --format ${format}: ${(error as Error).message}\n`);
      return 1;
    }
  })();
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'fsw':
        return await fsw(rest);
      case 'demo':
        return await demo(rest);
      case 'dict':
        return dict(rest);
      // Loaded on demand: the flight software does not carry the ground station's code in its memory.
      case 'ground':
        return await (await import('./ground.js')).ground(rest);
      case 'link':
        return await (await import('./link.js')).linkCommand(rest);
      case 'board':
        return await (await import('./board.js')).boardCommand(rest);
      case 'hil':
        return await (await import('./hil.js')).hilCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`skynode: unknown command '${command}'\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(
        `skynode ${command}: ${(error as Error).message}\nRun 'skynode ${command} --help'.\n`,
      );
      return 2;
    }
    if (error instanceof DictionaryError) {
      process.stderr.write(`skynode: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

const exitCode = await main(process.argv.slice(2));
// Writes to a pipe are asynchronous: exiting at once would cut off whatever is still queued (a dictionary longer
// than the pipe's buffer). Wait until both streams have handed everything over.
await Promise.all(
  [process.stdout, process.stderr].map(
    (stream) => new Promise<void>((resolveDrained) => stream.write('', () => resolveDrained())),
  ),
);
process.exit(exitCode);
