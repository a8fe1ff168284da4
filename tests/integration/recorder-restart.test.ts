import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../support/cli.js';

const SCRIPT = join(ROOT, 'tests/support/recorder-process.ts');

function start(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: ROOT, stdio: 'pipe' });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  return { child, output: () => out, errors: () => err, exited };
}

async function until(condition: () => boolean, what: () => string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The highest `stored N` the writer printed: packets 0 to N-1 were committed. */
const acknowledged = (output: string) =>
  Math.max(0, ...[...output.matchAll(/^stored (\d+)$/gm)].map((m) => Number(m[1])));

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('recorder across kill -9', () => {
  it('keeps every packet it acknowledged as stored, byte for byte, and plays them back after a restart', async () => {
    // Different kill points: a little after a commit, in the middle of a batch, several batches in.
    for (const target of [150, 420, 900]) {
      const dir = tempDir('skynode-recorder-kill-');
      dirs.push(dir);
      const writer = start(['write', dir]);
      await until(
        () => acknowledged(writer.output()) >= target,
        () => `writer: ${writer.output().slice(-200)} ${writer.errors().slice(-500)}`,
      );
      writer.child.kill('SIGKILL');
      await writer.exited;
      const acked = acknowledged(writer.output());

      const reader = start(['read', dir]);
      await reader.exited;
      const line = reader.output().trim().split('\n').at(-1) ?? '';
      expect(line, reader.errors()).toMatch(/^\{/);
      const result = JSON.parse(line) as {
        done: boolean;
        count: number;
        contiguous: boolean;
        identical: boolean;
      };
      expect(result.done).toBe(true);
      // Nothing acknowledged lost: packets 0 to acked-1 at least, without a hole, as first sent. What was
      // appended after the last commit (at most one batch, one second of mission time) may be lost.
      expect(result.contiguous).toBe(true);
      expect(result.identical).toBe(true);
      expect(result.count).toBeGreaterThanOrEqual(acked);
    }
  });
});
