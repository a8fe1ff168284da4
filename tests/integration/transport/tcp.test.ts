/** TCP client and server pipes on 127.0.0.1 with ephemeral ports. */
import { createConnection, createServer, type Socket } from 'node:net';
import { asyncScheduler } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.js';
import { type BytePipe, openPipe, type PipeState } from '../../../src/transport/pipe.js';
import { TcpClientPipe, TcpServerPipe } from '../../../src/transport/tcp.js';
import { bytes, isOpen, isReconnecting, Received, waitForState, waitUntil } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track<T extends BytePipe>(pipe: T): T {
  cleanups.push(() => pipe.close());
  return pipe;
}

function server(port = 0): TcpServerPipe {
  return track(new TcpServerPipe({ host: '127.0.0.1', port, scheduler: asyncScheduler }));
}

function client(port: number, initialDelayMs = 50): TcpClientPipe {
  return track(
    new TcpClientPipe({
      host: '127.0.0.1',
      port,
      scheduler: asyncScheduler,
      backoff: { initialDelayMs, maxDelayMs: Math.max(200, initialDelayMs) },
    }),
  );
}

async function boundPort(pipe: TcpServerPipe): Promise<number> {
  const address = await pipe.listening();
  if (address === undefined) throw new Error('server closed before listening');
  return address.port;
}

