/** `skynode link decode` as a process: files, standard input, hex, keys, exit statuses and usage errors. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { linkCommand } from '../../src/cli/link.js';
import { kissEncode } from '../../src/link/kiss.js';
import { ROOT, tempDir } from '../support/cli.js';
import {
  ARM_NOOP,
  concat,
  downlink,
  eventPacket,
  GARBAGE,
  idleFrame,
  KEY_FILE_JSON,
  NOOP,
  securedFrame,
  tmFrames,
  UNLOCK,
  uplink,
} from '../support/link-captures.js';

interface Result {
  readonly code: number | null;
  readonly records: Array<Record<string, unknown>>;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `skynode link ARGS` through tests/support/link-cli.ts, with `input` on standard input. */
function link(args: readonly string[], input?: Uint8Array | string): Promise<Result> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/link-cli.ts', ...args], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  child.stdin.on('error', () => {}); // the command may exit before reading it all
  child.stdin.end(input ?? '');
  return new Promise((resolve) =>
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const lines = stdout.split('\n').filter((l) => l.startsWith('{'));
      resolve({
        code,
        stdout,
        stderr: Buffer.concat(err).toString('utf8'),
        records: lines.map((l) => JSON.parse(l) as Record<string, unknown>),
      });
    }),
  );
}

