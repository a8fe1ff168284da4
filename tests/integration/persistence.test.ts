import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../support/cli.js';

const SCRIPT = join(ROOT, 'tests/support/param-process.ts');

function start(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: ROOT, stdio: 'pipe' });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  return { child, output: () => out, exited };
}

async function until(condition: () => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function read(dir: string, name: string) {
  const reader = start([dir, 'get', name]);
  await reader.exited;
  return JSON.parse(reader.output()) as { value: number; boot: number };
}

describe('parameter persistence across process restarts', () => {
  it('keeps a value set before kill -9', async () => {
    const dir = tempDir();
    const writer = start([dir, 'set', 'thermal.offsetC', '-7']);
    await until(() => writer.output().includes('acked'));
    writer.child.kill('SIGKILL');
    await writer.exited;
    expect(await read(dir, 'thermal.offsetC')).toEqual({ value: -7, boot: 2 });
  });

  it('loses no acknowledged write when killed mid-stream', async () => {
    const dir = tempDir();
    for (let round = 0; round < 3; round++) {
      const writer = start([dir, 'count', 'thermal.offsetC']);
      // Let it write for a while, then kill it at an arbitrary point of its loop.
      await until(() => (writer.output().match(/acked/g)?.length ?? 0) > 50 + round * 37);
      writer.child.kill('SIGKILL');
      await writer.exited;
      const acked = writer
        .output()
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('acked '));
      const last = Number(acked.at(-1)?.split(' ')[1]);
      const stored = (await read(dir, 'thermal.offsetC')).value;
      // The value on disk is the last acknowledged one, or one the writer stored but had not yet printed.
      expect([last, (last % 20) + 1]).toContain(stored);
    }
  });
});
