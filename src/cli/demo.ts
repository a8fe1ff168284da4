/**
 * `skynode demo` (what `npm start` runs): the flight stack on the simulated board and a live ground view of its
 * telemetry and events, with commands typed at a prompt. The view reads the stack's bus in-process for now; the
 * ground-link work moves it onto a real serial link between two processes.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface, emitKeypressEvents } from 'node:readline';
import { pino } from 'pino';
import { interval, type Subscription } from 'rxjs';
import { commandUsage, parseCommandLine } from '../ground/command-line.js';
import { describeResult, formatEvent, renderView, TelemetryTable } from '../ground/view.js';
import { startFlight } from './fsw.js';

export interface DemoOptions {
  readonly board: string;
  readonly stateDir: string;
  readonly durationS: number | undefined;
  readonly refreshS: number;
  readonly interactive: boolean;
}

export async function runDemo(options: DemoOptions): Promise<number> {
  const stateDir = resolve(options.stateDir);
  const logFile = join(stateDir, 'fsw.log');
  // The flight log goes to a file so that it does not tear through the view.
  mkdirSync(stateDir, { recursive: true });
  const out = process.stdout;
  // A reader that goes away (`| head`, a closed terminal) ends the demo instead of crashing it.
  out.on('error', () => process.kill(process.pid, 'SIGTERM'));
  let table: TelemetryTable | undefined;
  const subscriptions: Subscription[] = [];
  const flight = startFlight({
    board: options.board,
    stateDir,
    logDestination: pino.destination({ dest: logFile, sync: true, mkdir: true }),
    beforeStart: (stack) => {
      table = new TelemetryTable(stack.bus);
      if (!options.interactive) {
        // Plain output: events print as they happen, from the first one of start-up on.
        out.write(
          `skynode demo | board ${options.board} | boot ${stack.bootCount}\nflight log: ${logFile}\n`,
        );
        subscriptions.push(
          stack.bus.events$.subscribe((event) => out.write(`event ${formatEvent(event)}\n`)),
        );
      }
    },
  });
  const { stack } = flight;
  if (!table) throw new Error('demo: the flight stack started without its view');
  const view: TelemetryTable = table;
  const dictionary = stack.dictionary;
  const title = () =>
    `skynode demo | board ${flight.board.name} | boot ${stack.bootCount} | dictionary 0x${dictionary.crc32
      .toString(16)
      .padStart(8, '0')} | ${new Date(stack.clock.now()).toISOString().slice(0, 19)}Z`;
  let input = '';
  let status = `flight log: ${logFile} | type 'help' for commands, 'quit' to leave`;

  const help = () =>
    ['commands:', ...dictionary.commands.map((c) => `  ${commandUsage(c)}`), '  help', '  quit'].join('\n');

  const send = async (line: string) => {
    const text = line.trim();
    if (text === '') return;
    if (text === 'help') {
      status = help();
      if (!options.interactive) out.write(`${status}\n`);
      return;
    }
    const parsed = parseCommandLine(dictionary, text);
    if (!parsed.ok) {
      status = `not sent: ${parsed.error}`;
      if (!options.interactive) out.write(`${status}\n`);
      return;
    }
    status = `sent ${parsed.entry.name}`;
    const result = await stack.dispatch({ name: parsed.entry.name, args: parsed.args, source: 'demo' });
    status = describeResult(result);
    if (!options.interactive) out.write(`command ${status}\n`);
  };

  const draw = () => {
    const screen = renderView(dictionary, view, {
      title: title(),
      now: stack.clock.now(),
      colour: options.interactive,
      maxEvents: options.interactive ? Math.max(3, (out.rows ?? 40) - dictionary.telemetry.length - 12) : 8,
      ...(options.interactive ? { prompt: input } : {}),
      status,
      ...(out.columns ? { width: out.columns } : {}),
    });
    if (options.interactive) {
      // Home, redraw line by line clearing each tail, then clear below: no flicker from a full clear.
      out.write(`\x1b[H${screen.split('\n').join('\x1b[K\n')}\x1b[K\x1b[J`);
    } else {
      out.write(`${screen}\n\n`);
    }
  };

  return await new Promise<number>((resolveExit) => {
    let finished = false;
    const finish = (reason: string, code = 0) => {
      if (finished) return;
      finished = true;
      for (const s of subscriptions) s.unsubscribe();
      if (options.interactive) {
        process.stdin.setRawMode?.(false);
        out.write('\x1b[?25h\n');
      } else {
        draw();
      }
      process.stdin.pause();
      view.close();
      flight.shutdown(reason);
      resolveExit(code);
    };

    if (!options.interactive) {
      const lines = createInterface({ input: process.stdin, terminal: false });
      let queue = Promise.resolve();
      lines.on('line', (line) => {
        queue = queue.then(() => (line.trim() === 'quit' ? finish('quit') : send(line)));
      });
      // End of standard input does not end the demo: it runs for --duration, or until a signal.
    } else {
      out.write('\x1b[2J\x1b[?25l');
      emitKeypressEvents(process.stdin);
      process.stdin.setRawMode?.(true);
      process.stdin.on(
        'keypress',
        (text: string | undefined, key: { name?: string; ctrl?: boolean } | undefined) => {
          if (key?.ctrl && (key.name === 'c' || key.name === 'd')) return finish('quit');
          if (key?.name === 'return' || key?.name === 'enter') {
            const line = input;
            input = '';
            if (line.trim() === 'quit' || line.trim() === 'exit') return finish('quit');
            void send(line).then(draw);
          } else if (key?.name === 'backspace') {
            input = input.slice(0, -1);
          } else if (text && text >= ' ' && !key?.ctrl) {
            input += text;
          }
          draw();
        },
      );
    }

    subscriptions.push(interval(options.refreshS * 1000, stack.clock.scheduler).subscribe(draw));
    if (options.durationS !== undefined) {
      subscriptions.push(
        interval(options.durationS * 1000, stack.clock.scheduler).subscribe(() => finish('duration')),
      );
    }
    process.once('SIGINT', () => finish('SIGINT'));
    process.once('SIGTERM', () => finish('SIGTERM'));
    draw();
  });
}
