/**
 * UDP as a byte pipe: each write is one datagram to the remote address, each datagram received on the bound
 * port is one chunk. With a remote address (`udp:HOST:PORT?bind=[HOST:]PORT`) the pipe is open once bound.
 * Without one (`udp-listen:[HOST:]PORT`) it answers whoever sent the latest datagram, and is 'connecting' (writes
 * refused) until the first one arrives. A failure to bind is retried with back-off.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { PipeBase } from './base.js';
import type { PipeOptions } from './pipe.js';

/** The largest UDP payload over IPv4. */
export const MAX_DATAGRAM_BYTES = 65507;

export interface UdpPipeOptions extends PipeOptions {
  /** Where datagrams go. Leave both out to reply to the latest sender instead. */
  readonly remoteHost?: string;
  readonly remotePort?: number;
  /** Local address to bind; default 0.0.0.0 (:: when the remote host is IPv6). */
  readonly bindHost?: string;
  /** Local port to bind; default 0 (any free port: replies from the remote still arrive there). */
  readonly bindPort?: number;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class UdpPipe extends PipeBase {
  readonly bindHost: string;
  readonly bindPort: number;
  private remote: { host: string; port: number } | undefined;
  private readonly fixedRemote: boolean;
  private socket: Socket | undefined;
  private bound: { host: string; port: number } | undefined;
  private readonly listenWaiters: Array<(address: { host: string; port: number } | undefined) => void> = [];

  constructor(options: UdpPipeOptions) {
    const remote =
      options.remoteHost !== undefined && options.remotePort !== undefined
        ? { host: options.remoteHost, port: options.remotePort }
        : undefined;
    const bindHost = options.bindHost ?? (remote?.host.includes(':') ? '::' : '0.0.0.0');
    const bindPort = options.bindPort ?? 0;
    const name =
      options.name ??
      (remote === undefined
        ? `udp-listen:${hostPort(bindHost, bindPort)}`
        : `udp:${hostPort(remote.host, remote.port)}?bind=${hostPort(bindHost, bindPort)}`);
    super(name, options.scheduler, options.backoff);
    this.remote = remote;
    this.fixedRemote = remote !== undefined;
    this.bindHost = bindHost;
    this.bindPort = bindPort;
    this.bind();
  }

  /** The bound address, once bound. */
  address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  /** Resolves with the bound address once bound, or undefined if the pipe is closed first. */
  listening(): Promise<{ host: string; port: number } | undefined> {
    if (this.bound !== undefined || this.closing) return Promise.resolve(this.bound);
    return new Promise((resolve) => this.listenWaiters.push(resolve));
  }

  write(bytes: Uint8Array): boolean {
    const socket = this.socket;
    const remote = this.remote;
    if (this.closing || socket === undefined || remote === undefined || this.state.kind !== 'open') {
      return this.refuse(bytes);
    }
    if (bytes.byteLength > MAX_DATAGRAM_BYTES) {
      this.noteError(new Error(`datagram of ${bytes.byteLength} bytes exceeds ${MAX_DATAGRAM_BYTES}`));
      return this.refuse(bytes);
    }
    try {
      socket.send(Buffer.from(bytes), remote.port, remote.host, (error: Error | null) => {
        if (error) this.noteError(error);
      });
    } catch (error) {
      this.noteError(error);
      return this.refuse(bytes);
    }
    this.countOut(bytes.byteLength);
    return true;
  }

  protected release(): Promise<void> {
    for (const resolve of this.listenWaiters.splice(0)) resolve(this.bound);
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private bind(): void {
    if (this.closing) return;
    const type = this.bindHost.includes(':') ? 'udp6' : 'udp4';
    const socket = createSocket({ type, reuseAddr: false });
    this.socket = socket;
    let isBound = false;
    socket.on('error', (error: Error) => {
      if (this.socket !== socket) return;
      const message = this.noteError(error);
      if (!isBound) {
        this.socket = undefined;
        try {
          socket.close();
        } catch {
          // already closed
        }
        this.retry(`cannot bind ${hostPort(this.bindHost, this.bindPort)}: ${message}`, () => this.bind());
      }
    });
    socket.on('listening', () => {
      if (this.socket !== socket) return;
      isBound = true;
      const address = socket.address();
      this.bound = { host: address.address, port: address.port };
      for (const resolve of this.listenWaiters.splice(0)) resolve(this.bound);
      if (this.remote !== undefined) this.opened(hostPort(this.remote.host, this.remote.port));
      else
        this.setState({
          kind: 'connecting',
          detail: `listening on ${hostPort(address.address, address.port)}`,
        });
    });
    socket.on('message', (message: Buffer, from: RemoteInfo) => {
      if (this.socket !== socket) return;
      if (!this.fixedRemote) {
        const changed = this.remote?.host !== from.address || this.remote?.port !== from.port;
        this.remote = { host: from.address, port: from.port };
        if (changed) this.opened(hostPort(from.address, from.port));
      }
      this.received(message);
    });
    try {
      socket.bind(this.bindPort, this.bindHost);
    } catch (error) {
      this.socket = undefined;
      this.retry(this.noteError(error), () => this.bind());
    }
  }
}
