/**
 * `skynode link decode`: what is in a captured byte stream from a serial line or a radio, one JSON record per
 * line. Composition only: the decoding lives in src/ground/inspect.ts.
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildDictionary } from '../core/dictionary.js';
import { type InspectRecord, LinkInspector, parseHexCapture } from '../ground/inspect.js';
import { isLinkProfile, type LinkProfile } from '../link/profile.js';
import type { SdlsKeys } from '../link/sdls.js';
import { TM_FRAME_MAX_LENGTH, TM_FRAME_MIN_LENGTH, TmFrameLength } from '../link/tm-frame.js';
import { flightComponents, loadKeys, UsageError } from './fsw.js';

export const LINK_HELP = `skynode link: link-layer tools for testers

Usage:
  skynode link decode --profile serial|radio [options] [FILE|-]
                          decode a captured byte stream (FILE, or standard input with - or no FILE)

decode prints one JSON object per line: tm-frame, tm-packet (decoded with the mission dictionary), tc-frame,
tc-packet (TC(8,1) of a known function with its command and arguments), and a reject record for everything
rejected (layer kiss|cadu|cltu|tm-frame|tc-frame|sdls|tm-packet|tc-packet, reason, detail, offset in the
stream where known); then a summary with counts by record kind and by rejection reason.

  serial                  KISS frames; each is tried as a TM frame, then as a TC frame
  radio                   CADUs (ASM 1ACFFC1D, TM, derandomized) and CLTUs (EB90 ..., TC) in the same stream

Options:
  --profile P             serial or radio (required)
  --hex                   the capture is hex text (whitespace, newlines, commas and 0x prefixes are ignored)
  --keys FILE             SDLS keys (PROTOCOL.md "Keys"): check MACs and decrypt SPI 2 payloads. Without
                          them MACs are "unchecked" and SPI 2 payloads "encrypted". ARSNs are not checked.
  --frame-length N        TM frame length in octets (default: ${TmFrameLength.serial} serial, ${TmFrameLength.radio} radio)
  -h, --help              this text

Exit status: 0 when nothing was rejected, 1 when something was, 2 on a usage error.
`;

function profileOf(text: string | undefined): LinkProfile {
  if (text === undefined)
    throw new UsageError('--profile is required: --profile serial (KISS) or --profile radio (CADU/CLTU)');
  if (!isLinkProfile(text)) throw new UsageError(`--profile takes serial or radio, not '${text}'`);
  return text;
}

function frameLengthOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < TM_FRAME_MIN_LENGTH || value > TM_FRAME_MAX_LENGTH)
    throw new UsageError(
      `--frame-length takes a whole number of octets from ${TM_FRAME_MIN_LENGTH} to ${TM_FRAME_MAX_LENGTH} (serial ${TmFrameLength.serial}, radio ${TmFrameLength.radio}), not '${text}'`,
    );
  return value;
}

/** The capture's source, opened (so that a missing file is a usage error before any output). */
async function openInput(
  path: string | undefined,
): Promise<{ stream: AsyncIterable<Buffer>; close(): void }> {
  if (path === undefined || path === '-') {
    if (path === undefined && process.stdin.isTTY)
      throw new UsageError('no capture given: name a FILE, or pipe one into standard input (FILE -)');
    return { stream: process.stdin, close: () => {} };
  }
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new UsageError(
      `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give the path of a capture file, or - to read standard input`,
    );
  }
  if ((await handle.stat()).isDirectory()) {
    await handle.close();
    throw new UsageError(`${path} is a directory: give the path of a capture file`);
  }
  return { stream: handle.createReadStream(), close: () => void handle.close().catch(() => {}) };
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function decode(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      profile: { type: 'string' },
      hex: { type: 'boolean', default: false },
      keys: { type: 'string' },
      'frame-length': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(LINK_HELP);
    return 0;
  }
  const profile = profileOf(values.profile);
  const frameLength = frameLengthOf(values['frame-length']);
  if (positionals.length > 1)
    throw new UsageError(`one capture at a time: got ${positionals.length} (${positionals.join(', ')})`);
  const keys: SdlsKeys | undefined = values.keys ? loadKeys(values.keys) : undefined;
  const input = await openInput(positionals[0]);
  const inspector = new LinkInspector({
    profile,
    dictionary: buildDictionary(flightComponents()),
    ...(frameLength !== undefined ? { frameLength } : {}),
    ...(keys ? { keys } : {}),
  });

  let closed = false;
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') closed = true;
    else throw error;
  };
  process.stdout.on('error', onError);
  const write = (records: readonly InspectRecord[]) => {
    if (closed || records.length === 0) return;
    process.stdout.write(`${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  };
  try {
    if (values.hex) {
      const text = (await readAll(input.stream)).toString('utf8');
      const parsed = parseHexCapture(text);
      if (!parsed.ok)
        throw new UsageError(
          `${positionals[0] === undefined || positionals[0] === '-' ? 'standard input' : positionals[0]} is not hex: ${parsed.error}; for a raw capture leave out --hex`,
        );
      write(inspector.push(parsed.bytes));
    } else {
      for await (const chunk of input.stream) {
        write(inspector.push(chunk));
        if (closed) break;
      }
    }
    const last = inspector.finish();
    write(last);
    return inspector.rejected > 0 ? 1 : 0;
  } finally {
    input.close();
    process.stdout.off('error', onError);
  }
}

/** `skynode link ...`; argv is what follows `link`. Returns the exit status (usage errors print and give 2). */
export async function linkCommand(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  try {
    switch (action) {
      case 'decode':
        return await decode(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        (action === undefined ? process.stderr : process.stdout).write(LINK_HELP);
        return action === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown action '${action}': skynode link decode --profile serial|radio FILE`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      const what = action === 'decode' ? 'link decode' : 'link';
      process.stderr.write(`skynode ${what}: ${(error as Error).message}\nRun 'skynode ${what} --help'.\n`);
      return 2;
    }
    throw error;
  }
}
