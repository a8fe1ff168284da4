/**
 * `skynode ground`: the ground station for testers. `send` one command and wait for its verification, `watch`
 * telemetry and events live, or run a `script` against the scripting API. Composition only: the station lives
 * in src/ground/station.ts.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { RealClock } from '../core/clock.js';
import { formatValue } from '../core/component.js';
import { buildDictionary } from '../core/dictionary.js';
import { ArsnFile } from '../ground/arsn.js';
import { parseArguments, suggestions } from '../ground/command-line.js';
import { type CommandOutcome, GroundStation } from '../ground/station.js';
import { openPipe } from '../transport/pipe.js';
import { checkLinkSpec, flightComponents, linkProfile, loadKeys, UsageError } from './fsw.js';

export const GROUND_HELP = `skynode ground: command and watch a skynode node

Usage:
  skynode ground --link SPEC [options] send NAME [arg=value ...]   send a command, print its verification
  skynode ground --link SPEC [options] watch                       print telemetry and events as they come
  skynode ground --link SPEC [options] script FILE.ts              run a script (export default async (station) => {})

Options:
  --link SPEC             serial:PATH[@BAUD] | tcp:HOST:PORT | tcp-listen:[HOST:]PORT | udp:HOST:PORT[?bind=PORT]
  --profile P             serial or radio, as the node (default: serial)
  --keys FILE             SDLS keys, as the node's (PROTOCOL.md "Keys")
  --insecure-no-auth      talk to a node started with --insecure-no-auth
  --state-dir DIR         where the ground keeps its anti-replay counter (default: .skynode-ground)
  --timeout S             seconds to wait for the node and for each command's reports (default: 30)
  --duration S            watch: stop after S seconds (default: until Ctrl-C)
  -h, --help              this text

Exit status: 0 when the command completed (send) or the script resolved, 1 when it failed, 2 on a usage error.
`;

function describe(outcome: CommandOutcome): string[] {
  return outcome.stages.map((s) =>
    s.success ? `  ${s.stage}: ok` : `  ${s.stage}: FAILED (code ${s.code}) ${s.reason ?? ''}`,
  );
}

export async function ground(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      link: { type: 'string' },
      profile: { type: 'string' },
      keys: { type: 'string' },
      'insecure-no-auth': { type: 'boolean', default: false },
      'state-dir': { type: 'string', default: '.skynode-ground' },
      timeout: { type: 'string' },
      duration: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write(GROUND_HELP);
    return values.help ? 0 : 2;
  }
  const [action, ...rest] = positionals;
  if (!values.link) throw new UsageError('--link SPEC is required (for example --link serial:/dev/ttyUSB0)');
  checkLinkSpec(values.link);
  if (!values.keys && !values['insecure-no-auth']) {
    throw new UsageError(
      "give --keys FILE (the node's keys), or --insecure-no-auth for a node started with it",
    );
  }
  const timeoutS = Number(values.timeout ?? 30);
  if (!(timeoutS > 0)) throw new UsageError(`--timeout takes seconds > 0, not '${values.timeout}'`);
  const dictionary = buildDictionary(flightComponents());

  // Check a send's command and arguments before touching the link: a typo costs nothing.
  let sendArgs: Record<string, unknown> = {};
  if (action === 'send') {
    const [name, ...args] = rest;
    const entry = name ? dictionary.commandByName.get(name) : undefined;
    if (!entry) {
      const close = suggestions(
        name ?? '',
        dictionary.commands.map((c) => c.name),
      );
      throw new UsageError(
        `unknown command '${name ?? ''}'${close.length ? `; did you mean ${close.join(', ')}?` : ''}`,
      );
    }
    const parsed = parseArguments(entry, args);
    if (!parsed.ok) throw new UsageError(parsed.error);
    sendArgs = parsed.args;
  } else if (action !== 'watch' && action !== 'script') {
    throw new UsageError(`unknown action '${action}': send, watch or script`);
  }
  if (action === 'script' && !rest[0]) throw new UsageError('script needs a FILE');

  const clock = new RealClock();
  const keys = values.keys ? loadKeys(values.keys) : undefined;
  const arsn = ArsnFile.inDirectory(resolve(values['state-dir']));
  const pipe = openPipe(values.link, { scheduler: clock.scheduler });
  const station = new GroundStation({
    pipe,
    profile: linkProfile(values.profile),
    dictionary,
    scheduler: clock.scheduler,
    ...(keys ? { keys } : { insecure: true }),
    nextArsn: (spi) => arsn.take(spi),
    nextSequenceCount: () => arsn.takeSequenceCount(),
  });
  const out = process.stdout;
  const alerts = station.alerts$.subscribe((a) =>
    process.stderr.write(`COP-1 alert (${a.reason}): ${a.detail}\n`),
  );
  try {
    await station.connect(timeoutS * 1000);
    if (action === 'send') {
      const name = rest[0] as string;
      const outcome = await station.send(name, sendArgs, timeoutS * 1000);
      out.write(
        `${name} (request ${outcome.requestId.toString(16)}): ${outcome.ok ? 'completed' : 'FAILED'}\n`,
      );
      for (const line of describe(outcome)) out.write(`${line}\n`);
      return outcome.ok ? 0 : 1;
    }
    if (action === 'watch') {
      const records = station.records$.subscribe(({ time, record }) => {
        const at = new Date(time).toISOString().slice(11, 23);
        if (record.kind === 'housekeeping') {
          const values = Object.entries(record.values).map(([k, v]) => `${k}=${formatValue(v)}`);
          out.write(`${at} tlm ${values.join(' ')}\n`);
        } else if (record.kind === 'event') {
          out.write(`${at} event ${record.severity.toUpperCase()} ${record.name}: ${record.message}\n`);
        } else if (record.kind === 'verification') {
          out.write(
            `${at} report ${record.stage} ${record.success ? 'ok' : `FAILED (${record.code}) ${record.reason}`} request ${record.requestId.toString(16)}\n`,
          );
        }
      });
      const durationS = values.duration === undefined ? undefined : Number(values.duration);
      await new Promise<void>((done) => {
        if (durationS !== undefined) clock.scheduler.schedule(() => done(), durationS * 1000);
        process.once('SIGINT', () => done());
        process.once('SIGTERM', () => done());
      });
      records.unsubscribe();
      out.write(
        `link: ${station.stats.framesIn} frames, ${station.stats.framesRejected} rejected, ${station.stats.packetsIn} packets\n`,
      );
      return 0;
    }
    const module = (await import(pathToFileURL(resolve(rest[0] as string)).href)) as {
      default?: (station: GroundStation) => Promise<unknown>;
    };
    if (typeof module.default !== 'function') {
      throw new UsageError(`${rest[0]} has no default export: export default async (station) => { ... }`);
    }
    await module.default(station);
    out.write('script completed\n');
    return 0;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    process.stderr.write(`skynode ground: ${(error as Error).message}\n`);
    return 1;
  } finally {
    alerts.unsubscribe();
    await station.close();
    await pipe.close();
  }
}
