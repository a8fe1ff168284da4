import { Writable } from 'node:stream';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { CommandResult, EventRecord, TelemetrySample } from '../../../src/core/bus.js';
import { VirtualClock } from '../../../src/core/clock.js';
import { type CommandArgs, defineComponent, FailureCode } from '../../../src/core/component.js';
import { checkCommand, FlightStack } from '../../../src/core/executive.js';
import { createLogger, silentLogger } from '../../../src/core/log.js';
import { memoryStateStore } from '../../../src/core/persistence.js';
import { f32, u8 } from '../../../src/core/types.js';
import { powerLike, thermalLike } from '../../support/components.js';

function start(options: { log?: string[] } = {}) {
  const clock = new VirtualClock({ startMs: Date.UTC(2030, 0, 1) });
  const lines = options.log;
  const logger = lines
    ? createLogger({
        clock,
        level: 'debug',
        destination: new Writable({
          write(chunk, _enc, done) {
            lines.push(...String(chunk).trim().split('\n'));
            done();
          },
        }),
      })
    : silentLogger(clock);
  const store = memoryStateStore();
  const stack = FlightStack.start({ components: [thermalLike, powerLike], clock, store, logger });
  return { clock, stack, store };
}

function collect<T>(subscribe: (fn: (value: T) => void) => void): T[] {
  const out: T[] = [];
  subscribe((value) => out.push(value));
  return out;
}

describe('component declarations', () => {
  it('infer handler argument and telemetry writer types', () => {
    type SetMode = CommandArgs<typeof thermalLike.commands.SET_MODE>;
    expectTypeOf<SetMode>().toEqualTypeOf<{ mode: 'AUTO' | 'MANUAL' | 'OFF'; level: number }>();
    type Label = CommandArgs<typeof thermalLike.commands.LABEL>;
    expectTypeOf<Label>().toEqualTypeOf<{ text: string; serial: bigint }>();
    expectTypeOf(thermalLike.tlm.junctionC.type.kind).toEqualTypeOf<'f32'>();
    defineComponent({
      name: 'typed',
      commands: { GO: { opcode: 1, args: { speed: u8() } } },
      telemetry: { temp: { id: 1, type: f32() } },
      events: { DONE: { id: 1, severity: 'info', args: { after: f32() } }, BARE: { id: 2, severity: 'low' } },
      params: { gain: { id: 1, type: u8(), default: 2 } },
      setup(ctx) {
        expectTypeOf(ctx.tlm.temp).parameter(0).toEqualTypeOf<number>();
        expectTypeOf(ctx.params.get('gain')).toEqualTypeOf<number>();
        expectTypeOf(ctx.events.DONE).parameter(0).toEqualTypeOf<{ after: number }>();
        expectTypeOf(ctx.events.BARE).parameters.toEqualTypeOf<[]>();
        // @ts-expect-error: telemetry writers take the declared type only
        ctx.tlm.temp('hot');
        // @ts-expect-error: no such parameter
        ctx.params.get('gian');
        return {
          commands: {
            GO: (args) => {
              expectTypeOf(args).toEqualTypeOf<{ speed: number }>();
              return undefined;
            },
          },
        };
      },
    });
  });

  it('require a handler for every declared command at start-up', () => {
    const missing = defineComponent({
      name: 'missing',
      commands: { GO: { opcode: 9 } },
      // @ts-expect-error: the GO handler is missing
      setup: () => ({ commands: {} }),
    });
    const clock = new VirtualClock();
    expect(() =>
      FlightStack.start({
        components: [missing],
        clock,
        store: memoryStateStore(),
        logger: silentLogger(clock),
      }),
    ).toThrow(/component missing declares command GO but its setup returns no handler/);
  });

  it('name the rate group a component asked for when the deployment lacks it', () => {
    const wrong = defineComponent({
      name: 'wrong',
      setup(ctx) {
        ctx.every('50Hz', () => {});
        return {};
      },
    });
    const clock = new VirtualClock();
    expect(() =>
      FlightStack.start({
        components: [wrong],
        clock,
        store: memoryStateStore(),
        logger: silentLogger(clock),
      }),
    ).toThrow(
      /component wrong failed to start: component wrong: no rate group '50Hz' \(this deployment has 10Hz, 1Hz\)/,
    );
  });
});

describe('command validation', () => {
  const { stack } = start();
  const d = stack.dictionary;

  it('accepts in-range, correctly typed arguments', () => {
    expect(checkCommand(d, { name: 'thermal.SET_LIMIT', args: { celsius: 80 } })).toMatchObject({
      ok: true,
      args: { celsius: 80 },
    });
    expect(checkCommand(d, { opcode: 0x0302, args: { mode: 'OFF', level: 10 } }).ok).toBe(true);
  });

  it.each([
    [
      { name: 'thermal.SET_LIMIT', args: { celsius: 96 } },
      FailureCode.argumentOutOfRange,
      /celsius: 96 not in \[40, 95\] degC/,
    ],
    [
      { name: 'thermal.SET_LIMIT', args: { celsius: '80' } },
      FailureCode.argumentOutOfRange,
      /celsius: expected f32/,
    ],
    [
      { name: 'thermal.SET_LIMIT', args: {} },
      FailureCode.argumentOutOfRange,
      /celsius is missing \(f32 in \[40, 95\] degC\)/,
    ],
    [
      { name: 'thermal.SET_MODE', args: { mode: 'AUTO', level: 2.5 } },
      FailureCode.argumentOutOfRange,
      /level: expected u8/,
    ],
    [
      { name: 'thermal.SET_MODE', args: { mode: 'auto', level: 1 } },
      FailureCode.argumentOutOfRange,
      /mode: expected one of AUTO\|MANUAL\|OFF/,
    ],
    [
      { name: 'thermal.SET_LIMIT', args: { celsius: 80, kelvin: 1 } },
      FailureCode.argumentOutOfRange,
      /kelvin is not an argument of thermal.SET_LIMIT \(it takes celsius\)/,
    ],
    [
      { name: 'thermal.LABEL', args: { text: 'too long!', serial: -1n } },
      FailureCode.argumentOutOfRange,
      /text: 9 octets > maxLength 8; serial: -1 not in/,
    ],
    [{ name: 'thermal.NOPE' }, FailureCode.unknownFunction, /unknown command thermal.NOPE/],
    [{ opcode: 0x7777 }, FailureCode.unknownFunction, /unknown command opcode 0x7777/],
  ])('rejects case %# with code %i', (ask, code, reason) => {
    const check = checkCommand(d, ask);
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.code).toBe(code);
      expect(check.reason).toMatch(reason);
    }
  });
});

