/**
 * A serial port (8N1) as a byte pipe. When the port cannot be opened, or vanishes while open (a USB adapter
 * unplugged, the far end of a pseudo-terminal closed), the pipe reports 'reconnecting' and tries to open it
 * again with exponential back-off on the caller's scheduler, until close().
 *
 * Presence check: a pseudo-terminal whose far end closed is "hung up", and reading it returns end-of-file
 * forever. serialport 13 on Linux answers that by reading again at once, in a loop that never reports anything
 * (and keeps a libuv thread busy), so the loss would go unnoticed when the hang-up lands before a read is
 * waiting. While open, the pipe therefore checks every `presenceCheckMs` (on the scheduler) that the path still
 * names the device it opened, and treats a missing or different device as a loss.
 *
 * Reading and writing: serialport configures the line (speed, 8N1, raw, exclusive use), but the pipe reads
 * through a descriptor of its own, opened just before serialport's (an exclusive line refuses later opens), as a
 * terminal: libuv waits on it with epoll and reads it on the event loop; and it writes into that descriptor
 * (non-blocking) when serialport has nothing queued, what does not fit going through serialport. serialport's own reads wait the same way
 * and then read on a thread of libuv's pool, a hop that costs about 0.1 ms per answer on a 2-core board (an echo
 * round trip over a socat pair: 0.58 ms with serialport reading at both ends, 0.39 ms with one end reading so).
 * A device that is not a terminal is read through serialport.
 */
import { closeSync, constants, fstat, openSync, type Stats, stat, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isatty, ReadStream } from 'node:tty';
import type { Subscription } from 'rxjs';
import type { SerialPort } from 'serialport';

/**
 * serialport and its native binding are loaded the first time a serial pipe opens (about 10 MB of resident
 * memory a flight stack on another transport, or none, does not pay).
 */
let serialPortClass: typeof SerialPort | undefined;
function serialPort(): typeof SerialPort {
  serialPortClass ??= (createRequire(import.meta.url)('serialport') as { SerialPort: typeof SerialPort })
    .SerialPort;
  return serialPortClass;
}

import { DEFAULT_MAX_BUFFERED_BYTES, errorMessage, PipeBase } from './base.js';
import { DEFAULT_BAUD_RATE, type PipeOptions } from './pipe.js';

export interface SerialPipeOptions extends PipeOptions {
  /** The device, e.g. /dev/ttyUSB0 (a symbolic link is followed at every open). */
  readonly path: string;
  /** Default 115200. */
  readonly baudRate?: number;
  /** How often to check, while open, that the device is still there (see above); default 1000 ms, 0: never. */
  readonly presenceCheckMs?: number;
}

