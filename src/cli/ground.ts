/**
 * `skynode ground`: the ground station for testers. `send` one command and wait for its verification, `watch`
 * telemetry and events live, or run a `script` against the scripting API; whatever TM comes in meanwhile is kept
 * in the archive in the state directory, which `export` and `gaps` read (and `gaps --request` asks the node to
 * play back what is missing). Composition only: the station lives in src/ground/station.ts, the archive in
 * src/ground/archive.ts.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { interval } from 'rxjs';
import { RealClock } from '../core/clock.js';
import { formatValue } from '../core/component.js';
import { buildDictionary } from '../core/dictionary.js';
import { describeGap, formatExport, GroundArchive, parseTime, type SequenceGap } from '../ground/archive.js';
import { ArsnFile } from '../ground/arsn.js';
import type { TmRecord } from '../ground/codec.js';
import { parseArguments, suggestions } from '../ground/command-line.js';
import { recoverGaps } from '../ground/recover.js';
import { type CommandOutcome, formatLinkStats, GroundStation } from '../ground/station.js';
import { openPipe } from '../transport/pipe.js';
import { checkLinkSpec, flightComponents, linkProfile, loadKeys, UsageError } from './fsw.js';

export const GROUND_HELP = `skynode ground: command and watch a skynode node, and read the telemetry archive

Usage:
  skynode ground --link SPEC [options] send NAME [arg=value ...]   send a command, print its verification
  skynode ground --link SPEC [options] watch                       print telemetry and events as they come
  skynode ground --link SPEC [options] script FILE.ts              run a script (export default async (station) => {})
  skynode ground [options] export --from T [--to T] [--format csv|json] [--kinds K,...] [--out FILE]
                                                                   telemetry from the archive, no link needed
  skynode ground [options] gaps --from T [--to T]                  packets missing from the archive, per APID
  skynode ground --link SPEC [options] gaps --from T [--to T] --request
                                                                   ... and ask the node to play them back (TC(15,9))

Options:
  --link SPEC             serial:PATH[@BAUD] | tcp:HOST:PORT | tcp-listen:[HOST:]PORT | udp:HOST:PORT[?bind=PORT]
  --profile P             serial or radio, as the node (default: serial)
  --keys FILE             SDLS keys, as the node's (PROTOCOL.md "Keys")
  --insecure-no-auth      talk to a node started with --insecure-no-auth
  --state-dir DIR         where the ground keeps its anti-replay counter and its telemetry archive, archive.db
                          (default: .skynode-ground)
  --timeout S             seconds to wait for the node and for each command's reports (default: 30)
  --duration S            watch: stop after S seconds (default: until Ctrl-C)
  --from T, --to T        export, gaps: spacecraft time span; T is ISO-8601 (UTC unless it says otherwise),
                          now, or relative to now: -90s, -10m, -2h, -1d (--to defaults to now)
  --format F              export: csv (one row per telemetry value, event and verification report) or json
                          (one archived packet per line); default csv
  --kinds K,...           export: only these records: housekeeping, event, verification, parameters, schedule,
                          alive, other, undecodable
  --out FILE              export: write to FILE instead of standard output
  --request               gaps: request playback of each gap (needs --link)
  -h, --help              this text

Every TM packet received by send, watch, script or gaps --request is archived (written every 100 ms: a ground
crash loses at most the last 100 ms). watch prints link statistics every 5 s and when it stops.
Exit status: 0 when the command completed (send), the script resolved or every playback request completed,
1 when it failed, 2 on a usage error.
`;

const ACTIONS = ['send', 'watch', 'script', 'export', 'gaps'] as const;
const RECORD_KINDS: ReadonlyArray<TmRecord['kind']> = [
  'housekeeping',
  'event',
  'verification',
  'parameters',
  'schedule',
  'alive',
  'other',
  'undecodable',
];
const STATS_EVERY_MS = 5000;
function describe(outcome: CommandOutcome): string[] {
  return outcome.stages.map((s) =>
    s.success ? `  ${s.stage}: ok` : `  ${s.stage}: FAILED (code ${s.code}) ${s.reason ?? ''}`,
  );
}

function timeOption(
  name: string,
  text: string | undefined,
  fallback: string | undefined,
  now: number,
): number {
  const given = text ?? fallback;
  if (given === undefined) throw new UsageError(`${name} T is required (ISO-8601, now, or -10m, -2h, ...)`);
  const ms = parseTime(given, now);
  if (ms === undefined)
    throw new UsageError(
      `${name} takes ISO-8601, now, or a time relative to now (-90s, -10m, -2h), not '${given}'`,
    );
  return ms;
}

function span(values: { from?: string; to?: string }): { from: number; to: number } {
  const now = Date.now();
  const from = timeOption('--from', values.from, undefined, now);
  const to = timeOption('--to', values.to, 'now', now);
  if (from > to) throw new UsageError(`--from is after --to`);
  return { from, to };
}

function openArchive(stateDir: string): GroundArchive {
  try {
    return GroundArchive.inDirectory(stateDir, { mustExist: true });
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message}: the ground archives what send, watch and script receive (or give --state-dir)`,
    );
  }
}

/** `--from -10m` as `--from=-10m`: parseArgs takes a value starting with a dash for an option otherwise. */
function joinTimeValues(argv: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    if ((arg === '--from' || arg === '--to') && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

export async function ground(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: joinTimeValues(argv),
    options: {
      link: { type: 'string' },
      profile: { type: 'string' },
      keys: { type: 'string' },
      'insecure-no-auth': { type: 'boolean', default: false },
      'state-dir': { type: 'string', default: '.skynode-ground' },
      timeout: { type: 'string' },
      duration: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string' },
      kinds: { type: 'string' },
      out: { type: 'string' },
      request: { type: 'boolean', default: false },
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
  if (!ACTIONS.includes(action as (typeof ACTIONS)[number]))
    throw new UsageError(`unknown action '${action}': ${ACTIONS.join(', ')}`);
  const stateDir = resolve(values['state-dir']);
  const out = process.stdout;
  if (action === 'gaps' && values.request && !values.link)
    throw new UsageError('gaps --request sends playback requests: give --link SPEC (and --keys FILE)');

  if (action === 'export') {
    const format = values.format ?? 'csv';
    if (format !== 'csv' && format !== 'json')
      throw new UsageError(`--format takes csv or json, not '${format}'`);
    const kinds = values.kinds
      ?.split(',')
      .map((k) => k.trim())
      .filter((k) => k.length > 0);
    const unknown = kinds?.filter((k) => !RECORD_KINDS.includes(k as TmRecord['kind'])) ?? [];
    if (unknown.length > 0)
      throw new UsageError(`--kinds: unknown ${unknown.join(', ')}; kinds are ${RECORD_KINDS.join(', ')}`);
    const { from, to } = span(values);
    const archive = openArchive(stateDir);
    try {
      const packets = archive.query({ from, to, ...(kinds ? { kinds } : {}) });
      const text = formatExport(packets, format);
      if (values.out !== undefined) {
        writeFileSync(values.out, text);
        out.write(`${packets.length} packets exported to ${values.out}\n`);
      } else out.write(text);
      return 0;
    } finally {
      archive.close();
    }
  }

  let gaps: SequenceGap[] = [];
  let requestedSpan = { from: 0, to: 0 };
  if (action === 'gaps') {
    const { from, to } = span(values);
    requestedSpan = { from, to };
    const archive = openArchive(stateDir);
    try {
      gaps = archive.gaps({ from, to });
    } finally {
      archive.close();
    }
    const where = `${new Date(from).toISOString()} to ${new Date(to).toISOString()}`;
    if (gaps.length === 0) out.write(`no gaps from ${where}\n`);
    else {
      out.write(`${gaps.length} gap${gaps.length === 1 ? '' : 's'} from ${where}:\n`);
      for (const gap of gaps) out.write(`  ${describeGap(gap)}\n`);
    }
    if (!values.request || gaps.length === 0) return 0;
  }

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
  }
  if (action === 'script' && !rest[0]) throw new UsageError('script needs a FILE');

  const clock = new RealClock();
  const keys = values.keys ? loadKeys(values.keys) : undefined;
  const arsn = ArsnFile.inDirectory(stateDir);
  const archive = GroundArchive.inDirectory(stateDir, { scheduler: clock.scheduler });
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
  const archiving = station.records$.subscribe((received) => archive.add(received));
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
    if (action === 'gaps') {
      const { stillMissing } = await recoverGaps({
        station,
        archive,
        scheduler: clock.scheduler,
        gaps,
        span: requestedSpan,
        timeoutMs: timeoutS * 1000,
        say: (line) => out.write(`${line}\n`),
      });
      return stillMissing === 0 ? 0 : 1;
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
      const statistics = interval(STATS_EVERY_MS, clock.scheduler).subscribe(() =>
        out.write(`${formatLinkStats(station.linkStats())}\n`),
      );
      const durationS = values.duration === undefined ? undefined : Number(values.duration);
      await new Promise<void>((done) => {
        if (durationS !== undefined) clock.scheduler.schedule(() => done(), durationS * 1000);
        process.once('SIGINT', () => done());
        process.once('SIGTERM', () => done());
      });
      records.unsubscribe();
      statistics.unsubscribe();
      out.write(`${formatLinkStats(station.linkStats())}\n`);
      out.write(
        `link: ${station.stats.framesIn} frames, ${station.stats.framesRejected} rejected, ${station.stats.packetsIn} packets; archived in ${archive.path}\n`,
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
    archiving.unsubscribe();
    archive.close();
  }
}
