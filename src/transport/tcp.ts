/**
 * TCP byte pipes. The client connects to HOST:PORT and reconnects with back-off whenever the connection fails or
 * drops. The server listens on [HOST:]PORT and takes one client at a time as its far end: a newer connection
 * replaces the older one, and it keeps listening for the life of the pipe. Both set TCP_NODELAY: the link layer
 * writes whole frames and wants them on the wire at once.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Subscription } from 'rxjs';
import { DEFAULT_MAX_BUFFERED_BYTES, PipeBase } from './base.js';
import type { PipeOptions } from './pipe.js';

export interface TcpClientPipeOptions extends PipeOptions {
  readonly host: string;
  readonly port: number;
  /** A connection attempt that has not completed after this long is abandoned and retried; default 5000 ms. */
  readonly connectTimeoutMs?: number;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function peerOf(socket: Socket): string {
  const { remoteAddress, remotePort } = socket;
  return remoteAddress === undefined || remotePort === undefined
    ? 'unknown'
    : hostPort(remoteAddress, remotePort);
}

/** Sends `bytes` on `socket`, counting errors on `pipe`; shared by client and server. */
function send(socket: Socket, bytes: Uint8Array, onError: (error: Error) => void): boolean {
  try {
    socket.write(Buffer.from(bytes), (error?: Error | null) => {
      if (error) onError(error);
    });
    return true;
  } catch (error) {
    onError(error instanceof Error ? error : new Error(String(error)));
    return false;
  }
}

function destroyed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed && socket.closed) {
      resolve();
      return;
    }
    socket.once('close', () => resolve());
    socket.destroy();
  });
}

export class TcpClientPipe extends PipeBase {
  readonly host: string;
  readonly port: number;
  private socket: Socket | undefined;
  private connectTimer: Subscription | undefined;
  private readonly connectTimeoutMs: number;
  private readonly maxBufferedBytes: number;

  constructor(options: TcpClientPipeOptions) {
    super(options.name ?? `tcp:${hostPort(options.host, options.port)}`, options.scheduler, options.backoff);
    this.host = options.host;
    this.port = options.port;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.connect();
  }

  write(bytes: Uint8Array): boolean {
    const socket = this.socket;
    if (this.closing || socket === undefined || this.state.kind !== 'open') return this.refuse(bytes);
    if (socket.writableLength > this.maxBufferedBytes) return this.refuse(bytes);
    if (!send(socket, bytes, (error) => this.noteError(error))) return this.refuse(bytes);
    this.countOut(bytes.byteLength);
    return true;
  }

  protected release(): Promise<void> {
    this.connectTimer?.unsubscribe();
    const socket = this.socket;
    this.socket = undefined;
    return socket === undefined ? Promise.resolve() : destroyed(socket);
  }

  private connect(): void {
    if (this.closing) return;
    let socket: Socket;
    try {
      socket = createConnection({ host: this.host, port: this.port, noDelay: true });
    } catch (error) {
      this.retry(this.noteError(error), () => this.connect());
      return;
    }
    this.socket = socket;
    let lastError: string | undefined;
    this.connectTimer = this.scheduler.schedule(() => {
      if (this.socket !== socket || socket.connecting === false) return;
      lastError = `connection to ${hostPort(this.host, this.port)} timed out`;
      this.noteError(new Error(lastError));
      socket.destroy();
    }, this.connectTimeoutMs);
    socket.on('connect', () => {
      this.connectTimer?.unsubscribe();
      if (this.socket !== socket) return;
      socket.setNoDelay(true);
      this.opened(peerOf(socket));
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.received(chunk);
    });
    socket.on('error', (error: Error) => {
      if (this.socket !== socket) return;
      lastError = this.noteError(error);
    });
    socket.on('close', () => {
      this.connectTimer?.unsubscribe();
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.retry(lastError ?? 'connection closed by the far end', () => this.connect());
    });
  }
}

export interface TcpServerPipeOptions extends PipeOptions {
  /** Address to listen on; default 0.0.0.0. */
  readonly host?: string;
  /** Port to listen on; 0 takes a free one (see listening()). */
  readonly port: number;
}

export class TcpServerPipe extends PipeBase {
  readonly host: string;
  private readonly requestedPort: number;
  private server: Server | undefined;
  private client: Socket | undefined;
  private bound: { host: string; port: number } | undefined;
  private readonly listenWaiters: Array<(address: { host: string; port: number } | undefined) => void> = [];
  private readonly maxBufferedBytes: number;

  constructor(options: TcpServerPipeOptions) {
    const host = options.host ?? '0.0.0.0';
    super(options.name ?? `tcp-listen:${hostPort(host, options.port)}`, options.scheduler, options.backoff);
    this.host = host;
    this.requestedPort = options.port;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.listen();
  }

  /** The bound address, once listening. */
  address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  /** Resolves with the bound address once listening, or undefined if the pipe is closed first. */
  listening(): Promise<{ host: string; port: number } | undefined> {
    if (this.bound !== undefined || this.closing) return Promise.resolve(this.bound);
    return new Promise((resolve) => this.listenWaiters.push(resolve));
  }

  write(bytes: Uint8Array): boolean {
    const client = this.client;
    if (this.closing || client === undefined || this.state.kind !== 'open') return this.refuse(bytes);
    if (client.writableLength > this.maxBufferedBytes) return this.refuse(bytes);
    if (!send(client, bytes, (error) => this.noteError(error))) return this.refuse(bytes);
    this.countOut(bytes.byteLength);
    return true;
  }

  protected async release(): Promise<void> {
    this.notifyListening();
    const client = this.client;
    const server = this.server;
    this.client = undefined;
    this.server = undefined;
    if (client !== undefined) await destroyed(client);
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
      });
    }
  }

  private notifyListening(): void {
    for (const resolve of this.listenWaiters.splice(0)) resolve(this.bound);
  }

  private waitingState(): void {
    const at =
      this.bound === undefined
        ? hostPort(this.host, this.requestedPort)
        : hostPort(this.bound.host, this.bound.port);
    this.setState({ kind: 'connecting', detail: `listening on ${at}` });
  }

  private listen(): void {
    if (this.closing) return;
    const server = createServer({ noDelay: true });
    this.server = server;
    server.on('error', (error: Error) => {
      if (this.server !== server) return;
      const message = this.noteError(error);
      if (!server.listening) {
        this.server = undefined;
        server.close();
        this.retry(`cannot listen on ${hostPort(this.host, this.requestedPort)}: ${message}`, () =>
          this.listen(),
        );
      }
    });
    server.on('listening', () => {
      if (this.server !== server) return;
      const address = server.address();
      if (address !== null && typeof address === 'object') {
        this.bound = { host: address.address, port: address.port };
      }
      this.waitingState();
      this.notifyListening();
    });
    server.on('connection', (socket: Socket) => this.accept(server, socket));
    try {
      server.listen(this.requestedPort, this.host);
    } catch (error) {
      this.server = undefined;
      this.retry(this.noteError(error), () => this.listen());
    }
  }

  private accept(server: Server, socket: Socket): void {
    if (this.server !== server || this.closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const older = this.client;
    this.client = socket;
    if (older !== undefined) older.destroy();
    socket.on('data', (chunk: Buffer) => {
      if (this.client === socket) this.received(chunk);
    });
    socket.on('error', (error: Error) => {
      if (this.client === socket) this.noteError(error);
    });
    socket.on('close', () => {
      if (this.client !== socket) return;
      this.client = undefined;
      this.waitingState();
    });
    this.opened(peerOf(socket));
  }
}
