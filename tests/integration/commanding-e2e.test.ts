import { randomBytes, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { asyncScheduler, filter, firstValueFrom, skip, take, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flightComponents } from '../../src/cli/fsw.js';
import { buildDictionary } from '../../src/core/dictionary.js';
import { buildCommand, type DecodedTm } from '../../src/ground/codec.js';
import { type CommandOutcome, GroundStation } from '../../src/ground/station.js';
import { kissEncode } from '../../src/link/kiss.js';
import { AckFlags } from '../../src/link/pus.js';
import { SPI_HMAC_SHA256, sdlsKey, sdlsKeys, secureTcFrame } from '../../src/link/sdls.js';
import { type BytePipe, openPipe } from '../../src/transport/pipe.js';
import { type Running, tempDir } from '../support/cli.js';
import { startLinkedFsw, writeKeyFile } from '../support/link.js';
import { PtyPair, waitUntil } from './transport/helpers.js';

/**
 * Commanding end to end: the flight software as its own process (`skynode fsw`, serial profile, HMAC-SHA-256
 * keys) on one end of a real pseudo-terminal pair, an in-process ground station on the other. Every case asserts
 * on what the ground receives (verification reports, replies, events) and on the node's own counters as they
 * come down in housekeeping (once a second). One flight software process serves the whole file: each case
 * measures its counters against a fresh baseline taken at its start.
 */
describe('commanding end to end over a serial line', () => {
  const pty = new PtyPair();
  const dir = tempDir('skynode-cmd-e2e-');
  const keysFile = join(dir, 'keys.json');
  const dictionary = buildDictionary(flightComponents());
  let fsw: Running;
  let pipe: BytePipe;
  let station: GroundStation;
  /** Every TM record the ground decoded, with the ground's wall-clock time of arrival. */
  const received: Array<{ at: number; tm: DecodedTm }> = [];
  /** While set, every write of the station's pipe is copied here (the replay case). */
  let capture: Uint8Array[] | undefined;
  let arsn = 0;

  const opcodeOf = (name: string): number => {
    const entry = dictionary.commandByName.get(name);
    if (!entry) throw new Error(`no command ${name} in the dictionary`);
    return entry.opcode;
  };
  const num = (value: unknown): number => {
    if (typeof value !== 'number') throw new Error(`expected a number, got ${String(value)}`);
    return value;
  };
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  /**
   * The node's counters as they stand now, i.e. sampled after everything whose effects the ground has seen so
   * far: for each name, the second housekeeping value stamped after this call. The 1 Hz rate group samples and
   * packs in one synchronous pass, but a report may carry values sampled in the pass before (the packer may run
   * before the component that samples); the pass that produced the first report after the mark started after
   * anything the node had processed by then, so the second report holds samples from that pass or a later one.
   */
  async function settled(names: readonly string[], timeoutMs = 8000): Promise<Record<string, number>> {
    const mark = Date.now();
    const values = await Promise.all(
      names.map((name) =>
        firstValueFrom(
          station.telemetry$.pipe(
            filter((v) => v.name === name && v.time > mark),
            skip(1),
            take(1),
            timeout({ first: timeoutMs, with: () => Promise.reject(new Error(`no fresh ${name}`)) }),
          ),
        ),
      ),
    );
    return Object.fromEntries(values.map((v) => [v.name, num(v.value)]));
  }

  /** Waits until the ground's latest value of `name` is `expected`. */
  const telemetryIs = (name: string, expected: unknown, timeoutMs = 8000) =>
    station.awaitTelemetry(name, (v) => v === expected, timeoutMs);

  const eventsNamed = (name: string, since = 0) =>
    received.filter(({ at, tm }) => at >= since && tm.record.kind === 'event' && tm.record.name === name);

  /**
   * The first event `name` received (already, or within `timeoutMs`) whose arguments match. Unlike
   * station.awaitEvent this also finds an event that came down in the same frame as the report that completed the
   * command awaited just before (the event log is kept from the start).
   */
  async function loggedEvent(
    name: string,
    match: (args: Record<string, unknown>) => boolean,
    timeoutMs = 8000,
  ): Promise<Record<string, unknown>> {
    const find = () =>
      received.find(
        ({ tm }) => tm.record.kind === 'event' && tm.record.name === name && match(tm.record.args),
      );
    await waitUntil(() => find() !== undefined, `event ${name}`, timeoutMs);
    const found = find()?.tm.record;
    if (found?.kind !== 'event') throw new Error('unreachable');
    return found.args;
  }

  const verificationsOf = (requestId: number) =>
    received.filter(({ tm }) => tm.record.kind === 'verification' && tm.record.requestId === requestId);

  const stagesOf = (outcome: CommandOutcome) => outcome.stages.map((s) => `${s.stage}:${s.success}`);

  beforeAll(async () => {
    const keys = writeKeyFile(keysFile);
    await pty.start();
    fsw = await startLinkedFsw(`serial:${pty.a}`, keysFile, join(dir, 'fsw-state'));

    pipe = openPipe(`serial:${pty.b}`, { scheduler: asyncScheduler });
    const write = pipe.write.bind(pipe);
    pipe.write = (bytes: Uint8Array) => {
      capture?.push(bytes.slice());
      return write(bytes);
    };
    station = new GroundStation({
      pipe,
      profile: 'serial',
      dictionary,
      scheduler: asyncScheduler,
      keys,
      // A fresh state directory on board: any increasing sequence will do.
      nextArsn: () => ++arsn,
    });
    station.records$.subscribe((tm) => received.push({ at: Date.now(), tm }));
    await station.connect(15_000);
    await telemetryIs('link.authenticated', true);
  });

  afterAll(async () => {
    await station?.close();
    await pipe?.close();
    fsw?.child.kill('SIGKILL');
    await fsw?.exited;
    await pty.dispose();
  });

  it('1. answers a ping, TC(17,1), with acceptance, start, TM(17,2) and completion', async () => {
    const before = await settled(['commanding.accepted', 'commanding.executed']);
    const from = received.length;
    const outcome = await station.ping(10_000);
    expect(outcome.ok).toBe(true);
    expect(stagesOf(outcome)).toEqual(['acceptance:true', 'start:true', 'completion:true']);

    // In order on the downlink, all addressed to this station (source ID 1): the reply before the completion.
    const sequence = received
      .slice(from)
      .filter(
        ({ tm }) =>
          tm.record.kind === 'alive' ||
          (tm.record.kind === 'verification' && tm.record.requestId === outcome.requestId),
      )
      .map(({ tm }) => {
        expect(tm.packet.destinationId).toBe(1);
        return tm.record.kind === 'verification' ? tm.record.stage : 'TM(17,2)';
      });
    expect(sequence).toEqual(['acceptance', 'start', 'TM(17,2)', 'completion']);

    const after = await settled(['commanding.accepted', 'commanding.executed']);
    expect(after['commanding.accepted']).toBe(before['commanding.accepted']! + 1);
    expect(after['commanding.executed']).toBe(before['commanding.executed']! + 1);
  });

  it('2. runs a function command, health.NOOP, and carries an argument: commanding.ARM functionId', async () => {
    const names = ['health.noopCount', 'commanding.executed', 'commanding.failed', 'commanding.rejected'];
    const before = await settled(names);

    const noop = await station.send('health.NOOP', {}, 10_000);
    expect(noop.ok).toBe(true);
    expect(stagesOf(noop)).toEqual(['acceptance:true', 'start:true', 'completion:true']);
    await telemetryIs('health.noopCount', before['health.noopCount']! + 1);
    await loggedEvent('health.NOOP', (a) => a.count === before['health.noopCount']! + 1);

    // The only command with an argument in the deployment (no hazardous command exists yet): ARM of a
    // non-hazardous function is accepted (the argument is well-formed) and fails at completion with code 6. The
    // reason names the function the node decoded from the argument: the u16 travelled intact.
    const disarm = opcodeOf('commanding.DISARM');
    const arm = await station.send('commanding.ARM', { functionId: disarm }, 10_000);
    expect(arm.ok).toBe(false);
    expect(stagesOf(arm)).toEqual(['acceptance:true', 'start:true', 'completion:false']);
    expect(arm.failure).toEqual({
      stage: 'completion',
      code: 6,
      reason: 'commanding.DISARM is not hazardous',
    });
    const failed = await loggedEvent('commanding.FAILED', (a) => a.requestId === arm.requestId);
    expect(failed).toMatchObject({ code: 6, reason: 'commanding.DISARM is not hazardous' });

    const after = await settled(names);
    expect(after).toEqual({
      'health.noopCount': before['health.noopCount']! + 1,
      'commanding.executed': before['commanding.executed']! + 1,
      'commanding.failed': before['commanding.failed']! + 1,
      'commanding.rejected': before['commanding.rejected'],
    });
  });

  it('3. sets and reports parameters, and refuses an out-of-range value with code 6', async () => {
    const names = ['commanding.rejected', 'commanding.rejectedArgument'];
    const before = await settled(names);

    const set = await station.setParameters({ 'health.lagLimitMs': 150 }, 10_000);
    expect(set.ok).toBe(true);
    expect(stagesOf(set)).toEqual(['acceptance:true', 'start:true', 'completion:true']);
    expect(await station.reportParameters(['health.lagLimitMs', 'health.reportOverruns'], 10_000)).toEqual({
      'health.lagLimitMs': 150,
      'health.reportOverruns': true,
    });

    // The ground checks against its dictionary first and sends nothing...
    expect(() => station.setParameters({ 'health.lagLimitMs': 0.5 })).toThrow(
      'health.lagLimitMs: 0.5 not in [1, 60000] ms',
    );
    // ...so the node's own check is exercised with a TC(20,3) packed by hand: N = 1, parameter ID, f32 value.
    const param = dictionary.paramByName.get('health.lagLimitMs');
    if (!param) throw new Error('no health.lagLimitMs');
    const data = new Uint8Array(2 + 2 + 4);
    const view = new DataView(data.buffer);
    view.setUint16(0, 1);
    view.setUint16(2, param.id);
    view.setFloat32(4, 0.5);
    const refused = await station.sendPus(20, 3, data, 10_000);
    expect(refused.ok).toBe(false);
    expect(refused.failure).toEqual({
      stage: 'acceptance',
      code: 6,
      reason: 'health.lagLimitMs: 0.5 not in [1, 60000] ms',
    });
    expect(await station.reportParameters(['health.lagLimitMs'], 10_000)).toEqual({
      'health.lagLimitMs': 150,
    });

    const after = await settled(names);
    expect(after['commanding.rejected']).toBe(before['commanding.rejected']! + 1);
    expect(after['commanding.rejectedArgument']).toBe(before['commanding.rejectedArgument']! + 1);

    // Back to the default, for the cases that follow.
    expect((await station.setParameters({ 'health.lagLimitMs': 200 }, 10_000)).ok).toBe(true);
  });

  it('4. releases a time-tagged command at its time, not before', async () => {
    const before = await settled(['health.noopCount', 'commanding.scheduled']);
    const at = Date.now() + 3000;
    const { outcome, requestIds } = await station.schedule([{ at, name: 'health.NOOP' }], 10_000);
    expect(outcome.ok).toBe(true);
    expect(requestIds).toHaveLength(1);
    const requestId = requestIds[0]!;
    expect(Date.now()).toBeLessThan(at);
    const released = station.awaitEvent('commanding.RELEASED', (a) => a.requestId === requestId, 10_000);
    await telemetryIs('commanding.scheduled', before['commanding.scheduled']! + 1);

    const completion = await station.awaitCompletion(requestId, 'scheduled health.NOOP', 10_000);
    const arrived = Date.now();
    expect(completion.ok).toBe(true);
    expect(stagesOf(completion)).toEqual(['acceptance:true', 'start:true', 'completion:true']);
    expect(arrived).toBeGreaterThanOrEqual(at);
    expect((await released).args).toEqual({ requestId });
    // On board too: the release event and every report of the released command are stamped at or after the
    // release time (less the CUC's rounding to 1/65536 s).
    const stamps = [
      ...eventsNamed('commanding.RELEASED').filter(
        ({ tm }) => tm.record.kind === 'event' && tm.record.args.requestId === requestId,
      ),
      ...verificationsOf(requestId),
    ].map(({ tm }) => tm.time);
    expect(stamps).toHaveLength(4);
    for (const time of stamps) expect(time).toBeGreaterThanOrEqual(at - 1);

    await telemetryIs('health.noopCount', before['health.noopCount']! + 1);
    await telemetryIs('commanding.scheduled', before['commanding.scheduled']);
  }, 20_000);

  it('5. refuses a malformed argument with code 2 (an out-of-range one: code 6, see case 3)', async () => {
    // commanding.ARM's functionId is a u16: every value of its two octets is in range, and the station refuses to
    // build functionId=70000. No deployed command has an argument with a narrower range, so the out-of-range
    // refusal (code 6) is checked on the node with a parameter value in case 3. Here: ARM's argument cut short,
    // and an octet too many, packed by hand in TC(8,1).
    const names = ['commanding.rejected', 'commanding.rejectedLength', 'commanding.executed'];
    const before = await settled(names);
    const arm = opcodeOf('commanding.ARM');
    const truncated = await station.sendPus(8, 1, Uint8Array.of(arm >> 8, arm & 0xff, 0x01), 10_000);
    expect(truncated.ok).toBe(false);
    expect(truncated.failure?.stage).toBe('acceptance');
    expect(truncated.failure?.code).toBe(2);
    expect(truncated.failure?.reason).toMatch(/^commanding\.ARM: /);

    const trailing = await station.sendPus(
      8,
      1,
      Uint8Array.of(arm >> 8, arm & 0xff, 0x01, 0x01, 0xff),
      10_000,
    );
    expect(trailing.ok).toBe(false);
    expect(trailing.failure).toEqual({
      stage: 'acceptance',
      code: 2,
      reason: 'commanding.ARM: 1 octets after its arguments',
    });
    const rejected = await loggedEvent('commanding.REJECTED', (a) => a.requestId === trailing.requestId);
    expect(rejected).toMatchObject({ code: 2 });

    const after = await settled(names);
    expect(after).toEqual({
      'commanding.rejected': before['commanding.rejected']! + 2,
      'commanding.rejectedLength': before['commanding.rejectedLength']! + 2,
      'commanding.executed': before['commanding.executed'],
    });
  });

  it('6. arms only hazardous commands: ARM of a non-hazardous function fails with code 6', async () => {
    // Code 8 (hazardous command not armed) needs a hazardous command, and none is deployed yet: it is covered by
    // tests/unit/services/commanding.test.ts ('runs a hazardous command once per arming, within the window')
    // until one is. Here: what the deployment allows, that ARM refuses a function it must not arm.
    const names = ['commanding.failed', 'commanding.armedFunction', 'health.noopCount'];
    const before = await settled(names);
    const outcome = await station.send('commanding.ARM', { functionId: opcodeOf('health.NOOP') }, 10_000);
    expect(outcome.ok).toBe(false);
    expect(outcome.failure).toEqual({ stage: 'completion', code: 6, reason: 'health.NOOP is not hazardous' });
    const unknown = await station.send('commanding.ARM', { functionId: 0xffff }, 10_000);
    expect(unknown.failure).toEqual({ stage: 'completion', code: 5, reason: 'unknown function ID 0xffff' });
    expect(eventsNamed('commanding.ARMED')).toHaveLength(0);

    // health.NOOP itself needs no arming.
    expect((await station.send('health.NOOP', {}, 10_000)).ok).toBe(true);
    const after = await settled(names);
    expect(after).toEqual({
      'commanding.failed': before['commanding.failed']! + 2,
      'commanding.armedFunction': 0,
      'health.noopCount': before['health.noopCount']! + 1,
    });
  });

  it('7. rejects and counts frames with a wrong MAC: the command does not run', async () => {
    const names = ['link.rejectedMac', 'link.framesAccepted', 'health.noopCount', 'commanding.accepted'];
    const before = await settled(names);
    const since = Date.now();
    // A NOOP, secured with a key that is not the node's, as a BD frame (bypasses FARM-1: it would run at once if
    // the MAC were not checked) and as an AD frame with the N(S) FARM-1 expects. ARSNs far above the station's,
    // so that nothing but the MAC can reject them.
    const built = buildCommand(
      dictionary,
      dictionary.commandByName.get('health.NOOP')!,
      {},
      {
        sequenceCount: 0x3abc,
        ackFlags: AckFlags.all,
        sourceId: 1,
      },
    );
    if (!built.ok) throw new Error(built.error);
    const requestId = new DataView(built.packet.buffer).getUint32(0);
    const wrongKeys = sdlsKeys(sdlsKey(SPI_HMAC_SHA256, randomBytes(32)));
    const forged = (type: 'AD' | 'BD', sequenceNumber: number, forgedArsn: number) =>
      kissEncode(
        secureTcFrame(
          {
            scid: dictionary.mission.spacecraftId,
            vcid: 0,
            type,
            sequenceNumber,
            spi: SPI_HMAC_SHA256,
            arsn: forgedArsn,
            payload: built.packet,
          },
          wrongKeys,
        ),
      );
    expect(pipe.write(forged('BD', 0, arsn + 100_000))).toBe(true);
    expect(pipe.write(forged('AD', num(station.value('link.vr')), arsn + 100_001))).toBe(true);

    await waitUntil(
      () => eventsNamed('link.AUTH_FAILED', since).length >= 2,
      'two link.AUTH_FAILED events',
      8000,
    );
    for (const { tm } of eventsNamed('link.AUTH_FAILED', since))
      expect(tm.record.kind === 'event' && tm.record.args.reason).toBe('bad-mac');
    const after = await settled(names);
    expect(after).toEqual({ ...before, 'link.rejectedMac': before['link.rejectedMac']! + 2 });
    expect(verificationsOf(requestId)).toHaveLength(0);
    expect(eventsNamed('health.NOOP', since)).toHaveLength(0);

    // The link still works for the real key.
    expect((await station.send('health.NOOP', {}, 10_000)).ok).toBe(true);
  });

  it('8. rejects and counts a replay without a restart: the command does not run twice', async () => {
    const names = ['link.rejectedReplay', 'link.framesAccepted', 'health.noopCount', 'commanding.accepted'];
    capture = [];
    const outcome = await station.send('health.NOOP', {}, 10_000);
    const captured = capture;
    capture = undefined;
    expect(outcome.ok).toBe(true);
    expect(captured.length).toBeGreaterThan(0);
    const before = await settled(names);

    const since = Date.now();
    for (const bytes of captured) expect(pipe.write(bytes)).toBe(true);
    await waitUntil(
      () => eventsNamed('link.AUTH_FAILED', since).length >= captured.length,
      `${captured.length} link.AUTH_FAILED events`,
      8000,
    );
    for (const { tm } of eventsNamed('link.AUTH_FAILED', since))
      expect(tm.record.kind === 'event' && tm.record.args.reason).toBe('replay');
    const after = await settled(names);
    expect(after).toEqual({
      ...before,
      'link.rejectedReplay': before['link.rejectedReplay']! + captured.length,
    });
    expect(eventsNamed('health.NOOP', since)).toHaveLength(0);
    expect(verificationsOf(outcome.requestId)).toHaveLength(3); // acceptance, start, completion: once
  });

  it('9. 1,000 garbage frames interleaved with valid commands change nothing but the rejection counters', async () => {
    const rejections = [
      'link.rejectedFraming',
      'link.rejectedCrc',
      'link.rejectedFrame',
      'link.rejectedScid',
      'link.rejectedVcid',
      'link.rejectedSpi',
      'link.rejectedMac',
      'link.rejectedReplay',
      'link.rejectedSecurity',
    ];
    const names = [
      ...rejections,
      'link.framesAccepted',
      'health.noopCount',
      'commanding.accepted',
      'commanding.executed',
      'commanding.failed',
      'commanding.rejected',
    ];
    const reset = await station.send('commanding.RESET_COUNTERS', {}, 10_000);
    expect(reset.ok).toBe(true);
    const before = await settled(names);
    expect(before['commanding.rejected']).toBe(0);
    const sum = (values: Record<string, number>) => rejections.reduce((n, name) => n + values[name]!, 0);

    const rounds = 10;
    const garbagePerRound = 100;
    let noops = 0;
    let pings = 0;
    const outcomes: Array<Promise<CommandOutcome>> = [];
    for (let round = 0; round < rounds; round++) {
      // A valid command in flight, then a burst of garbage behind it (and in front of the next one): random
      // octets as KISS data frames, with random octets between them.
      if (round % 3 === 2) {
        outcomes.push(station.ping(15_000));
        pings += 1;
      } else {
        outcomes.push(station.send('health.NOOP', {}, 15_000));
        noops += 1;
      }
      for (let i = 0; i < garbagePerRound; i++) {
        const frame = kissEncode(randomBytes(randomInt(1, 300)));
        const between = randomBytes(randomInt(0, 20));
        const chunk = new Uint8Array(frame.length + between.length);
        chunk.set(frame);
        chunk.set(between, frame.length);
        expect(pipe.write(chunk)).toBe(true);
      }
      await sleep(50);
    }
    const results = await Promise.all(outcomes);
    for (const result of results)
      expect(stagesOf(result)).toEqual(['acceptance:true', 'start:true', 'completion:true']);

    const after = await settled(names);
    expect(after['health.noopCount']).toBe(before['health.noopCount']! + noops);
    expect(after['commanding.accepted']).toBe(before['commanding.accepted']! + noops + pings);
    expect(after['commanding.executed']).toBe(before['commanding.executed']! + noops + pings);
    expect(after['commanding.failed']).toBe(before['commanding.failed']);
    expect(after['commanding.rejected']).toBe(0);
    expect(after['link.framesAccepted']).toBe(before['link.framesAccepted']! + noops + pings);
    // Every garbage KISS frame reaches the frame decoder and is rejected there (CRC, length, SCID, ...) or by
    // security; the octets between them add framing errors.
    expect(sum(after) - sum(before)).toBeGreaterThanOrEqual(rounds * garbagePerRound);
    expect(station.value('link.farmState')).toBe('open');
  }, 40_000);
});