const dir = tempDir('skynode-link-');
function file(name: string, content: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const kinds = (r: Result) => r.records.map((x) => x.record);

const serialCapture = concat([
  ...tmFrames('serial', [eventPacket(3, 0)]).map((f) => downlink('serial', f)),
  kissEncode(securedFrame(2, NOOP(), { arsn: 12 })),
  kissEncode(UNLOCK),
]);
const radioCapture = concat([
  ...tmFrames('radio', [eventPacket(4, 0)]).map((f) => downlink('radio', f)),
  uplink('radio', securedFrame(1, ARM_NOOP(), { arsn: 13 })),
  downlink('radio', idleFrame('radio')),
]);

describe('skynode link decode', () => {
  it('decodes a raw serial capture from a file: one JSON object per line, the summary last, exit 0', async () => {
    const result = await link(['decode', '--profile', 'serial', file('serial.bin', serialCapture)]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toHaveLength(result.records.length);
    expect(kinds(result)).toEqual(['tm-frame', 'tm-packet', 'tc-frame', 'tc-frame', 'summary']);
    expect(result.records[1]).toMatchObject({
      decoded: { kind: 'event', name: 'health.NOOP', args: { count: 3 } },
    });
    expect(result.records[2]).toMatchObject({
      type: 'AD',
      security: { spi: 2, arsn: 12, mac: 'unchecked' },
      payload: 'encrypted',
    });
    expect(result.records.at(-1)).toMatchObject({
      record: 'summary',
      octets: serialCapture.length,
      records: { 'tm-frame': 1, 'tm-packet': 1, 'tc-frame': 2 },
      rejections: {},
    });
  });

  it('decrypts SPI 2 and checks MACs with --keys, reading standard input (- or no FILE)', async () => {
    const keys = file('keys.json', KEY_FILE_JSON);
    const [serial, radio] = await Promise.all([
      link(['decode', '--profile', 'serial', '--keys', keys, '-'], serialCapture),
      link(['decode', '--profile', 'radio', '--keys', keys], radioCapture),
    ]);
    expect(serial.code).toBe(0);
    expect(kinds(serial)).toEqual(['tm-frame', 'tm-packet', 'tc-frame', 'tc-packet', 'tc-frame', 'summary']);
    expect(serial.records[2]).toMatchObject({ security: { spi: 2, mac: 'ok' } });
    expect(serial.records[3]).toMatchObject({ command: { name: 'health.NOOP', args: {} } });

    expect(radio.stderr).toBe('');
    expect(radio.code).toBe(0);
    expect(kinds(radio)).toEqual(['tm-frame', 'tm-packet', 'tc-frame', 'tc-packet', 'tm-frame', 'summary']);
    expect(radio.records[2]).toMatchObject({ security: { spi: 1, arsn: 13, mac: 'ok' } });
    expect(radio.records[3]).toMatchObject({
      command: { name: 'commanding.ARM', args: { functionId: 0x0101 } },
    });
  });

  it('reads hex with --hex, and exits 1 when something was rejected', async () => {
    const damaged = concat([
      GARBAGE,
      kissEncode(UNLOCK),
      kissEncode(UNLOCK.map((b, i) => (i === 5 ? 1 : b))),
    ]);
    // 0x-prefixed octets, 8 to a line.
    const octets = Array.from(damaged, (b) => `0x${b.toString(16).padStart(2, '0')}`);
    const text = Array.from({ length: Math.ceil(octets.length / 8) }, (_, i) =>
      octets.slice(8 * i, 8 * i + 8).join(' '),
    ).join('\n');
    const [result, stdin, framed] = await Promise.all([
      link(['decode', '--profile', 'serial', '--hex', file('capture.hex', text)]),
      link(['decode', '--profile', 'serial', '--hex', '-'], '30 2a 04 07 00 00 20 e7'),
      link(['decode', '--profile', 'serial', '--hex'], 'c0 00 30 2a 04 07 00 00 20 e7 c0'),
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    expect(kinds(result)).toEqual(['reject', 'tc-frame', 'reject', 'summary']);
    expect(result.records[0]).toMatchObject({ layer: 'kiss', reason: 'unsynchronised', offset: 0 });
    expect(result.records[2]).toMatchObject({
      layer: 'tc-frame',
      reason: 'bad-crc',
      offset: GARBAGE.length + kissEncode(UNLOCK).length,
    });
    expect(result.records.at(-1)).toMatchObject({ rejections: { unsynchronised: 1, 'bad-crc': 1 } });

    expect(stdin.code).toBe(1); // no KISS framing around the BC frame of PROTOCOL.md
    expect(framed.code).toBe(0);
    expect(framed.records[0]).toMatchObject({ record: 'tc-frame', type: 'BC', scid: 0x2a, vcid: 1 });
  });

  it('exits 2 with a message that names the fix on usage errors', async () => {
    const [missing, badHex] = await Promise.all([
      link(['decode', '--profile', 'serial', join(dir, 'missing.bin')]),
      link(['decode', '--profile', 'serial', '--hex', '-'], 'c0 x0'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /^skynode link decode: cannot read .*missing\.bin \(ENOENT\): give the path of a capture file, or - to read standard input\nRun 'skynode link decode --help'\.\n$/,
    );
    expect(missing.stdout).toBe('');
    expect(badHex.code).toBe(2);
    expect(badHex.stderr).toMatch(/standard input is not hex: 'x' at line 1, column 4 .*leave out --hex/);
    expect(badHex.stdout).toBe('');
  });
});

describe('linkCommand in this process', () => {
  /** Runs linkCommand with standard output and error captured. */
  async function command(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const capture = (into: string[]) => (chunk: string | Uint8Array) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture(stdout));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture(stderr));
    try {
      const code = await linkCommand(args);
      return { code, stdout: stdout.join(''), stderr: stderr.join('') };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  it('decodes a capture file and returns the exit status', async () => {
    const ok = await command(['decode', '--profile', 'radio', file('radio.bin', radioCapture)]);
    expect(ok.code).toBe(0);
    expect(
      ok.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { record: string }).record),
    ).toEqual(['tm-frame', 'tm-packet', 'tc-frame', 'tc-packet', 'tm-frame', 'summary']);
    const frameLength = await command([
      'decode',
      '--profile',
      'serial',
      '--frame-length',
      '1115',
      file('kiss-radio-frames.bin', concat(tmFrames('radio', [eventPacket(1)]).map((f) => kissEncode(f)))),
    ]);
    expect(frameLength.code).toBe(0);
    expect(frameLength.stdout).toContain('"record":"tm-packet"');
  });

  it('prints its help', async () => {
    const help = await command(['decode', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('skynode link decode --profile serial|radio');
    expect(help.stdout).toMatch(
      /Exit status: 0 when nothing was rejected, 1 when something was, 2 on a usage error/,
    );
    const bare = await command([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('skynode link decode');
  });

  const capture = () => file('ok.bin', serialCapture);
  const usage: Array<[string, () => string[], RegExp]> = [
    [
      'a directory',
      () => ['decode', '--profile', 'serial', dir],
      /is a directory: give the path of a capture file/,
    ],
    [
      'an odd number of hex digits',
      () => ['decode', '--profile', 'serial', '--hex', file('odd.hex', 'c0 0')],
      /odd\.hex is not hex: odd number of hex digits \(3\)/,
    ],
    [
      'a bad profile',
      () => ['decode', '--profile', 'radi0', capture()],
      /--profile takes serial or radio, not 'radi0'/,
    ],
    [
      'no profile',
      () => ['decode', capture()],
      /--profile is required: --profile serial \(KISS\) or --profile radio/,
    ],
    [
      'a bad frame length',
      () => ['decode', '--profile', 'serial', '--frame-length', '12', capture()],
      /--frame-length takes a whole number of octets from 19 to 2048/,
    ],
    [
      'a missing key file',
      () => ['decode', '--profile', 'serial', '--keys', join(dir, 'nokeys.json'), capture()],
      /cannot read key file/,
    ],
    [
      'a bad key file',
      () => ['decode', '--profile', 'serial', '--keys', file('bad-keys.json', '{"3": {}}'), capture()],
      /SPI "3" is not defined/,
    ],
    [
      'an unknown option',
      () => ['decode', '--profile', 'serial', '--bogus', capture()],
      /Unknown option '--bogus'/,
    ],
    ['two captures', () => ['decode', '--profile', 'serial', capture(), capture()], /one capture at a time/],
    ['an unknown action', () => ['encode'], /unknown action 'encode': skynode link decode/],
  ];

  it.each(usage)('exits 2 on %s, naming the fix', async (_, args, message) => {
    const result = await command(args());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/Run 'skynode link( decode)? --help'\.\n$/);
    expect(result.stdout).toBe('');
  });
});
