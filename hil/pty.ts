/**
 * A serial line for the rig: a pseudo-terminal pair, one end for the rig, the other (a /dev/pts device) for the
 * program under test.
 *
 * The rig makes the pair itself when it can: it opens /dev/ptmx and keeps the master end, so that the octets go
 * straight from the program's tty to the rig's descriptor. Unlocking the slave and naming it (unlockpt, ptsname)
 * are ioctls that Node cannot make, so a short python3 helper makes them on the inherited descriptor and sets the
 * slave raw; it exits at once. Without python3 (or /dev/ptmx), socat makes the pair: two pseudo-terminals and socat
 * copying between them, one process more on every octet's way (an echo round trip: 0.13 ms the kernel's pair,
 * 0.20 ms socat's, on this project's 2-core machine, where the rig runs two processes of its own besides).
 *
 * Either way the rig also holds the program's end open itself (never reading it), so that the program can close
 * and reopen its port (a crash and restart, a reconnect) without the line hanging up.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

export class PtyError extends Error {
  override name = 'PtyError';
}

/** The rig's end of a pair: a path to open (socat's), or the master's descriptor (the kernel's pair). */
export interface PtyEnd {
  readonly path: string;
  /** The master's descriptor, owned by whoever reads it from now on (it closes it). */
  readonly fd?: number;
}

/** Who made a pair: the kernel (/dev/ptmx, the rig holding the master) or socat. */
export type PtyMaker = 'kernel' | 'socat';

export interface PtyLine {
  /** The rig's end. */
  readonly rig: PtyEnd;
  /** The end for the program under test: `DIR/NAME-fsw`, a link to its /dev/pts device. */
  readonly program: string;
  readonly maker: PtyMaker;
  /** What the maker said, for a diagnosis (and why the kernel's pair was not made, when socat made it). */
  readonly log: readonly string[];
  /** Stops socat (if it made the pair), lets go of the program's end and removes the links. */
  close(): Promise<void>;
}

export interface PtyLineOptions {
  /** Who makes the pair: `auto` (default) is the kernel's when python3 can unlock it, socat's otherwise. */
  readonly maker?: PtyMaker | 'auto';
  /** How long socat may take to make its pair, ms (default 5000). */
  readonly timeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/**
 * Runs on the master's descriptor, inherited as fd 3: grantpt and unlockpt, then the slave set raw (8 bits, no
 * echo, no line editing, no output processing; the settings stay with the pair while the master is open) and its
 * name on stdout.
 */
const UNLOCK_HELPER = `
import ctypes, os, sys, tty
libc = ctypes.CDLL(None, use_errno=True)
libc.ptsname.restype = ctypes.c_char_p
if libc.grantpt(3) != 0 or libc.unlockpt(3) != 0:
    sys.exit("unlockpt: " + os.strerror(ctypes.get_errno()))
name = libc.ptsname(3)
if not name:
    sys.exit("ptsname failed")
slave = os.open(name, os.O_RDWR | os.O_NOCTTY)
tty.setraw(slave)
os.close(slave)
sys.stdout.write(name.decode())
`;

/** Holds `program` open without reading it; O_NOCTTY: the rig must not make the terminal its controlling one. */
function holdOpen(program: string): number {
  return openSync(program, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
}

/** The kernel's pair, or the reason it could not be made. */
function kernelPair(dir: string, name: string): PtyLine | string {
  let master: number;
  try {
    // Non-blocking: libuv leaves a master's descriptor as it finds it, and a blocking write to a program that does
    // not read (stopped, restarting) would stop the rig; the rig's writes take EAGAIN and wait instead.
    master = openSync('/dev/ptmx', constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch (error) {
    return `/dev/ptmx: ${(error as Error).message}`;
  }
  const helper = spawnSync('python3', ['-c', UNLOCK_HELPER], {
    stdio: ['ignore', 'pipe', 'pipe', master],
    encoding: 'utf8',
    timeout: 10_000,
  });
  const device = typeof helper.stdout === 'string' ? helper.stdout.trim() : '';
  if (helper.error || helper.status !== 0 || !device.startsWith('/dev/')) {
    closeSync(master);
    const why = helper.error?.message ?? (`${helper.stderr ?? ''}`.trim() || `exit ${helper.status}`);
    return `python3 could not unlock a pseudo-terminal: ${why}`;
  }
  const program = join(dir, `${name}-fsw`);
  let held: number;
  try {
    symlinkSync(device, program);
    held = holdOpen(program);
  } catch (error) {
    closeSync(master);
    rmSync(program, { force: true });
    return `${device}: ${(error as Error).message}`;
  }
  let closed = false;
  return {
    rig: { path: device, fd: master },
    program,
    maker: 'kernel',
    log: [`${name}: ${device}, its master held by the rig`],
    close() {
      if (!closed) {
        closed = true;
        // The master is the reader's to close (its stream does); the rig's hold on the slave is ours.
        try {
          closeSync(held);
        } catch {
          // Already gone.
        }
        rmSync(program, { force: true });
      }
      return Promise.resolve();
    },
  };
}

/** socat's pair: `DIR/NAME-rig` and `DIR/NAME-fsw`, links to the /dev/pts devices; waits for both. */
async function socatPair(dir: string, name: string, timeoutMs: number, why: string[]): Promise<PtyLine> {
  const rig = join(dir, `${name}-rig`);
  const program = join(dir, `${name}-fsw`);
  const child: ChildProcess = spawn(
    'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${rig}`, `pty,raw,echo=0,link=${program}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const log: string[] = [...why];
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
    if (failure) throw new PtyError(`cannot start socat (is it installed?): ${failure}${explain(why)}`);
    if (child.exitCode !== null) throw new PtyError(`socat exited: ${log.join(' ')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new PtyError(`socat made no pseudo-terminals within ${timeoutMs} ms: ${log.join(' ')}`);
    }
    await sleep(10);
  }
  const held = holdOpen(program);
  let closed: Promise<void> | undefined;
  return {
    rig: { path: rig },
    program,
    maker: 'socat',
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

const explain = (why: readonly string[]) => (why.length > 0 ? ` (and ${why.join('; ')})` : '');

/** Makes the pair NAME in `dir`: the kernel's, or socat's (see the module's comment). */
export async function openPtyLine(dir: string, name: string, options: PtyLineOptions = {}): Promise<PtyLine> {
  const maker = options.maker ?? 'auto';
  const why: string[] = [];
  if (maker !== 'socat') {
    const pair = kernelPair(dir, name);
    if (typeof pair !== 'string') return pair;
    if (maker === 'kernel') throw new PtyError(pair);
    why.push(pair);
  }
  return socatPair(dir, name, options.timeoutMs ?? 5000, why);
}
