/**
 * `skynode demo` (what `npm start` runs): the flight stack on the simulated board and a ground station, joined by
 * the real link (serial profile: KISS, TC/TM frames, SDLS with fresh keys, COP-1) over a pseudo-terminal pair
 * made with socat, and a live view of what the ground receives, with commands typed at a prompt. Without socat
 * the two ends are joined in memory instead, with the same protocol stack.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface, emitKeypressEvents } from 'node:readline';
import { pino } from 'pino';
import { filter, firstValueFrom, interval, map, Subject, type Subscription, timeout } from 'rxjs';
import type { CommandResult, EventRecord, TelemetrySample } from '../core/bus.js';
import { RealClock } from '../core/clock.js';
import type { Severity } from '../core/component.js';
import { ArsnFile } from '../ground/arsn.js';
import { commandUsage, parseCommandLine } from '../ground/command-line.js';
import { GroundStation } from '../ground/station.js';
import { describeResult, formatEvent, renderView, TelemetryTable, type ViewSource } from '../ground/view.js';
import { impairedPair } from '../transport/impaired.js';
import { type BytePipe, openPipe } from '../transport/pipe.js';
import { loadKeys, startFlight } from './fsw.js';

export interface DemoOptions {
  readonly board: string;
  readonly stateDir: string;
  readonly durationS: number | undefined;
  readonly refreshS: number;
  readonly interactive: boolean;
}

/** A socat pseudo-terminal pair, or undefined when socat is not installed. */
async function ptyPair(dir: string): Promise<{ a: string; b: string; stop: () => void } | undefined> {
  if (spawnSync('socat', ['-V'], { stdio: 'ignore' }).status !== 0) return undefined;
  const a = join(dir, 'fsw.tty');
  const b = join(dir, 'ground.tty');
  const child = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(existsSync(a) && existsSync(b)); i++)
    await new Promise((r) => setTimeout(r, 20));
  if (!(existsSync(a) && existsSync(b))) {
    child.kill();
    return undefined;
  }
  return { a, b, stop: () => child.kill() };
}

export async function runDemo(options: DemoOptions): Promise<number> {
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const logFile = join(stateDir, 'fsw.log');
  const out = process.stdout;
  // A reader that goes away (`| head`, a closed terminal) ends the demo instead of crashing it.
  out.on('error', () => process.kill(process.pid, 'SIGTERM'));

  // Fresh keys for this run, in a key file as a real deployment has (PROTOCOL.md, "Keys").
  const keysFile = join(stateDir, 'demo-keys.json');
  writeFileSync(
    keysFile,
    JSON.stringify({
      '1': { algorithm: 'hmac-sha256', key: randomBytes(32).toString('hex') },
      '2': { algorithm: 'aes-256-gcm', key: randomBytes(32).toString('hex') },
    }),
    { mode: 0o600 },
  );
  const pty = await ptyPair(stateDir);
  const clock = new RealClock();
  let groundPipe: BytePipe;
  let stop: () => void;
  let flightLink: { link: string } | { pipe: BytePipe };
  if (pty) {
    flightLink = { link: `serial:${pty.a}` };
    groundPipe = openPipe(`serial:${pty.b}`, { scheduler: clock.scheduler });
    stop = pty.stop;
    // The ground listens before the node starts talking, so that it sees the node's first reports.
    await firstValueFrom(
      groundPipe.state$.pipe(
        filter((state) => state.kind === 'open'),
        timeout(5000),
      ),
    ).catch(() => {});
  } else {
    // No socat: the two ends are joined in memory, with the same frames, keys and COP-1.
    const pair = impairedPair({ scheduler: clock.scheduler });
    flightLink = { pipe: pair.a };
    groundPipe = pair.b;
    stop = () => void pair.close();
  }
  const flight = startFlight({
    board: options.board,
    stateDir: join(stateDir, 'fsw'),
    keysFile,
    profile: 'serial',
    clock,
    logDestination: pino.destination({ dest: logFile, sync: true, mkdir: true }),
    ...flightLink,
  });
  return runView(options, {
    flight,
    groundPipe,
    keysFile,
    stateDir,
    logFile,
    flightLink: pty ? `serial ${pty.a} <-> ${pty.b}` : 'in memory (install socat for a pseudo-terminal pair)',
    stop,
  });
}

