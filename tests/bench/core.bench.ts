/** Software bus throughput and flight stack start-up. Targets: issue 2 (bus >= 1 M samples/s to one subscriber). */

import { SoftwareBus, type TelemetrySample } from '../../src/core/bus.js';
import { VirtualClock } from '../../src/core/clock.js';
import { type AnyComponent, defineComponent } from '../../src/core/component.js';
import { buildDictionary } from '../../src/core/dictionary.js';
import { FlightStack } from '../../src/core/executive.js';
import { silentLogger } from '../../src/core/log.js';
import { memoryStateStore } from '../../src/core/persistence.js';
import { f32, u8 } from '../../src/core/types.js';
import { health } from '../../src/services/health/health.js';
import { type Benchmark, type Figure, rate } from './harness.js';

const SAMPLES = 200_000;

function busRate(subscribers: number, perIdSubscribers: boolean): number {
  const bus = new SoftwareBus();
  let sink = 0;
  for (let i = 0; i < subscribers; i++) {
    if (perIdSubscribers)
      bus.samplesOf({ id: i, name: `c.t${i}`, type: f32() }).subscribe((s) => {
        sink += s.value as number;
      });
    else
      bus.telemetry$.subscribe((s: TelemetrySample) => {
        sink += s.value as number;
      });
  }
  const { perSecond } = rate(() => {
    for (let i = 0; i < SAMPLES; i++) bus.publishTelemetry({ id: i % 100, name: 'c.t', value: i, time: i });
  }, 400);
  if (sink === -1) throw new Error('unreachable');
  return perSecond * SAMPLES;
}

function syntheticComponents(count: number): AnyComponent[] {
  return Array.from({ length: count }, (_, c) =>
    defineComponent({
      name: `synthetic${c}`,
      commands: Object.fromEntries(
        Array.from({ length: 5 }, (_, k) => [
          `CMD_${k}`,
          { opcode: 0x1000 + c * 16 + k, args: { level: u8({ max: 9 }) } },
        ]),
      ),
      telemetry: Object.fromEntries(
        Array.from({ length: 20 }, (_, k) => [
          `value${k}`,
          { id: 0x1000 + c * 32 + k, type: f32({ units: 'V' }) },
        ]),
      ),
      setup: (ctx) => {
        ctx.every('1Hz', () => {});
        return {
          commands: Object.fromEntries(Array.from({ length: 5 }, (_, k) => [`CMD_${k}`, () => undefined])),
        };
      },
    }),
  );
}

export const benchmarks: readonly Benchmark[] = [
  {
    name: 'software bus',
    run(): Figure[] {
      const target = { kind: 'min' as const, value: 1_000_000, source: 'issue 2' };
      return [
        { name: '1 subscriber', value: busRate(1, false), unit: 'samples/s', target },
        { name: '10 subscribers', value: busRate(10, false), unit: 'samples/s' },
        { name: '100 subscribers', value: busRate(100, false), unit: 'samples/s' },
        { name: '100 per-ID subscribers', value: busRate(100, true), unit: 'samples/s' },
      ];
    },
  },
  {
    name: 'stack start-up',
    run(): Figure[] {
      const components = [health, ...syntheticComponents(50)];
      const built = buildDictionary(components);
      const dictionary = rate(() => buildDictionary(components), 300);
      const startStop = rate(() => {
        const clock = new VirtualClock();
        const stack = FlightStack.start({
          components,
          clock,
          store: memoryStateStore(),
          logger: silentLogger(clock),
        });
        stack.stop();
      }, 300);
      const healthOnly = rate(() => {
        const clock = new VirtualClock();
        FlightStack.start({
          components: [health],
          clock,
          store: memoryStateStore(),
          logger: silentLogger(clock),
        }).stop();
      }, 300);
      return [
        {
          name: `build dictionary, 51 components (${built.telemetry.length} tlm, ${built.commands.length} cmd)`,
          value: dictionary.msPerRun,
          unit: 'ms',
        },
        { name: 'start+stop, 51 components', value: startStop.msPerRun, unit: 'ms' },
        { name: 'start+stop, health only', value: healthOnly.msPerRun, unit: 'ms' },
      ];
    },
  },
];
