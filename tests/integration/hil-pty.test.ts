/**
 * The rig's serial lines (hil/pty.ts, hil/pty-pipe.ts): pseudo-terminal pairs made by the kernel (the rig holding
 * the master, python3 unlocking it) or by socat, each carrying every octet value both ways untouched, surviving the
 * program closing and reopening its end, and keeping in order what the program is not there to read.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadStream } from 'node:tty';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPtyLine, type PtyLine, type PtyMaker } from '../../hil/pty.js';
import { openPtyPipe } from '../../hil/pty-pipe.js';
import type { BytePipe } from '../../src/transport/pipe.js';

let dir: string;
const open: Array<{ close(): Promise<void> | void }> = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'skynode-pty-'));
});
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every octet value, twice, in a scrambled order: line editing, echo, flow control or CR/LF mapping would show. */
const ALL_OCTETS = Uint8Array.from({ length: 512 }, (_, i) => (i * 167 + 13) % 256);

/** The program's end opened as a program would open a terminal, and what arrives on it. */
function programEnd(path: string) {
  const fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  const input = new ReadStream(fd);
  const received: number[] = [];
  input.on('data', (chunk: Buffer) => received.push(...chunk));
  return {
    fd,
    received,
    write: (bytes: Uint8Array) => writeAll(fd, bytes),
    close: () =>
      new Promise<void>((done) => {
        input.once('close', () => done());
        input.destroy();
      }),
  };
}

function writeAll(fd: number, bytes: Uint8Array): void {
  // Small writes: a pseudo-terminal takes a few kilobytes at a time.
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes.subarray(offset));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

function rigEnd(line: PtyLine) {
  const pipe: BytePipe = openPtyPipe(line.rig);
  open.push(pipe);
  const received: number[] = [];
  pipe.data$.subscribe((chunk) => received.push(...chunk));
  return { pipe, received };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 5));
  }
}

describe.each<PtyMaker>(['kernel', 'socat'])('a pseudo-terminal line made by %s', (maker) => {
  it('carries every octet value both ways untouched', async () => {
    const line = await openPtyLine(dir, 'bus', { maker });
    open.push(line);
    expect(line.maker).toBe(maker);
    expect(line.program).toBe(join(dir, 'bus-fsw'));
    const rig = rigEnd(line);
    const program = programEnd(line.program);
    open.push(program);

    expect(rig.pipe.write(ALL_OCTETS)).toBe(true);
    await until(() => program.received.length >= ALL_OCTETS.length, 'rig -> program');
    expect(Uint8Array.from(program.received)).toEqual(ALL_OCTETS);

    program.write(ALL_OCTETS);
    await until(() => rig.received.length >= ALL_OCTETS.length, 'program -> rig');
    expect(Uint8Array.from(rig.received)).toEqual(ALL_OCTETS);
    // Nothing echoed back to the writer.
    await new Promise((done) => setTimeout(done, 50));
    expect(program.received.length).toBe(ALL_OCTETS.length);
    expect(rig.pipe.stats.bytesOut).toBe(ALL_OCTETS.length);
    expect(rig.pipe.stats.bytesIn).toBe(ALL_OCTETS.length);
  });

  it('stays up while the program closes and reopens its end (a restart)', async () => {
    const line = await openPtyLine(dir, 'bus', { maker });
    open.push(line);
    const rig = rigEnd(line);
    const first = programEnd(line.program);
    first.write(Uint8Array.of(1, 2, 3));
    await until(() => rig.received.length === 3, 'the first program');
    await first.close();

    const second = programEnd(line.program);
    open.push(second);
    second.write(Uint8Array.of(4, 5));
    await until(() => rig.received.length === 5, 'the second program');
    rig.pipe.write(Uint8Array.of(6, 7, 8));
    await until(() => second.received.length === 3, 'rig -> the second program');
    expect(rig.received).toEqual([1, 2, 3, 4, 5]);
    expect(second.received).toEqual([6, 7, 8]);
    expect(rig.pipe.stats.errors).toBe(0);
  });

  it('keeps in order what the program is not there to read, and delivers it when it opens', async () => {
    const line = await openPtyLine(dir, 'bus', { maker });
    open.push(line);
    const rig = rigEnd(line);
    // More than a pseudo-terminal buffers: the rest waits in the rig (or socat) until the program reads.
    const many = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31 + 7) % 256);
    for (let i = 0; i < many.length; i += 1000) expect(rig.pipe.write(many.subarray(i, i + 1000))).toBe(true);
    await new Promise((done) => setTimeout(done, 50));
    const program = programEnd(line.program);
    open.push(program);
    await until(() => program.received.length >= many.length, 'the backlog', 10_000);
    expect(Uint8Array.from(program.received)).toEqual(many);
  });
});

describe('who makes the pair', () => {
  /** A PATH with socat but no python3. */
  function pathWithoutPython(): string {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['socat']) {
      symlinkSync(
        execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(),
        join(bin, tool),
      );
    }
    return bin;
  }

  it('is the kernel when python3 can unlock a pair', async () => {
    const line = await openPtyLine(dir, 'auto');
    open.push(line);
    expect(line.maker).toBe('kernel');
    expect(line.rig.fd).toBeTypeOf('number');
    expect(line.rig.path).toMatch(/^\/dev\/pts\/\d+$/);
    // The master is the pipe's to close: hand it over.
    open.push(openPtyPipe(line.rig));
  });

  it('is socat without python3, saying why; a kernel pair asked for then fails clearly', async () => {
    const saved = process.env.PATH;
    process.env.PATH = pathWithoutPython();
    try {
      const line = await openPtyLine(dir, 'fallback');
      open.push(line);
      expect(line.maker).toBe('socat');
      expect(line.rig.fd).toBeUndefined();
      expect(line.log.join('\n')).toMatch(/python3 could not unlock a pseudo-terminal/);
      await expect(openPtyLine(dir, 'strict', { maker: 'kernel' })).rejects.toThrow(/python3/);
    } finally {
      process.env.PATH = saved;
    }
  });

  it('leaves nothing behind: the links go, the program end hangs up once the rig lets go', async () => {
    const line = await openPtyLine(dir, 'gone', { maker: 'kernel' });
    const pipe = openPtyPipe(line.rig);
    await pipe.close();
    await line.close();
    expect(() => openSync(line.program, constants.O_RDWR | constants.O_NOCTTY)).toThrow(/ENOENT/);
    // The master is closed: its slave can no longer be opened.
    expect(() => closeSync(openSync(line.rig.path, constants.O_RDWR | constants.O_NOCTTY))).toThrow();
  });
});