/** The device a path or descriptor names, for the presence check. */
function deviceOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.rdev}`;
}

export class SerialPipe extends PipeBase {
  readonly path: string;
  readonly baudRate: number;
  private port: SerialPort | undefined;
  /** The pipe's own reading end of the port (see above), while open, and its descriptor. */
  private reader: ReadStream | undefined;
  private ownFd: number | undefined;
  /** Settles when the latest open() call has called back. */
  private opening: Promise<void> = Promise.resolve();
  private readonly maxBufferedBytes: number;
  private readonly presenceCheckMs: number;
  private presenceTimer: Subscription | undefined;
  /** Ports lost and still closing, for close() to wait on. */
  private readonly letGo = new Set<Promise<void>>();

  constructor(options: SerialPipeOptions) {
    const baudRate = options.baudRate ?? DEFAULT_BAUD_RATE;
    super(options.name ?? `serial:${options.path}@${baudRate}`, options.scheduler, options.backoff);
    this.path = options.path;
    this.baudRate = baudRate;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.presenceCheckMs = options.presenceCheckMs ?? 1000;
    this.openPort();
  }

  write(bytes: Uint8Array): boolean {
    const port = this.port;
    if (this.closing || port === undefined || !port.isOpen || this.state.kind !== 'open')
      return this.refuse(bytes);
    if (port.writableLength > this.maxBufferedBytes) return this.refuse(bytes);
    // With nothing queued in serialport, straight into the kernel's buffer (the descriptor never blocks); what
    // does not fit, or everything when something is queued already (order), goes through serialport.
    let written = 0;
    if (this.ownFd !== undefined && port.writableLength === 0) {
      try {
        written = writeSync(this.ownFd, bytes);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') this.noteError(error);
        written = 0;
      }
    }
    if (written < bytes.byteLength) {
      try {
        port.write(Buffer.from(bytes.subarray(written)), (error: Error | null | undefined) => {
          if (error) this.noteError(error);
        });
      } catch (error) {
        this.noteError(error);
        if (written === 0) return this.refuse(bytes);
      }
    }
    this.countOut(bytes.byteLength);
    return true;
  }

  protected async release(): Promise<void> {
    this.presenceTimer?.unsubscribe();
    this.reader?.destroy();
    this.reader = undefined;
    this.ownFd = undefined;
    const port = this.port;
    this.port = undefined;
    await this.opening;
    if (port !== undefined) await closePort(port);
    await Promise.all([...this.letGo]);
  }

  private openPort(): void {
    if (this.closing) return;
    let readFd: number | undefined;
    try {
      readFd = openSync(this.path, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
      if (!isatty(readFd)) {
        closeSync(readFd);
        readFd = undefined;
      }
    } catch {
      // Missing, or not ours to open: serialport's open below says why, and the retry follows from there.
      readFd = undefined;
    }
    const dropReadFd = () => {
      if (readFd === undefined) return;
      try {
        closeSync(readFd);
      } catch {
        // Already closed.
      }
      readFd = undefined;
    };
    let port: SerialPort;
    try {
      port = new (serialPort())({
        path: this.path,
        baudRate: this.baudRate,
        dataBits: 8,
        parity: 'none',
        stopBits: 1,
        rtscts: false,
        autoOpen: false,
      });
    } catch (error) {
      // Invalid options: counted, and retried like any failure so that the pipe never throws.
      dropReadFd();
      this.retry(this.noteError(error), () => this.openPort());
      return;
    }
    this.port = port;
    // Every error is handled here or in a callback; the listener keeps an 'error' event from crashing the process.
    port.on('error', (error: Error) => {
      if (this.port !== port) return;
      this.noteError(error);
      if (!port.isOpen) this.lost(port, errorMessage(error));
    });
    if (readFd === undefined) {
      port.on('data', (chunk: Buffer) => {
        if (this.port === port) this.received(chunk);
      });
    }
    port.on('close', (error: Error | null) => {
      if (this.port !== port) return;
      if (error) this.noteError(error);
      this.lost(port, error ? `port closed: ${errorMessage(error)}` : 'port closed');
    });
    let opened: () => void = () => {};
    this.opening = new Promise((resolve) => {
      opened = resolve;
    });
    port.open((error: Error | null) => {
      opened();
      if (this.port !== port) {
        // Given up while opening (close() lets go of it itself).
        dropReadFd();
        if (!error && !this.closing) void closePort(port);
        return;
      }
      if (error) {
        dropReadFd();
        this.lost(port, `cannot open ${this.path}: ${this.noteError(error)}`);
        return;
      }
      if (readFd !== undefined) {
        try {
          this.reader = this.readThrough(port, readFd);
          this.ownFd = readFd;
        } catch (readError) {
          dropReadFd();
          this.noteError(readError);
          // Read through serialport instead.
          port.on('data', (chunk: Buffer) => {
            if (this.port === port) this.received(chunk);
          });
        }
        readFd = undefined;
      }
      this.opened(this.path);
      this.watchPresence(port);
    });
  }

  /** Reads `fd` (a terminal) on the event loop; an error or end of it is the port's loss. */
  private readThrough(port: SerialPort, fd: number): ReadStream {
    const reader = new ReadStream(fd);
    reader.on('data', (chunk: Buffer) => {
      if (this.port === port) this.received(chunk);
    });
    reader.on('error', (error: Error) => {
      if (this.port !== port) return;
      this.lost(port, `read: ${this.noteError(error)}`);
    });
    reader.on('end', () => {
      if (this.port === port) this.lost(port, 'read: end of file');
    });
    return reader;
  }

  /** Records which device is open, then checks on the scheduler that the path still names it. */
  private watchPresence(port: SerialPort): void {
    if (this.presenceCheckMs <= 0) return;
    const binding = port.port;
    const fd = binding !== undefined && 'fd' in binding ? binding.fd : null;
    const opened = (error: Error | null, stats: Stats) => {
      if (this.port !== port || error) return;
      const device = deviceOf(stats);
      const check = () => {
        this.presenceTimer = this.scheduler.schedule(() => {
          this.presenceTimer = undefined;
          if (this.port !== port) return;
          stat(this.path, (statError, now) => {
            if (this.port !== port) return;
            if (statError) this.lost(port, `${this.path} is gone: ${this.noteError(statError)}`);
            else if (deviceOf(now) !== device) this.lost(port, `${this.path} now names another device`);
            else check();
          });
        }, this.presenceCheckMs);
      };
      check();
    };
    if (typeof fd === 'number') fstat(fd, opened);
    else stat(this.path, opened);
  }

  /** The port is gone: drop it and try again later. */
  private lost(port: SerialPort, reason: string): void {
    if (this.port !== port) return;
    this.port = undefined;
    this.presenceTimer?.unsubscribe();
    this.presenceTimer = undefined;
    this.reader?.destroy();
    this.reader = undefined;
    this.ownFd = undefined;
    port.removeAllListeners('data');
    if (port.isOpen) {
      const closing = closePort(port).then(() => {
        this.letGo.delete(closing);
      });
      this.letGo.add(closing);
    }
    this.retry(reason, () => this.openPort());
  }
}

/** Closes `port` if it is open; resolves either way (a port that fails to close is as good as closed). */
export function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) {
      resolve();
      return;
    }
    try {
      port.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
