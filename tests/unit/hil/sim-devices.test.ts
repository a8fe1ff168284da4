import { describe, expect, it } from 'vitest';
import { sim } from '../../../boards/sim.js';
import { exampleNode } from '../../../hil/plant/defaults.js';
import { Plant } from '../../../hil/plant/plant.js';
import { simFrequencySteps, simulatedNode } from '../../../hil/sim-devices.js';
import { VirtualClock } from '../../../src/core/clock.js';
import type { Reading } from '../../../src/hal/index.js';

function value<T>(reading: Reading<T>): T {
  if (reading.quality !== 'ok') throw new Error(`expected an ok reading, got ${reading.quality}`);
  return reading.value;
}

function setup(options: Parameters<typeof simulatedNode>[2] = {}) {
  const clock = new VirtualClock();
  const plant = new Plant(exampleNode());
  const node = simulatedNode(plant, clock, options);
  return { clock, plant, node, devices: node.devices, t0: clock.now() };
}

describe('simulatedNode', () => {
  it('steps the plant on the mission clock, and the devices follow it', async () => {
    const { clock, plant, node, devices, t0 } = setup();
    expect(plant.state.timeS).toBe(0);
    clock.advanceBy(60_000);
    expect(plant.state.timeS).toBeCloseTo(60, 9);
    const junction = await devices.temperatures.junction.read();
    expect(junction).toEqual({ quality: 'ok', value: plant.state.junctionC, time: t0 + 60_000 });
    expect(value(await devices.temperatures.coldPlate.read())).toBe(plant.state.coldPlateC);
    expect(value(await devices.temperatures.radiator.read())).toBe(plant.state.radiatorC);
    const acc = value(await devices.accelerator.read());
    expect(acc).toMatchObject({ celsius: plant.state.junctionC, watts: 400, powerCapW: 400, coreMHz: 1980 });
    expect(acc.throttleReasons).toEqual([]);
    const battery = value(await devices.battery.read());
    expect(battery).toMatchObject({
      stateOfCharge: plant.state.soc,
      volts: plant.state.batteryVolts,
      status: 'charging',
    });
    expect(battery.amps).toBeGreaterThan(0);
    const solar = value(await devices.solar.read());
    expect(solar.online).toBe(true);
    expect(solar.watts).toBeCloseTo(plant.state.solarW, 9);
    const bus = value(await devices.busMonitor.read());
    expect(bus.watts).toBe(505);
    expect(bus.volts).toBe(plant.state.busVolts);
    expect(bus.amps * bus.volts).toBeCloseTo(505, 9);
    expect(value(await devices.powerRails.accelerator.read()).watts).toBe(400);

    // Into the eclipse: the array goes dark and the battery discharges.
    clock.advanceBy(35 * 60_000);
    expect(plant.state.sunlit).toBe(false);
    expect(value(await devices.solar.read())).toMatchObject({ watts: 0, online: false });
    expect(value(await devices.battery.read()).status).toBe('discharging');

    node.close();
    const at = plant.state.timeS;
    clock.advanceBy(10_000);
    expect(plant.state.timeS).toBe(at);
    expect(clock.scheduler.pending()).toBe(0);
  });

  it('reports its limits like a GPU, and refuses caps out of range', async () => {
    const { clock, plant, devices } = setup();
    const limits = value(await devices.accelerator.limits());
    expect(limits).toMatchObject({ minPowerCapW: 100, maxPowerCapW: 400, defaultPowerCapW: 400 });
    expect(limits).toMatchObject({ slowdownC: 83, shutdownC: 95 });
    const steps = limits.frequenciesMHz ?? [];
    expect(steps).toEqual(simFrequencySteps(exampleNode().accelerator));
    expect(steps).toHaveLength(15);
    expect(steps[0]).toBe(345);
    expect(steps.at(-1)).toBe(1980);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    expect(await devices.temperatures.junction.trips?.()).toEqual([
      { type: 'passive', celsius: 83 },
      { type: 'critical', celsius: 95 },
    ]);

    for (const bad of [50, 99.9, 401, Number.NaN]) {
      const result = await devices.accelerator.setPowerCap(bad);
      expect(result.ok).toBe(false);
    }
    expect(await devices.accelerator.setPowerCap(50)).toEqual({
      ok: false,
      error: 'power cap 50 W is not valid: it must be between 100 W and 400 W',
    });
    clock.advanceBy(1000);
    expect(plant.state.acceleratorW).toBe(400);
  });

  it('lowers the accelerator power under a cap, and reports why it runs slow', async () => {
    const { clock, plant, node, devices } = setup();
    clock.advanceBy(1000);
    const busBefore = value(await devices.busMonitor.read()).watts;
    expect(await devices.accelerator.setPowerCap(200)).toEqual({ ok: true });
    clock.advanceBy(200);
    expect(plant.state.acceleratorW).toBeCloseTo(200, 9);
    const capped = value(await devices.accelerator.read());
    expect(capped.watts).toBeCloseTo(200, 9);
    expect(capped.powerCapW).toBe(200);
    expect(capped.coreMHz).toBeLessThan(1980);
    expect(capped.throttleReasons).toEqual(['power-cap']);
    expect(value(await devices.busMonitor.read()).watts).toBeCloseTo(busBefore - 200, 9);

    // A ceiling below what the cap allows: the clocks are held by it. It snaps to a supported step.
    expect(await devices.accelerator.setFrequencyCeiling(1000)).toEqual({ ok: true });
    expect(node.inputs().frequencyCeilingMHz).toBe(930);
    clock.advanceBy(200);
    const held = value(await devices.accelerator.read());
    expect(held.coreMHz).toBe(930);
    expect(held.throttleReasons).toEqual(['application-clocks']);
    expect((await devices.accelerator.setFrequencyCeiling(3000)).ok).toBe(false);
    expect((await devices.accelerator.setFrequencyCeiling(100)).ok).toBe(false);
    expect(await devices.accelerator.setFrequencyCeiling(1980)).toEqual({ ok: true });
    clock.advanceBy(200);
    expect(value(await devices.accelerator.read()).throttleReasons).toEqual(['power-cap']);
  });

  it('switches loads in shedding order, with the accelerator supply last', async () => {
    const { clock, plant, devices } = setup();
    expect(devices.loadSwitches.map((s) => s.name)).toEqual([
      'payload-heater',
      'camera',
      'accelerator-aux',
      'accelerator',
    ]);
    clock.advanceBy(1000);
    const bus = async () => value(await devices.busMonitor.read()).watts;
    expect(await bus()).toBe(505);
    const [heater, camera, , accelerator] = devices.loadSwitches;
    expect(await heater?.set(false)).toEqual({ ok: true });
    expect(value((await heater?.read()) as Reading<boolean>)).toBe(false);
    await camera?.set(false);
    clock.advanceBy(100);
    expect(await bus()).toBe(470);
    expect(plant.state.loads).toEqual({ 'payload-heater': false, camera: false, 'accelerator-aux': true });

    // The accelerator's supply: off, it draws nothing and does not answer; on again, it is back at its defaults.
    await devices.accelerator.setPowerCap(150);
    await accelerator?.set(false);
    clock.advanceBy(100);
    expect(await bus()).toBe(70);
    expect(plant.state.acceleratorOn).toBe(false);
    const off = await devices.accelerator.read();
    expect(off.quality).toBe('failed');
    expect((await devices.accelerator.setPowerCap(200)).ok).toBe(false);
    await accelerator?.set(true);
    clock.advanceBy(100);
    expect(value(await devices.accelerator.read())).toMatchObject({ powerCapW: 400, watts: 400 });
  });

  it('injects sensor faults: stuck, failed, biased, and heals them', async () => {
    const { clock, node, plant, devices } = setup();
    clock.advanceBy(1000);
    node.stickSensor('junction');
    const stuck = plant.state.junctionC;
    node.failSensor('radiator');
    node.biasSensor('coldPlate', 5);
    node.biasSensor('accelerator', -3);
    node.failSensor('battery');
    clock.advanceBy(10 * 60_000);
    expect(plant.state.junctionC).not.toBeCloseTo(stuck, 1);
    const junction = await devices.temperatures.junction.read();
    expect(junction).toEqual({ quality: 'ok', value: stuck, time: clock.now() });
    const radiator = await devices.temperatures.radiator.read();
    expect(radiator).toMatchObject({ quality: 'failed', time: clock.now() });
    expect(radiator.value).toBeUndefined();
    expect(value(await devices.temperatures.coldPlate.read())).toBeCloseTo(plant.state.coldPlateC + 5, 9);
    expect(value(await devices.accelerator.read()).celsius).toBeCloseTo(plant.state.junctionC - 3, 9);
    expect((await devices.battery.read()).quality).toBe('failed');
    node.stickSensor('busMonitor');
    const bus = value(await devices.busMonitor.read());
    await devices.accelerator.setPowerCap(100);
    clock.advanceBy(1000);
    expect(value(await devices.busMonitor.read())).toEqual(bus);

    for (const name of [
      'junction',
      'radiator',
      'coldPlate',
      'accelerator',
      'battery',
      'busMonitor',
    ] as const) {
      node.healSensor(name);
    }
    expect(value(await devices.temperatures.junction.read())).toBe(plant.state.junctionC);
    expect(value(await devices.temperatures.radiator.read())).toBe(plant.state.radiatorC);
    expect(value(await devices.temperatures.coldPlate.read())).toBe(plant.state.coldPlateC);
    expect(value(await devices.busMonitor.read()).watts).toBe(plant.state.busW);
  });

  it('adds seeded noise when asked, the same for the same seed', async () => {
    const readings = async (seed: number) => {
      const { clock, devices, plant } = setup({ noise: { seed, celsius: 0.5 } });
      const out: number[] = [];
      for (let i = 0; i < 200; i++) {
        clock.advanceBy(100);
        out.push(value(await devices.temperatures.junction.read()) - plant.state.junctionC);
      }
      return out;
    };
    const a = await readings(7);
    expect(await readings(7)).toEqual(a);
    expect(await readings(8)).not.toEqual(a);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(0.15);
    expect(sd).toBeGreaterThan(0.35);
    expect(sd).toBeLessThan(0.65);
    // Off by default.
    const { clock, devices, plant } = setup();
    clock.advanceBy(100);
    expect(value(await devices.temperatures.junction.read())).toBe(plant.state.junctionC);
  });

  it('catches up after a late tick by stepping the mission time that passed', () => {
    const { clock, plant } = setup({ stepMs: 1000 });
    clock.advanceBy(1000);
    clock.spend(2500);
    clock.advanceBy(1000);
    expect(plant.state.timeS).toBeCloseTo(4.5, 9);
  });
});

describe('the sim board', () => {
  it('opens the example node on the mission clock, with the process monitor', async () => {
    const clock = new VirtualClock();
    const board = sim.open({ stateDir: '', now: () => clock.now(), clock });
    const { devices } = board;
    expect(devices.process).toBeDefined();
    expect(devices.loadSwitches?.at(-1)?.name).toBe('accelerator');
    clock.advanceBy(5000);
    const reading = await devices.temperatures?.junction?.read();
    expect(reading?.quality).toBe('ok');
    expect(reading?.time).toBe(clock.now());
    await board.close();
    expect(clock.scheduler.pending()).toBe(0);
  });

  it('refuses to open without a clock', () => {
    expect(() => sim.open({ stateDir: '', now: () => 0 })).toThrow(/open it with a clock/);
  });
});
