import { describe, expect, it } from 'vitest';
import { isModbusException, type ModbusUnitProvider } from '../../../hil/devices/modbus-slave.js';
import { plantModbusDevices } from '../../../hil/devices/node-devices.js';
import { exampleNode } from '../../../hil/plant/defaults.js';
import { Plant } from '../../../hil/plant/plant.js';
import { AcceleratorInput, EpsInput, signed16 } from '../../../src/hal/serial/modbus-map.js';
import { Prng } from '../../../src/transport/prng.js';

const read = (provider: ModbusUnitProvider, address: number, count: number): readonly number[] => {
  const result = provider.inputs?.(address, count);
  if (result === undefined || isModbusException(result))
    throw new Error(`read failed: ${JSON.stringify(result)}`);
  return result;
};

/** A plant a minute into its run (sunlit, SoC between the bounds) and its devices. */
function setup() {
  const plant = new Plant(exampleNode());
  plant.step(60, plantModbusDevices(plant).inputs());
  const devices = plantModbusDevices(plant);
  const junction = () =>
    signed16(read(devices.accelerator, AcceleratorInput.junctionCenticelsius, 1)[0] as number) / 100;
  const soc = () => (read(devices.eps, EpsInput.socPermille, 1)[0] as number) / 1000;
  const solarW = () => (read(devices.eps, EpsInput.solarDeciwatts, 1)[0] as number) / 10;
  return { plant, devices, junction, soc, solarW };
}

const stats = (xs: readonly number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd };
};

