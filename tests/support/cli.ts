/** Running the real `skynode` command in tests: a child process, its output as lines, waits with deadlines. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/skynode.js');

export function tempDir(prefix = 'skynode-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  readonly stderr: string[];
  /** Resolves with the first line (already seen or still to come) that matches. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface RunOptions {
  readonly input?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The `skynode` command to run (default: this checkout's bin/skynode.js, the sources through tsx). */
  readonly bin?: string;
}

export function run(args: readonly string[], options: RunOptions = {}): Running {
  const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: 'pipe',
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters: Array<{ match: (line: string) => boolean; resolve: (line: string) => void }> = [];
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.match(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  if (options.input !== undefined) child.stdin.end(options.input);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => {
      if (buffered) lines.push(buffered);
      done({ code, signal });
    }),
  );
  return {
    child,
    lines,
    stderr,
    exited,
    waitForLine(match, timeoutMs = 15_000) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolveLine, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `no matching line within ${timeoutMs} ms; got:\n${lines.join('\n')}\n${stderr.join('')}`,
            ),
          );
        }, timeoutMs);
        waiters.push({
          match,
          resolve: (line) => {
            clearTimeout(timer);
            resolveLine(line);
          },
        });
      });
    },
  };
}

/** Runs to completion and returns exit code and output. */
export async function runToEnd(args: readonly string[], options: RunOptions = {}) {
  const running = run(args, options);
  const { code } = await running.exited;
  return { code, stdout: running.lines.join('\n'), stderr: running.stderr.join('') };
}

export function json(line: string): Record<string, unknown> {
  return JSON.parse(line) as Record<string, unknown>;
}
