import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.js';
import {
  type ActionCommand,
  type ActionOutcome,
  type EventActionDefinition,
  EventActionEngine,
  type StoredSequence,
} from '../../../src/services/fdir/actions.js';

const T0 = Date.UTC(2030, 0, 1);

/** Lets dispatch promises settle (the engine reports outcomes asynchronously). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

const SAFING: StoredSequence = {
  name: 'SAFE_THERMAL',
  steps: [
    { command: 'compute.PAUSE_JOBS', delayMs: 0 },
    { command: 'power.SET_LOAD', args: { rail: 'gpu', on: false }, delayMs: 500 },
    { command: 'modes.SET_MODE', args: { mode: 'SAFE' }, delayMs: 1000 },
  ],
};

const JUNCTION_HOT: EventActionDefinition = {
  id: 1,
  name: 'JUNCTION_HOT_SAFE',
  event: 'fdir.LIMIT_VIOLATED',
  when: { monitor: 'thermal.JUNCTION_HIGH', to: 'above-high' },
  action: { sequence: 'SAFE_THERMAL' },
  enabled: true,
};

const LOW_SOC: EventActionDefinition = {
  id: 2,
  name: 'LOW_SOC_SHED',
  event: 'power.SOC_LOW',
  action: { command: { command: 'power.SHED_LOADS', args: { level: 1 } } },
  enabled: true,
};

function rig(
  definitions: readonly EventActionDefinition[] = [JUNCTION_HOT, LOW_SOC],
  sequences: readonly StoredSequence[] = [SAFING],
  failing: ReadonlySet<string> = new Set(),
) {
  const clock = new VirtualClock({ startMs: T0 });
  const sent: Array<{ command: string; args?: unknown; source: string; at: number }> = [];
  const outcomes: ActionOutcome[] = [];
  const engine = new EventActionEngine(definitions, sequences, {
    scheduler: clock.scheduler,
    dispatch: async (command: ActionCommand, source: string) => {
      sent.push({ ...command, source, at: clock.now() - T0 });
      if (command.command === 'boom.THROW') throw new Error('link down');
      return failing.has(command.command) ? { ok: false, reason: 'refused' } : { ok: true };
    },
    onOutcome: (o) => outcomes.push(o),
  });
  return { clock, engine, sent, outcomes };
}

const hot = {
  name: 'fdir.LIMIT_VIOLATED',
  args: { monitor: 'thermal.JUNCTION_HIGH', to: 'above-high', value: 97 },
};

describe('EventActionEngine: event-actions', () => {
  it('dispatches the command of a matching event, with the action as source, and reports the outcome', async () => {
    const { engine, sent, outcomes } = rig();
    expect(engine.onEvent({ name: 'power.SOC_LOW', args: { soc: 12 } })).toEqual(['LOW_SOC_SHED']);
    expect(sent).toEqual([
      { command: 'power.SHED_LOADS', args: { level: 1 }, source: 'LOW_SOC_SHED', at: 0 },
    ]);
    await flush();
    expect(outcomes).toEqual([{ action: 'LOW_SOC_SHED', command: 'power.SHED_LOADS', ok: true, step: 0 }]);
    expect(engine.fired).toBe(1);
    expect(engine.failed).toBe(0);
  });

  it('fires only when every key of `when` equals the event argument', () => {
    const { engine, clock, sent } = rig();
    const none = engine.onEvent({
      name: 'fdir.LIMIT_VIOLATED',
      args: { monitor: 'thermal.OTHER', to: 'above-high' },
    });
    expect(none).toEqual([]);
    expect(
      engine.onEvent({ name: 'fdir.LIMIT_VIOLATED', args: { monitor: 'thermal.JUNCTION_HIGH' } }),
    ).toEqual([]);
    expect(engine.onEvent({ name: 'nobody.CARES', args: {} })).toBe(none);
    clock.advanceBy(10_000);
    expect(sent).toEqual([]);
    expect(engine.onEvent(hot)).toEqual(['JUNCTION_HOT_SAFE']);
    expect(engine.fired).toBe(1);
  });

  it('fires every matching action for one event', () => {
    const both: EventActionDefinition = {
      ...LOW_SOC,
      id: 3,
      name: 'ALSO_ON_HOT',
      event: 'fdir.LIMIT_VIOLATED',
    };
    const { engine } = rig([JUNCTION_HOT, LOW_SOC, both]);
    expect(engine.onEvent(hot)).toEqual(['JUNCTION_HOT_SAFE', 'ALSO_ON_HOT']);
  });

  it('stops firing when disabled and fires again when enabled', () => {
    const { engine, sent } = rig();
    expect(engine.disable(2)).toBe(true);
    expect(engine.onEvent({ name: 'power.SOC_LOW', args: {} })).toEqual([]);
    expect(sent).toEqual([]);
    expect(engine.enable(2)).toBe(true);
    expect(engine.onEvent({ name: 'power.SOC_LOW', args: {} })).toEqual(['LOW_SOC_SHED']);
    expect(engine.enable(99)).toBe(false);
    expect(engine.disable(99)).toBe(false);
  });

  it('reports a refused or rejected command as failed', async () => {
    const throwing: EventActionDefinition = {
      ...LOW_SOC,
      id: 3,
      name: 'THROWER',
      action: { command: { command: 'boom.THROW' } },
    };
    const { engine, outcomes } = rig([LOW_SOC, throwing], [SAFING], new Set(['power.SHED_LOADS']));
    expect(engine.onEvent({ name: 'power.SOC_LOW', args: {} })).toEqual(['LOW_SOC_SHED', 'THROWER']);
    await flush();
    expect(outcomes).toEqual([
      { action: 'LOW_SOC_SHED', command: 'power.SHED_LOADS', ok: false, reason: 'refused', step: 0 },
      { action: 'THROWER', command: 'boom.THROW', ok: false, reason: 'link down', step: 0 },
    ]);
    expect(engine.failed).toBe(2);
  });

  it('survives a dispatch that throws synchronously', async () => {
    const clock = new VirtualClock({ startMs: T0 });
    const outcomes: ActionOutcome[] = [];
    const engine = new EventActionEngine([LOW_SOC], [], {
      scheduler: clock.scheduler,
      dispatch: () => {
        throw new Error('not ready');
      },
      onOutcome: (o) => outcomes.push(o),
    });
    expect(engine.onEvent({ name: 'power.SOC_LOW', args: {} })).toEqual(['LOW_SOC_SHED']);
    await flush();
    expect(outcomes).toMatchObject([{ ok: false, reason: 'not ready' }]);
  });
});

describe('EventActionEngine: stored sequences', () => {
  it('dispatches the steps at their relative delays as virtual time advances', async () => {
    const { engine, clock, sent, outcomes } = rig();
    engine.onEvent(hot);
    expect(engine.running()).toEqual(['SAFE_THERMAL']);
    expect(sent).toEqual([]); // even a zero delay goes through the scheduler
    clock.advanceBy(0);
    expect(sent.map((s) => [s.command, s.at])).toEqual([['compute.PAUSE_JOBS', 0]]);
    clock.advanceBy(499);
    expect(sent).toHaveLength(1);
    clock.advanceBy(1);
    expect(sent.map((s) => [s.command, s.at])).toEqual([
      ['compute.PAUSE_JOBS', 0],
      ['power.SET_LOAD', 500],
    ]);
    clock.advanceBy(999);
    expect(sent).toHaveLength(2);
    clock.advanceBy(1);
    expect(sent[2]).toEqual({
      command: 'modes.SET_MODE',
      args: { mode: 'SAFE' },
      source: 'JUNCTION_HOT_SAFE',
      at: 1500,
    });
    expect(engine.running()).toEqual([]);
    await flush();
    expect(outcomes.map((o) => [o.step, o.command, o.ok])).toEqual([
      [0, 'compute.PAUSE_JOBS', true],
      [1, 'power.SET_LOAD', true],
      [2, 'modes.SET_MODE', true],
    ]);
    expect(clock.scheduler.pending()).toBe(0);
  });

  it('does not restart a running sequence on a second trigger, and may run it again once done', () => {
    const { engine, clock, sent } = rig();
    expect(engine.onEvent(hot)).toEqual(['JUNCTION_HOT_SAFE']);
    clock.advanceBy(700);
    expect(engine.onEvent(hot)).toEqual([]);
    expect(engine.runSequence('SAFE_THERMAL', 'ground')).toBe(false);
    expect(engine.fired).toBe(1);
    clock.advanceBy(10_000);
    expect(sent.map((s) => s.at)).toEqual([0, 500, 1500]);
    expect(engine.onEvent(hot)).toEqual(['JUNCTION_HOT_SAFE']);
    expect(engine.fired).toBe(2);
    clock.advanceBy(10_000);
    expect(sent).toHaveLength(6);
  });

  it('runs a sequence by command with the given source', () => {
    const { engine, clock, sent } = rig();
    expect(engine.runSequence('NO_SUCH', 'ground')).toBe(false);
    expect(engine.runSequence('SAFE_THERMAL', 'ground')).toBe(true);
    clock.advanceBy(2000);
    expect(sent.map((s) => s.source)).toEqual(['ground', 'ground', 'ground']);
    expect(engine.fired).toBe(0);
  });

  it('keeps a running sequence going when its action is disabled', () => {
    const { engine, clock, sent } = rig();
    engine.onEvent(hot);
    clock.advanceBy(0);
    engine.disable(1);
    clock.advanceBy(2000);
    expect(sent).toHaveLength(3);
    expect(engine.onEvent(hot)).toEqual([]);
  });

  it('aborts the remaining steps of a running sequence', () => {
    const { engine, clock, sent } = rig();
    engine.onEvent(hot);
    clock.advanceBy(600);
    expect(engine.abort('SAFE_THERMAL')).toBe(true);
    expect(engine.abort('SAFE_THERMAL')).toBe(false);
    expect(engine.running()).toEqual([]);
    clock.advanceBy(10_000);
    expect(sent.map((s) => s.command)).toEqual(['compute.PAUSE_JOBS', 'power.SET_LOAD']);
    expect(clock.scheduler.pending()).toBe(0);
    expect(engine.onEvent(hot)).toEqual(['JUNCTION_HOT_SAFE']);
  });

  it('cancels everything on dispose and ignores later triggers', async () => {
    const { engine, clock, sent, outcomes } = rig();
    engine.onEvent(hot);
    engine.runSequence('SAFE_THERMAL', 'ground');
    clock.advanceBy(0);
    engine.dispose();
    expect(engine.running()).toEqual([]);
    expect(clock.scheduler.pending()).toBe(0);
    clock.advanceBy(10_000);
    expect(engine.onEvent(hot)).toEqual([]);
    expect(engine.onEvent({ name: 'power.SOC_LOW', args: {} })).toEqual([]);
    expect(engine.runSequence('SAFE_THERMAL', 'ground')).toBe(false);
    expect(sent).toHaveLength(1);
    await flush();
    expect(outcomes).toEqual([]);
  });

  it('reports a failed step and runs the rest of the sequence by default', async () => {
    const { engine, clock, sent, outcomes } = rig(undefined, undefined, new Set(['power.SET_LOAD']));
    engine.onEvent(hot);
    clock.advanceBy(600);
    await flush();
    clock.advanceBy(1000);
    await flush();
    expect(sent.map((s) => s.command)).toEqual(['compute.PAUSE_JOBS', 'power.SET_LOAD', 'modes.SET_MODE']);
    expect(outcomes.map((o) => [o.step, o.ok, o.reason])).toEqual([
      [0, true, undefined],
      [1, false, 'refused'],
      [2, true, undefined],
    ]);
    expect(engine.failed).toBe(1);
  });

  it('stops at the first failed step when the sequence says stopOnFailure, keeping the timing otherwise', async () => {
    const strict: StoredSequence = { ...SAFING, stopOnFailure: true };
    const { engine, clock, sent, outcomes } = rig([JUNCTION_HOT], [strict], new Set(['power.SET_LOAD']));
    engine.onEvent(hot);
    clock.advanceBy(0);
    await flush(); // step 0 succeeded: step 1 is due 500 ms after its dispatch
    clock.advanceBy(500);
    expect(sent.map((s) => [s.command, s.at])).toEqual([
      ['compute.PAUSE_JOBS', 0],
      ['power.SET_LOAD', 500],
    ]);
    await flush();
    expect(engine.running()).toEqual([]);
    clock.advanceBy(10_000);
    expect(sent).toHaveLength(2);
    expect(outcomes.map((o) => [o.step, o.ok])).toEqual([
      [0, true],
      [1, false],
    ]);
    expect(clock.scheduler.pending()).toBe(0);
  });

  it('with stopOnFailure, waits for a late outcome and then sends the next step at once', async () => {
    const clock = new VirtualClock({ startMs: T0 });
    const sent: Array<[string, number]> = [];
    const resolvers: Array<(r: { ok: boolean }) => void> = [];
    const engine = new EventActionEngine([], [{ ...SAFING, stopOnFailure: true }], {
      scheduler: clock.scheduler,
      dispatch: (command) => {
        sent.push([command.command, clock.now() - T0]);
        return new Promise((resolve) => resolvers.push(resolve));
      },
    });
    engine.runSequence('SAFE_THERMAL', 'ground');
    clock.advanceBy(2000); // step 0 sent, its outcome still pending
    expect(sent).toEqual([['compute.PAUSE_JOBS', 0]]);
    resolvers[0]?.({ ok: true });
    await flush();
    clock.advanceBy(0);
    expect(sent).toEqual([
      ['compute.PAUSE_JOBS', 0],
      ['power.SET_LOAD', 2000],
    ]);
    engine.dispose();
  });
});

describe('EventActionEngine: bad definitions', () => {
  const options = () => ({ scheduler: new VirtualClock().scheduler, dispatch: async () => ({ ok: true }) });
  it('rejects an action naming an unknown sequence', () => {
    expect(() => new EventActionEngine([JUNCTION_HOT], [], options())).toThrow(RangeError);
    expect(() => new EventActionEngine([JUNCTION_HOT], [], options())).toThrow(
      /unknown sequence 'SAFE_THERMAL'/,
    );
  });

  it('rejects duplicate ids, duplicate sequences, empty sequences and bad delays', () => {
    expect(() => new EventActionEngine([LOW_SOC, { ...LOW_SOC, name: 'AGAIN' }], [], options())).toThrow(
      /duplicate event-action id 2/,
    );
    expect(() => new EventActionEngine([], [SAFING, SAFING], options())).toThrow(/duplicate sequence name/);
    expect(() => new EventActionEngine([], [{ name: 'EMPTY', steps: [] }], options())).toThrow(/no steps/);
    expect(
      () => new EventActionEngine([], [{ name: 'NEG', steps: [{ command: 'a.B', delayMs: -1 }] }], options()),
    ).toThrow(/delayMs/);
    expect(
      () => new EventActionEngine([{ ...LOW_SOC, action: { command: { command: '' } } }], [], options()),
    ).toThrow(RangeError);
  });
});
