/**
 * A serial line for the rig: a pseudo-terminal pair made by socat, one end for the rig, the other for the program
 * under test. The rig also holds the program's end open itself (never reading it), so that the program can close
 * and reopen its port (a crash and restart, a reconnect) without socat seeing the line hang up and exiting.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export class PtyError extends Error {
  override name = 'PtyError';
}

export interface PtyLine {
  /** The rig's end. */
  readonly rig: string;
  /** The end for the program under test. */
  readonly program: string;
  /** What socat said, for a diagnosis. */
  readonly log: readonly string[];
  /** Stops socat and removes the links. */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Makes the pair `DIR/NAME-rig` and `DIR/NAME-fsw` (links to the /dev/pts devices) and waits for both. */
export async function openPtyLine(dir: string, name: string, timeoutMs = 5000): Promise<PtyLine> {
  const rig = join(dir, `${name}-rig`);
  const program = join(dir, `${name}-fsw`);
  const child: ChildProcess = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${rig}`, `pty,raw,echo=0,link=${program}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const log: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    log.push(...chunk.split('\n').filter(Boolean));
    if (log.length > 40) log.splice(0, log.length - 40);
  });
  let failure: string | undefined;
  child.once('error', (error) => {
    failure = error.message;
  });
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(rig) && existsSync(program))) {
    if (failure) throw new PtyError(`cannot start socat (is it installed?): ${failure}`);
    if (child.exitCode !== null) throw new PtyError(`socat exited: ${log.join(' ')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new PtyError(`socat made no pseudo-terminals within ${timeoutMs} ms: ${log.join(' ')}`);
    }
    await sleep(10);
  }
  // O_NOCTTY: the rig must not make the terminal its controlling one; nothing ever reads this descriptor.
  const held = openSync(program, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  let closed: Promise<void> | undefined;
  return {
    rig,
    program,
    log,
    close() {
      closed ??= (async () => {
        try {
          closeSync(held);
        } catch {
          // Already gone.
        }
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((done) => child.once('exit', () => done()));
          child.kill('SIGTERM');
          await Promise.race([exited, sleep(2000)]);
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        }
        rmSync(rig, { force: true });
        rmSync(program, { force: true });
      })();
      return closed;
    },
  };
}
