/**
 * The rig's own end of a pseudo-terminal pair (hil/pty.ts), read and written as a terminal: the kernel's tty
 * interface through libuv, with no serial settings to make (the pair's maker set it raw) and no thread-pool hop
 * per read, which is what a serialport read costs. The program under test keeps the real serial stack (serialport) on
 * its end; the rig's end only has to be fast, since every Modbus answer and every ground frame crosses it.
 * Measured on this project's 2-core machine: an echo round trip over socat's pair, 0.58 ms with serialport at
 * both ends, 0.39 ms with this at one.
 *
 * The end is a path (socat's pair: one descriptor to read, one to write) or the master's descriptor of the
 * kernel's pair, which cannot be opened twice: read as a terminal stream, written with non-blocking writes of
 * our own (a second libuv stream on one descriptor would share its poll registration; and Node makes every
 * tty.WriteStream blocking, which would stop the rig whenever the program is not reading: stopped, restarting).
 * What the line does not take at once waits, in order, and is written again shortly.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { asyncScheduler } from 'rxjs';
import { DEFAULT_MAX_BUFFERED_BYTES, PipeBase } from '../src/transport/base.js';
import type { BytePipe } from '../src/transport/pipe.js';
import type { PtyEnd } from './pty.js';

/** How often octets the line did not take are offered again, ms (real time: the rig's own end). */
const RETRY_WRITE_MS = 2;

/** Writes on a non-blocking descriptor, keeping in order what does not fit now. */
class FdWriter {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly fd: number,
    private readonly onError: (error: unknown) => void,
    private readonly maxQueuedBytes = DEFAULT_MAX_BUFFERED_BYTES,
  ) {}

  /** False when the octets would overflow the queue (they are not taken). */
  write(bytes: Uint8Array): boolean {
    if (this.queue.length === 0) {
      const written = this.tryWrite(bytes);
      if (written === bytes.byteLength) return true;
      bytes = bytes.subarray(written);
    }
    if (this.queued + bytes.byteLength > this.maxQueuedBytes) return false;
    this.queue.push(Buffer.from(bytes));
    this.queued += bytes.byteLength;
    this.timer ??= setTimeout(() => this.drain(), RETRY_WRITE_MS);
    return true;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.queue.length = 0;
    this.queued = 0;
  }

  private tryWrite(bytes: Uint8Array): number {
    if (this.closed) return bytes.byteLength;
    try {
      return writeSync(this.fd, bytes);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      this.onError(error);
      // A descriptor that fails otherwise takes nothing more: dropping is all there is to do (counted as an error).
      return bytes.byteLength;
    }
  }

  private drain(): void {
    this.timer = undefined;
    while (this.queue.length > 0) {
      const head = this.queue[0] as Buffer;
      const written = this.tryWrite(head);
      this.queued -= written;
      if (written < head.byteLength) {
        this.queue[0] = head.subarray(written);
        this.timer = setTimeout(() => this.drain(), RETRY_WRITE_MS);
        return;
      }
      this.queue.shift();
    }
  }
}

/** A pseudo-terminal end as a pipe: open at once, never reconnecting (the rig owns both ends' lifetime). */
class PtyPipe extends PipeBase {
  private readonly input: ReadStream;
  private readonly output: { write(bytes: Uint8Array): boolean; close(): void };

  constructor(end: PtyEnd) {
    // The scheduler would only time reconnects, which this pipe never makes.
    super(`pty:${end.path}`, asyncScheduler, undefined);
    const onError = (error: unknown) => this.noteError(error);
    if (end.fd !== undefined) {
      this.input = new ReadStream(end.fd);
      this.output = new FdWriter(end.fd, onError);
    } else {
      // A descriptor for each way: the reading stream closes its own; the writer's is non-blocking and its own.
      const flags = constants.O_RDWR | constants.O_NOCTTY;
      this.input = new ReadStream(openSync(end.path, flags));
      const fd = openSync(end.path, flags | constants.O_NONBLOCK);
      const writer = new FdWriter(fd, onError);
      this.output = {
        write: (bytes) => writer.write(bytes),
        close: () => {
          writer.close();
          closeSync(fd);
        },
      };
    }
    this.input.on('data', (chunk: Buffer) => this.received(chunk));
    this.input.on('error', (error) => this.noteError(error));
    this.opened(end.path);
  }

  write(bytes: Uint8Array): boolean {
    if (this.closing) return this.refuse(bytes);
    if (!this.output.write(bytes)) return this.refuse(bytes);
    this.countOut(bytes.byteLength);
    return true;
  }

  protected async release(): Promise<void> {
    this.output.close();
    this.input.removeAllListeners('data');
    // The stream closes its descriptor (the master's, on the kernel's pair) once destroyed.
    await new Promise<void>((done) => {
      this.input.once('close', () => done());
      this.input.destroy();
    });
  }
}

/** Opens a pseudo-terminal end as a byte pipe (a path: its link). Throws when it cannot be opened. */
export function openPtyPipe(end: PtyEnd | string): BytePipe {
  return new PtyPipe(typeof end === 'string' ? { path: end } : end);
}
