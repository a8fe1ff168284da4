/** Shared setup of the end-to-end tests: a key file as PROTOCOL.md lays it out, and `skynode fsw` on a link. */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseKeyFile, type SdlsKeys } from '../../src/link/sdls.js';
import { type Running, run } from './cli.js';

const ALGORITHM = { 1: 'hmac-sha256', 2: 'aes-256-gcm' } as const;

/** Writes a key file with fresh random keys for the SPIs given (default both); returns the parsed keys. */
export function writeKeyFile(path: string, spis: ReadonlyArray<1 | 2> = [1, 2]): SdlsKeys {
  const text = JSON.stringify(
    Object.fromEntries(
      spis.map((spi) => [String(spi), { algorithm: ALGORITHM[spi], key: randomBytes(32).toString('hex') }]),
    ),
  );
  writeFileSync(path, text);
  const parsed = parseKeyFile(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.keys;
}

/**
 * Starts `skynode fsw` talking on `link` with `keysFile` and its state in `stateDir` (telemetry not logged), and
 * resolves once its transport reports open.
 */
export async function startLinkedFsw(link: string, keysFile: string, stateDir: string): Promise<Running> {
  const running = run([
    'fsw',
    '--link',
    link,
    '--keys',
    keysFile,
    '--state-dir',
    stateDir,
    '--telemetry-log',
    '0',
  ]);
  await running.waitForLine((l) => l.includes('"event":"link.PIPE_STATE"') && l.includes('"state":"open"'));
  return running;
}