interface ViewSetup {
  readonly flight: ReturnType<typeof startFlight>;
  readonly groundPipe: BytePipe;
  readonly keysFile: string;
  readonly stateDir: string;
  readonly logFile: string;
  readonly flightLink: string;
  readonly stop: () => void;
}

async function runView(options: DemoOptions, setup: ViewSetup): Promise<number> {
  const { flight, groundPipe, logFile } = setup;
  const { stack } = flight;
  const dictionary = stack.dictionary;
  const counters = ArsnFile.inDirectory(join(setup.stateDir, 'ground'));
  const station = new GroundStation({
    pipe: groundPipe,
    profile: 'serial',
    dictionary,
    scheduler: stack.clock.scheduler,
    keys: loadKeys(setup.keysFile),
    nextArsn: (spi) => counters.take(spi),
    nextSequenceCount: () => counters.takeSequenceCount(),
  });
  const results = new Subject<CommandResult>();
  // What the ground receives, in the shapes the view reads.
  const source: ViewSource = {
    telemetry$: station.telemetry$.pipe(
      map(
        (v): TelemetrySample => ({
          id: dictionary.telemetryByName.get(v.name)?.id ?? 0,
          name: v.name,
          value: v.value,
          time: v.time,
        }),
      ),
    ),
    events$: station.records$.pipe(
      map(({ time, record }) =>
        record.kind === 'event'
          ? ({
              id: record.id,
              name: record.name,
              component: record.name.split('.')[0] ?? '',
              severity: record.severity as Severity,
              args: record.args,
              message: record.message,
              time,
            } satisfies EventRecord)
          : undefined,
      ),
      filter((e): e is EventRecord => e !== undefined),
    ),
    results$: results.asObservable(),
  };
  const view = new TelemetryTable(source);
  const title = () =>
    `skynode demo | board ${flight.board.name} | boot ${stack.bootCount} | link ${setup.flightLink} | ${new Date(
      stack.clock.now(),
    )
      .toISOString()
      .slice(0, 19)}Z`;
  const out = process.stdout;
  const subscriptions: Subscription[] = [];
  let input = '';
  let status = `flight log: ${logFile} | type 'help' for commands, 'quit' to leave`;
  const connected = station.connect(15_000);
  connected.catch((error: Error) => {
    status = `ground: ${error.message}`;
  });

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
    status = `sent ${parsed.entry.name}, waiting for its reports`;
    try {
      await connected;
      const outcome = await station.send(parsed.entry.name, parsed.args, 15_000);
      const result: CommandResult = outcome.ok
        ? { requestId: outcome.requestId, name: outcome.name, ok: true, time: stack.clock.now() }
        : {
            requestId: outcome.requestId,
            name: outcome.name,
            ok: false,
            code: (outcome.failure?.code ?? 9) as CommandResult extends { code: infer C } ? C : never,
            reason: `${outcome.failure?.stage}: ${outcome.failure?.reason ?? ''}`,
            time: stack.clock.now(),
          };
      results.next(result);
      status = describeResult(result);
    } catch (error) {
      status = `${parsed.entry.name}: ${(error as Error).message}`;
    }
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
    if (options.interactive) out.write(`\x1b[H${screen.split('\n').join('\x1b[K\n')}\x1b[K\x1b[J`);
    else out.write(`${screen}\n\n`);
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
      void station.close();
      void groundPipe.close();
      void flight.shutdown(reason).then(() => {
        setup.stop();
        resolveExit(code);
      });
    };

    if (!options.interactive) {
      out.write(`${title()}\nflight log: ${logFile}\n`);
      subscriptions.push(source.events$.subscribe((event) => out.write(`event ${formatEvent(event)}\n`)));
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