describe('FlightStack', () => {
  it('dispatches a valid command to its handler and publishes request and result', async () => {
    const { stack } = start();
    const events = collect<EventRecord>((f) => stack.bus.events$.subscribe(f));
    const results = collect<CommandResult>((f) => stack.bus.results$.subscribe(f));
    const result = await stack.dispatch({
      name: 'thermal.SET_LIMIT',
      args: { celsius: 72.5 },
      source: 'test',
    });
    expect(result).toMatchObject({ ok: true, name: 'thermal.SET_LIMIT' });
    expect(events.map((e) => [e.name, e.message])).toEqual([['thermal.LIMIT_SET', 'limit now 72.5']]);
    expect(results).toEqual([result]);
  });

  it('turns rejections, refusals and thrown errors into failure results, never exceptions', async () => {
    const { stack } = start();
    const results = collect<CommandResult>((f) => stack.bus.results$.subscribe(f));
    const outcomes = [
      await stack.dispatch({ name: 'thermal.SET_LIMIT', args: { celsius: 1000 } }),
      await stack.dispatch({ name: 'thermal.FAIL', args: { how: 'throw' } }),
      await stack.dispatch({ name: 'thermal.FAIL', args: { how: 'refuse' } }),
      await stack.dispatch({ name: 'thermal.FAIL', args: { how: 'async' } }),
      await stack.dispatch({ name: 'thermal.POWER_CYCLE' }),
      await stack.dispatch({ name: 'thermal.POWER_CYCLE', armed: true }),
    ];
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.code))).toEqual([6, 9, 9, 10, 8, 'ok']);
    expect(outcomes[1]).toMatchObject({ reason: 'actuator did not answer' });
    expect(results).toHaveLength(6);
    expect(new Set(outcomes.map((o) => o.requestId)).size).toBe(6);
  });

  it('publishes telemetry from rate groups stamped with mission time', () => {
    const { stack, clock } = start();
    const samples = collect<TelemetrySample>((f) => stack.bus.telemetry$.subscribe(f));
    const junction = collect<number>((f) => stack.bus.valuesOf(thermalLike.tlm.junctionC).subscribe(f));
    clock.advanceBy(3000);
    // Tick 0 runs as the stack starts, then one a second.
    expect(junction).toEqual([60, 60, 60, 60]);
    expect(
      samples.filter((s) => s.name === 'thermal.mode').map((s) => s.time - Date.UTC(2030, 0, 1)),
    ).toEqual([0, 1000, 2000, 3000]);
  });

  it('applies parameters set at run time on the next tick', () => {
    const { stack, clock } = start();
    const junction = collect<number>((f) => stack.bus.valuesOf(thermalLike.tlm.junctionC).subscribe(f));
    clock.advanceBy(1000);
    expect(stack.params.set('thermal.offsetC', -5)).toEqual({ ok: true });
    expect(stack.params.set('thermal.offsetC', 50)).toMatchObject({ ok: false, code: 'invalid' });
    clock.advanceBy(1000);
    expect(junction).toEqual([60, 60, 55]);
  });

  it('writes every event as a structured log line, with severity as the level', async () => {
    const log: string[] = [];
    const { stack } = start({ log });
    await stack.dispatch({ name: 'thermal.SET_LIMIT', args: { celsius: 70 } });
    const lines = log.map((l) => JSON.parse(l) as Record<string, unknown>);
    const event = lines.find((l) => l.event === 'thermal.LIMIT_SET');
    expect(event).toMatchObject({
      level: 'info',
      eventId: 0x0302,
      severity: 'info',
      args: { celsius: 70 },
      msg: 'limit now 70',
      time: '2030-01-01T00:00:00.000Z',
    });
  });

  it('logs u64 arguments without breaking JSON', async () => {
    const log: string[] = [];
    const { stack } = start({ log });
    await stack.dispatch({ name: 'thermal.LABEL', args: { text: 'a', serial: 18446744073709551615n } });
    const executed = log
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'command executed');
    expect(executed).toMatchObject({ args: { serial: '18446744073709551615' } });
  });

  it('counts boots in its state store', () => {
    const clock = new VirtualClock();
    const store = memoryStateStore();
    const boots = [1, 2, 3].map(() => {
      const stack = FlightStack.start({ components: [powerLike], clock, store, logger: silentLogger(clock) });
      stack.stop();
      return stack.bootCount;
    });
    expect(boots).toEqual([1, 2, 3]);
  });

  it('stops its rate groups and refuses commands once stopped', async () => {
    const { stack, clock } = start();
    const samples = collect<TelemetrySample>((f) => stack.bus.telemetry$.subscribe(f));
    stack.stop();
    clock.advanceBy(5000);
    expect(samples).toEqual([]);
    expect(await stack.dispatch({ name: 'power.SHED', args: { load: 1 } })).toMatchObject({
      ok: false,
      code: 10,
    });
  });
});
