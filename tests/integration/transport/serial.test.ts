/**
 * Serial pipes over real pseudo-terminals made by socat: bytes both ways, then the far end disappears (socat
 * killed) and comes back (socat restarted on the same link paths), and the pipes reopen by themselves.
 */
import { realpathSync, renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.js';
import { openPipe, type PipeState } from '../../../src/transport/pipe.js';
import { SerialPipe } from '../../../src/transport/serial.js';
import { bytes, isOpen, isReconnecting, PtyPair, Received, waitForState, waitUntil } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function ptyPair(): Promise<PtyPair> {
  const pty = new PtyPair();
  cleanups.push(() => pty.dispose());
  await pty.start();
  return pty;
}

function serial(path: string): SerialPipe {
  const pipe = new SerialPipe({
    path,
    baudRate: 115200,
    scheduler: asyncScheduler,
    backoff: { initialDelayMs: 50, maxDelayMs: 400 },
    presenceCheckMs: 200,
  });
  cleanups.push(() => pipe.close());
  return pipe;
}

describe('serial pipe over a socat pseudo-terminal pair', () => {
  it('carries bytes both ways', async () => {
    const pty = await ptyPair();
    const a = serial(pty.a);
    const b = serial(pty.b);
    const atA = new Received(a);
    const atB = new Received(b);
    await Promise.all([waitForState(a, isOpen), waitForState(b, isOpen)]);
    expect(a.state).toEqual({ kind: 'open', peer: pty.a });

    const big = Buffer.alloc(4096, 0).map((_, i) => i & 0xff);
    expect(a.write(bytes('hello from a|'))).toBe(true);
    expect(a.write(new Uint8Array(big))).toBe(true);
    expect(b.write(bytes('hello from b'))).toBe(true);
    await atB.until('hello from a|');
    await waitUntil(() => atB.text().length === 13 + 4096, 'all 4109 bytes at b');
    await atA.until('hello from b');
    expect(Buffer.concat(atB.chunks).subarray(13)).toEqual(big);
    expect(a.stats).toMatchObject({ bytesOut: 13 + 4096, chunksOut: 2, bytesIn: 12, errors: 0 });
    expect(b.stats.bytesIn).toBe(13 + 4096);
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'reconnects by itself when socat dies (%s) and comes back',
    async (signal) => {
      const pty = await ptyPair();
      const a = serial(pty.a);
      const b = serial(pty.b);
      const states: PipeState[] = [];
      a.state$.subscribe((s) => states.push(s));
      const atA = new Received(a);
      const atB = new Received(b);
      await Promise.all([waitForState(a, isOpen), waitForState(b, isOpen)]);
      a.write(bytes('before'));
      await atB.until('before');

      await pty.kill(signal);
      await waitForState(a, isReconnecting);
      await waitForState(b, isReconnecting);
      expect(states.find(isReconnecting)).toMatchObject({ attempt: 1, delayMs: 50 });
      // While the far end is gone: writes are refused and counted, nothing throws.
      expect(a.write(bytes('lost'))).toBe(false);
      expect(a.stats.writesRefused).toBeGreaterThanOrEqual(1);
      expect(a.stats.bytesRefused).toBeGreaterThanOrEqual(4);
      // It keeps trying with back-off (the links are gone, so opening fails).
      await waitUntil(() => a.stats.reconnectAttempts >= 3, 'three attempts');

      await pty.start();
      await Promise.all([waitForState(a, isOpen, 5000), waitForState(b, isOpen, 5000)]);
      a.write(bytes('after a'));
      b.write(bytes('after b'));
      await atB.until('after a');
      await atA.until('after b');
      expect(atB.text()).not.toContain('lost');
      expect(a.stats.reconnects).toBe(1);
      expect(a.stats.errors).toBeGreaterThanOrEqual(1);
      const kinds = states.map((s) => s.kind);
      expect(kinds[0]).toBe('connecting');
      expect(kinds.at(-1)).toBe('open');
      expect(kinds).toContain('reconnecting');
      // data$ did not complete on the disconnect: the subscriptions made before it got the bytes after it.
    },
    10_000,
  );

  it('close() stops retrying and completes its streams', async () => {
    const pty = await ptyPair();
    const a = serial(pty.a);
    await waitForState(a, isOpen);
    await pty.kill();
    await waitForState(a, isReconnecting);
    let completed = false;
    a.data$.subscribe({ complete: () => (completed = true) });
    await a.close();
    expect(a.state.kind).toBe('closed');
    expect(completed).toBe(true);
    const attempts = a.stats.reconnectAttempts;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(a.stats.reconnectAttempts).toBe(attempts);
    expect(a.write(bytes('x'))).toBe(false);
  });
});

describe('serial pipe presence check', () => {
  it('notices that its path now names another device, and opens that one', async () => {
    const first = await ptyPair();
    const second = await ptyPair();
    // A link of our own, re-pointed from one live terminal to another as udev does when a device is re-plugged.
    const link = join(first.dir, 'device');
    symlinkSync(realpathSync(first.a), link);
    const pipe = serial(link);
    const far1 = serial(first.b);
    const far2 = serial(second.b);
    const atFar1 = new Received(far1);
    const atFar2 = new Received(far2);
    await Promise.all([waitForState(pipe, isOpen), waitForState(far1, isOpen), waitForState(far2, isOpen)]);
    pipe.write(bytes('to first'));
    await atFar1.until('to first');

    renameSync(link, `${link}.old`);
    symlinkSync(realpathSync(second.a), link);
    const lost = await waitForState(pipe, isReconnecting);
    expect(lost).toMatchObject({ reason: `${link} now names another device` });
    await waitForState(pipe, isOpen);
    pipe.write(bytes('to second'));
    await atFar2.until('to second');
    expect(atFar1.text()).toBe('to first');
    expect(pipe.stats.reconnects).toBe(1);
  });
});

describe('serial pipe back-off', () => {
  it('retries a missing device with exponential back-off on the given scheduler, capped', async () => {
    const clock = new VirtualClock({ startMs: 0 });
    const pipe = openPipe('serial:/dev/skynode-no-such-port@9600', {
      scheduler: clock.scheduler,
      backoff: { initialDelayMs: 100, maxDelayMs: 400 },
    });
    cleanups.push(() => pipe.close());
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const state = await waitForState(pipe, (s) => s.kind === 'reconnecting' && s.attempt === attempt);
      if (state.kind !== 'reconnecting') throw new Error('unreachable');
      expect(state.reason).toMatch(/cannot open \/dev\/skynode-no-such-port/);
      delays.push(state.delayMs);
      // Nothing happens until virtual time moves.
      clock.advanceBy(state.delayMs - 1);
      expect(pipe.state).toEqual(state);
      clock.advanceBy(1);
    }
    expect(delays).toEqual([100, 200, 400, 400, 400]);
    expect(pipe.stats.errors).toBeGreaterThanOrEqual(5);
    await pipe.close();
    expect(clock.scheduler.pending()).toBe(0);
  });
});
