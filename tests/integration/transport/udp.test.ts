/** UDP pipes on 127.0.0.1: one datagram per chunk, both ways. */
import { createSocket } from 'node:dgram';
import { asyncScheduler } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { type BytePipe, openPipe } from '../../../src/transport/pipe.js';
import { MAX_DATAGRAM_BYTES, UdpPipe } from '../../../src/transport/udp.js';
import { bytes, isOpen, isReconnecting, Received, waitForState, waitUntil } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track<T extends BytePipe>(pipe: T): T {
  cleanups.push(() => pipe.close());
  return pipe;
}

async function portOf(pipe: UdpPipe): Promise<number> {
  const address = await pipe.listening();
  if (address === undefined) throw new Error('closed before bound');
  return address.port;
}

describe('UDP pipes', () => {
  it('round trip: datagrams to a listener, answers back to the sender, one chunk each', async () => {
    const listener = track(openPipe('udp-listen:127.0.0.1:0', { scheduler: asyncScheduler }));
    if (!(listener instanceof UdpPipe)) throw new Error('expected a UdpPipe');
    const port = await portOf(listener);
    // Until someone sends, a listener has nobody to answer.
    expect(listener.state).toEqual({ kind: 'connecting', detail: `listening on 127.0.0.1:${port}` });
    expect(listener.write(bytes('too early'))).toBe(false);

    const sender = track(openPipe(`udp:127.0.0.1:${port}?bind=127.0.0.1:0`, { scheduler: asyncScheduler }));
    if (!(sender instanceof UdpPipe)) throw new Error('expected a UdpPipe');
    await waitForState(sender, isOpen);
    const senderPort = await portOf(sender);
    const atListener = new Received(listener);
    const atSender = new Received(sender);

    for (let i = 0; i < 10; i++) expect(sender.write(bytes(`datagram ${i}`))).toBe(true);
    await waitUntil(() => atListener.chunks.length === 10, 'ten datagrams');
    expect(atListener.chunks.map((c) => Buffer.from(c).toString())).toEqual(
      Array.from({ length: 10 }, (_, i) => `datagram ${i}`),
    );
    expect(listener.state).toEqual({ kind: 'open', peer: `127.0.0.1:${senderPort}` });

    expect(listener.write(bytes('reply'))).toBe(true);
    await waitUntil(() => atSender.chunks.length === 1, 'the reply');
    expect(Buffer.from(atSender.chunks[0]!).toString()).toBe('reply');
    expect(sender.stats).toMatchObject({ chunksOut: 10, chunksIn: 1, bytesIn: 5 });
    expect(listener.stats).toMatchObject({ chunksIn: 10, chunksOut: 1 });
  });

  it('refuses a datagram larger than UDP carries, without throwing', async () => {
    const pipe = track(
      new UdpPipe({
        remoteHost: '127.0.0.1',
        remotePort: 9,
        bindHost: '127.0.0.1',
        scheduler: asyncScheduler,
      }),
    );
    await waitForState(pipe, isOpen);
    expect(pipe.write(new Uint8Array(MAX_DATAGRAM_BYTES + 1))).toBe(false);
    expect(pipe.stats).toMatchObject({ writesRefused: 1, errors: 1 });
  });

  it('retries binding a port in use, and binds once it is free', async () => {
    const blocker = createSocket('udp4');
    await new Promise<void>((resolve) => blocker.bind(0, '127.0.0.1', resolve));
    const { port } = blocker.address();
    const pipe = track(
      new UdpPipe({
        remoteHost: '127.0.0.1',
        remotePort: 9,
        bindHost: '127.0.0.1',
        bindPort: port,
        scheduler: asyncScheduler,
        backoff: { initialDelayMs: 50, maxDelayMs: 100 },
      }),
    );
    const state = await waitForState(pipe, isReconnecting);
    expect(state).toMatchObject({ reason: expect.stringMatching(/EADDRINUSE/) });
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await waitForState(pipe, isOpen);
    expect(pipe.address()).toEqual({ host: '127.0.0.1', port });
  });
});
