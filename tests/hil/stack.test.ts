import { describe, expect, it } from 'vitest';
import { exampleNode } from '../../hil/plant/defaults.js';
import { Plant } from '../../hil/plant/plant.js';
import { parseScenario } from '../../hil/scenario.js';
import { runController } from '../../hil/score.js';
import { simulatedNode } from '../../hil/sim-devices.js';
import { flightComponents } from '../../src/cli/fsw.js';
import type { EventRecord, TelemetrySample } from '../../src/core/bus.js';
import { VirtualClock } from '../../src/core/clock.js';
import { FlightStack } from '../../src/core/executive.js';
import { silentLogger } from '../../src/core/log.js';
import { memoryStateStore } from '../../src/core/persistence.js';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

/**
 * The whole flight stack (every deployed component, the power and thermal components among them) on the
 * simulated node, in virtual time: the same control logic as the score loop, but through the HAL's asynchronous
 * devices, the rate groups and the software bus.
 */
async function flyStack(minutes: number, configure?: (stack: FlightStack) => Promise<void>) {
  const clock = new VirtualClock({ startMs: T0 });
  const node = simulatedNode(new Plant(exampleNode()), clock);
  const stack = FlightStack.create({
    components: flightComponents(),
    clock,
    store: memoryStateStore(),
    logger: silentLogger(clock),
    hal: node.devices,
  });
  const latest = new Map<string, unknown>();
  let junctionMaxC = Number.NEGATIVE_INFINITY;
  const bindings = new Set<unknown>();
  const events: EventRecord[] = [];
  const samples = stack.bus.telemetry$.subscribe((sample: TelemetrySample) => {
    latest.set(sample.name, sample.value);
    if (sample.name === 'thermal.junctionC') junctionMaxC = Math.max(junctionMaxC, sample.value as number);
    if (sample.name === 'thermal.binding') bindings.add(sample.value);
  });
  const eventSubscription = stack.bus.events$.subscribe((event) => events.push(event));
  stack.start();
  // The devices answer in promises: let them settle after every 100 ms of mission time.
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  await settle();
  if (configure) await configure(stack);
  for (let i = 0; i < minutes * 600; i++) {
    clock.advanceBy(100);
    await settle();
  }
  const plant = node.plant.state;
  stack.stop();
  node.close();
  samples.unsubscribe();
  eventSubscription.unsubscribe();
  return { plant, latest, junctionMaxC, events, bindings };
}

describe('power and thermal control in the flight stack, on the simulated node', () => {
  it('holds the junction under its limit through a sunlit pass at full demand, with the energy plan published', async () => {
    const run = await flyStack(30);
    expect(run.plant.violations.junctionKelvinSeconds).toBe(0);
    expect(run.plant.violations.batteryDeficitWh).toBe(0);
    expect(run.junctionMaxC).toBeLessThanOrEqual(85);
    // Flat out the example node crosses 85 degC within about 16 minutes: the governor had to throttle.
    expect(run.junctionMaxC).toBeGreaterThan(80);
    // Full power first, then the heat binds; near sunset the energy plan may take over to charge for the eclipse.
    expect(run.bindings.has('none')).toBe(true);
    expect(run.bindings.has('thermal')).toBe(true);
    expect(run.latest.get('thermal.governor')).toBe('skynode');
    expect(run.latest.get('thermal.acceleratorOn')).toBe(true);
    expect(run.latest.get('power.mode')).toBe('NOMINAL');
    expect(run.latest.get('power.energyAllowanceW')).toBeGreaterThan(0);
    // The same logic in the score loop, for the same 30 minutes, delivers about the same compute.
    const loop = runController(parseScenario({ durationS: 1800, plant: {} }, 'stack-test'), 'skynode', {
      traceEveryS: 0,
    });
    expect(run.plant.computeTotal / loop.compute).toBeGreaterThan(0.97);
    expect(run.plant.computeTotal / loop.compute).toBeLessThan(1.03);
  }, 120_000);

  it('obeys a lower limit commanded from the ground and reports the trips it crosses', async () => {
    const run = await flyStack(20, async (stack) => {
      const result = await stack.dispatch({
        name: 'thermal.SET_LIMIT',
        args: { celsius: 70 },
        source: 'test',
      });
      expect(result.ok).toBe(true);
    });
    expect(run.latest.get('thermal.limitC')).toBe(70);
    expect(run.junctionMaxC).toBeLessThanOrEqual(70);
    const changed = run.events.filter((e) => e.name === 'thermal.GOVERNOR_CHANGED');
    expect(changed.at(-1)?.args).toMatchObject({ limitC: 70 });
  }, 120_000);

  it('switches the accelerator off on ground command and back on', async () => {
    const run = await flyStack(2, async (stack) => {
      expect((await stack.dispatch({ name: 'thermal.ACCELERATOR_OFF', source: 'test' })).ok).toBe(true);
    });
    expect(run.plant.acceleratorOn).toBe(false);
    expect(run.latest.get('thermal.binding')).toBe('ground-off');
  }, 60_000);
});