/** A port that nothing listens on (taken, then released). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address !== 'object') throw new Error('no address');
  return address.port;
}

describe('TCP pipes', () => {
  it('carry bytes both ways between a client and a server', async () => {
    const srv = server();
    expect(srv.state).toMatchObject({ kind: 'connecting' });
    const port = await boundPort(srv);
    expect(srv.state).toEqual({ kind: 'connecting', detail: `listening on 127.0.0.1:${port}` });
    const cli = client(port);
    const atServer = new Received(srv);
    const atClient = new Received(cli);
    await Promise.all([waitForState(srv, isOpen), waitForState(cli, isOpen)]);
    expect(cli.state).toEqual({ kind: 'open', peer: `127.0.0.1:${port}` });

    const big = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
    expect(cli.write(bytes('up|'))).toBe(true);
    expect(cli.write(big)).toBe(true);
    expect(srv.write(bytes('down'))).toBe(true);
    await waitUntil(() => atServer.text().length === 3 + big.length, 'all bytes at the server');
    await atClient.until('down');
    expect(Buffer.compare(Buffer.concat(atServer.chunks).subarray(3), big)).toBe(0);
    expect(cli.stats).toMatchObject({ bytesOut: 3 + big.length, chunksOut: 2, bytesIn: 4, errors: 0 });
    expect(srv.stats).toMatchObject({ bytesIn: 3 + big.length, bytesOut: 4 });
  });

  it('server: refuses writes without a client, and a newer client replaces the older', async () => {
    const srv = server();
    const port = await boundPort(srv);
    expect(srv.write(bytes('nobody'))).toBe(false);
    expect(srv.stats).toMatchObject({ writesRefused: 1, bytesRefused: 6 });

    // A long back-off, so that the dropped client does not come back and take over again during the test.
    const first = client(port, 5000);
    await Promise.all([waitForState(srv, isOpen), waitForState(first, isOpen)]);
    const firstPeer = srv.state;

    const raw: Socket = createConnection({ host: '127.0.0.1', port });
    cleanups.push(() => {
      raw.destroy();
    });
    let toRaw = '';
    raw.on('data', (d: Buffer) => {
      toRaw += d.toString('latin1');
    });
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    // The server drops the first client for the newer one.
    await waitForState(first, isReconnecting);
    await waitUntil(
      () => JSON.stringify(srv.state) !== JSON.stringify(firstPeer),
      'the server to take the new peer',
    );
    expect(srv.state).toEqual({ kind: 'open', peer: `127.0.0.1:${raw.localPort}` });
    await first.close();
    const atServer = new Received(srv);
    raw.write('from raw');
    await atServer.until('from raw');
    srv.write(bytes('to raw'));
    await waitUntil(() => toRaw === 'to raw', 'bytes at the raw client');
    expect(srv.stats.reconnects).toBe(1);

    // The client leaves: the server goes back to listening, and keeps listening.
    raw.destroy();
    await waitForState(srv, (s) => s.kind === 'connecting');
    const again = client(port);
    await waitForState(again, isOpen);
    await waitForState(srv, isOpen);
  });

  it('client reconnects by itself when the server restarts', async () => {
    const srv1 = server();
    const port = await boundPort(srv1);
    const cli = client(port);
    const states: PipeState[] = [];
    cli.state$.subscribe((state) => states.push(state));
    const atClient = new Received(cli);
    await waitForState(cli, isOpen);
    srv1.write(bytes('one'));
    await atClient.until('one');

    await srv1.close();
    await waitForState(cli, isReconnecting);
    expect(states.find(isReconnecting)).toMatchObject({ attempt: 1, delayMs: 50 });
    expect(cli.write(bytes('lost'))).toBe(false);
    // Connection refused while the server is away: it keeps trying.
    await waitUntil(() => cli.stats.reconnectAttempts >= 3, 'three attempts');
    expect(cli.state).toMatchObject({ kind: 'reconnecting', reason: expect.stringMatching(/ECONNREFUSED/) });

    const srv2 = server(port);
    const atServer = new Received(srv2);
    await Promise.all([waitForState(cli, isOpen), waitForState(srv2, isOpen)]);
    cli.write(bytes('two'));
    srv2.write(bytes('three'));
    await atServer.until('two');
    await atClient.until('three');
    expect(cli.stats.reconnects).toBe(1);
    expect(cli.stats.errors).toBeGreaterThanOrEqual(1);
  });

  it('server retries when its port is taken, and listens once it is free', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    if (address === null || typeof address !== 'object') throw new Error('no address');
    const srv = track(
      new TcpServerPipe({
        host: '127.0.0.1',
        port: address.port,
        scheduler: asyncScheduler,
        backoff: { initialDelayMs: 50, maxDelayMs: 100 },
      }),
    );
    const state = await waitForState(srv, isReconnecting);
    expect(state).toMatchObject({ reason: expect.stringMatching(/EADDRINUSE/) });
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    expect(await srv.listening()).toEqual({ host: '127.0.0.1', port: address.port });
  });

  it('client back-off runs on the given scheduler: 100, 200, 400 ms, capped', async () => {
    const clock = new VirtualClock({ startMs: 0 });
    const port = await freePort();
    const cli = track(
      openPipe(`tcp:127.0.0.1:${port}`, {
        scheduler: clock.scheduler,
        backoff: { initialDelayMs: 100, maxDelayMs: 400 },
      }),
    );
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const state = await waitForState(cli, (s) => s.kind === 'reconnecting' && s.attempt === attempt);
      if (state.kind !== 'reconnecting') throw new Error('unreachable');
      delays.push(state.delayMs);
      clock.advanceBy(state.delayMs);
    }
    expect(delays).toEqual([100, 200, 400, 400]);
    await cli.close();
    expect(clock.scheduler.pending()).toBe(0);
  });

  it('openPipe makes a listening server and a client from specs', async () => {
    const srv = track(openPipe('tcp-listen:127.0.0.1:0', { scheduler: asyncScheduler }));
    if (!(srv instanceof TcpServerPipe)) throw new Error('expected a TcpServerPipe');
    const port = await boundPort(srv);
    const cli = track(openPipe(`tcp:127.0.0.1:${port}`, { scheduler: asyncScheduler }));
    expect(cli.name).toBe(`tcp:127.0.0.1:${port}`);
    const atServer = new Received(srv);
    await waitForState(cli, isOpen);
    cli.write(bytes('spec'));
    await atServer.until('spec');
  });
});