describe('plantModbusDevices sensor faults (scenario units)', () => {
  it('biases the junction in kelvin', () => {
    const { plant, devices, junction } = setup();
    devices.bias('junction', -3.5);
    expect(junction()).toBeCloseTo(plant.state.junctionC - 3.5, 2);
  });

  it('biases the battery state of charge as a fraction, clamped to 0..1', () => {
    const { plant, devices, soc } = setup();
    const truth = plant.state.soc;
    expect(truth).toBeGreaterThan(0.5);
    expect(truth).toBeLessThan(0.95);
    devices.bias('battery', 0.05);
    expect(soc()).toBeCloseTo(Math.round(truth * 1.05 * 1000) / 1000, 6);
    devices.bias('battery', -0.1);
    expect(soc()).toBeCloseTo(Math.round(truth * 0.9 * 1000) / 1000, 6);
    devices.bias('battery', 0.5);
    expect(soc()).toBe(1);
    devices.bias('battery', -2);
    expect(soc()).toBe(0);
    // The other battery registers read the truth.
    const battery = read(devices.eps, 0, 4);
    expect(battery[EpsInput.batteryCentivolts]).toBe(Math.round(plant.state.batteryVolts * 100));
    expect(signed16(battery[EpsInput.batteryDecicelsius] as number)).toBe(
      Math.round(plant.state.coldPlateC * 10),
    );
  });

  it('biases the solar power as a fraction, its current with it, never below 0', () => {
    const { plant, devices, solarW } = setup();
    const s = plant.state;
    expect(s.solarW).toBeGreaterThan(100);
    devices.bias('solar', -0.2);
    expect(solarW()).toBeCloseTo(Math.round(s.solarW * 0.8 * 10) / 10, 6);
    expect(read(devices.eps, EpsInput.solarCentiamps, 1)).toEqual([
      Math.round(((s.solarW * 0.8) / s.busVolts) * 100),
    ]);
    devices.bias('solar', -1.5);
    expect(read(devices.eps, EpsInput.solarCentivolts, 3)).toEqual([0, 0, 0]);
    devices.bias('solar', 1000);
    expect(read(devices.eps, EpsInput.solarDeciwatts, 1)).toEqual([65535]);
  });

  it('keeps registers in range and refuses a bias or noise that is not finite', () => {
    const { devices, junction } = setup();
    devices.bias('junction', 1e6);
    expect(junction()).toBeCloseTo(327.67, 2);
    devices.bias('junction', -1e6);
    expect(junction()).toBeCloseTo(-327.68, 2);
    expect(() => devices.bias('junction', Number.NaN)).toThrow(RangeError);
    expect(() => devices.noise('solar', Number.POSITIVE_INFINITY, Math.random)).toThrow(RangeError);
    // A misbehaving random source reads no noise rather than NaN.
    devices.noise('junction', 2, () => Number.NaN);
    expect(Number.isFinite(junction())).toBe(true);
  });

  it('adds Gaussian noise in kelvin to the junction, a fresh draw per read', () => {
    const { plant, devices, junction } = setup();
    const prng = new Prng(42);
    devices.noise('junction', 2, () => prng.next());
    const truth = plant.state.junctionC;
    const xs = Array.from({ length: 2000 }, junction);
    const { mean, sd } = stats(xs);
    expect(Math.abs(mean - truth)).toBeLessThan(0.3);
    expect(sd).toBeGreaterThan(1.7);
    expect(sd).toBeLessThan(2.3);
    expect(new Set(xs).size).toBeGreaterThan(500);
  });

  it('adds relative noise to the state of charge and the solar power', () => {
    const { plant, devices, soc, solarW } = setup();
    const prng = new Prng(7);
    const truth = plant.state.soc;
    devices.noise('battery', 0.05, () => prng.next());
    const xs = Array.from({ length: 2000 }, soc);
    const { mean, sd } = stats(xs.map((x) => x / truth - 1));
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(sd).toBeGreaterThan(0.04);
    expect(sd).toBeLessThan(0.06);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThanOrEqual(1);

    devices.noise('solar', 0.1, () => prng.next());
    const w = stats(Array.from({ length: 2000 }, () => solarW() / plant.state.solarW - 1));
    expect(Math.abs(w.mean)).toBeLessThan(0.01);
    expect(w.sd).toBeGreaterThan(0.085);
    expect(w.sd).toBeLessThan(0.115);
  });

  it('draws one deviate per read request that touches the block, and none for reads that miss it', () => {
    const { devices } = setup();
    let draws = 0;
    const prng = new Prng(3);
    devices.noise('solar', 0.1, () => {
      draws++;
      return prng.next();
    });
    read(devices.eps, 0, 10);
    expect(draws).toBe(2); // Box-Muller: two uniforms per deviate
    read(devices.eps, EpsInput.solarDeciwatts, 1);
    expect(draws).toBe(4);
    read(devices.eps, 0, 4);
    read(devices.eps, EpsInput.busCentivolts, 2);
    read(devices.accelerator, 0, 10);
    expect(draws).toBe(4);
  });

  it('repeats exactly with the same seed', () => {
    const run = (seed: number) => {
      const { devices, junction, soc } = setup();
      const prng = new Prng(seed);
      devices.noise('junction', 1.5, () => prng.next());
      devices.noise('battery', 0.02, () => prng.next());
      return Array.from({ length: 50 }, () => [junction(), soc()]);
    };
    expect(run(11)).toEqual(run(11));
    expect(run(11)).not.toEqual(run(12));
  });

  it('replaces other faults, heals, and leaves stuck and failed blocks as they were', () => {
    const { plant, devices, junction, solarW } = setup();
    const prng = new Prng(5);
    devices.fail('junction');
    devices.noise('junction', 2, () => prng.next());
    expect(devices.accelerator.inputs?.(0, 1)).not.toEqual({ exception: 4 });
    devices.heal('junction');
    expect(junction()).toBeCloseTo(plant.state.junctionC, 2);
    expect(junction()).toBe(junction());

    devices.noise('solar', 0.1, () => prng.next());
    devices.stick('solar');
    const held = read(devices.eps, EpsInput.solarCentivolts, 3);
    expect(solarW()).toBeCloseTo(Math.round(plant.state.solarW * 10) / 10, 6);
    plant.step(30, devices.inputs());
    expect(read(devices.eps, EpsInput.solarCentivolts, 3)).toEqual(held);

    devices.noise('battery', 0.05, () => prng.next());
    devices.fail('battery');
    expect(devices.eps.inputs?.(EpsInput.socPermille, 1)).toEqual({ exception: 4 });
    devices.heal('battery');
    expect(read(devices.eps, EpsInput.socPermille, 1)).toEqual([Math.round(plant.state.soc * 1000)]);
  });
});
