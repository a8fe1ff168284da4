/** Waiting on real pipes with deadlines, and socat pseudo-terminal pairs, for the transport integration tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filter, firstValueFrom, type Subscription, take, throwError, timeout } from 'rxjs';
import type { BytePipe, PipeState } from '../../../src/transport/pipe.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves with the first state (the current one included) that matches, or rejects after `ms`. */
export function waitForState(
  pipe: BytePipe,
  match: (state: PipeState) => boolean,
  ms = 5000,
): Promise<PipeState> {
  return firstValueFrom(
    pipe.state$.pipe(
      filter(match),
      take(1),
      timeout({
        first: ms,
        with: () =>
          throwError(
            () =>
              new Error(`${pipe.name}: no matching state within ${ms} ms; now ${JSON.stringify(pipe.state)}`),
          ),
      }),
    ),
  );
}

export const isOpen = (state: PipeState) => state.kind === 'open';
export const isReconnecting = (state: PipeState) => state.kind === 'reconnecting';

/** Polls `condition` every 10 ms; rejects after `ms` with `what`. */
export async function waitUntil(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Everything a pipe receives, as chunks and as one byte string. */
export class Received {
  readonly chunks: Uint8Array[] = [];
  private readonly subscription: Subscription;

  constructor(pipe: BytePipe) {
    this.subscription = pipe.data$.subscribe((chunk) => this.chunks.push(chunk));
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  clear(): void {
    this.chunks.length = 0;
  }

  /** Waits until the bytes received so far contain `text`. */
  until(text: string, ms = 5000): Promise<void> {
    return waitUntil(() => this.text().includes(text), `"${text}" (have "${this.text()}")`, ms);
  }

  stop(): void {
    this.subscription.unsubscribe();
  }
}

export const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));

/** A pseudo-terminal pair made by socat, with stable link paths `a` and `b`, that can be killed and restarted. */
export class PtyPair {
  readonly dir = mkdtempSync(join(tmpdir(), 'skynode-pty-'));
  readonly a = join(this.dir, 'a');
  readonly b = join(this.dir, 'b');
  private child: ChildProcess | undefined;

  async start(ms = 5000): Promise<void> {
    // Links left behind by a killed socat point at terminals that are gone: remove them first.
    rmSync(this.a, { force: true });
    rmSync(this.b, { force: true });
    const child = spawn(
      'socat',
      ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.child = child;
    let log = '';
    child.stderr?.on('data', (data: Buffer) => {
      log += data.toString();
    });
    await waitUntil(() => existsSync(this.a) && existsSync(this.b), `socat's links (socat said: ${log})`, ms);
  }

  /**
   * Kills socat (the far end disappears) and waits for it to exit. A socat killed with SIGKILL leaves its links
   * behind, pointing at terminal numbers that the system soon hands to other pseudo-terminals (other tests running
   * at the same time): they are removed at once, as udev removes a /dev/serial link when a device is unplugged.
   */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    rmSync(this.a, { force: true });
    rmSync(this.b, { force: true });
  }

  async dispose(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
