/**
 * The HIL rig's simulated EPS and accelerator controller on a real pseudo-terminal pair (socat): the test is the
 * master on the far end, writing raw Modbus RTU requests with serialport and decoding the answers against the
 * plant, which the rig steps on a virtual clock.
 */
import { createRequire } from 'node:module';
import type { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { crc16Modbus, rtuFrame } from '../../hil/devices/modbus-slave.js';
import { type SerialDevices, startSerialDevices } from '../../hil/devices/serial-rig.js';
import { exampleNode } from '../../hil/plant/defaults.js';
import { Plant } from '../../hil/plant/plant.js';
import { VirtualClock } from '../../src/core/clock.js';
import {
  ACCELERATOR_UNIT,
  AcceleratorHolding,
  AcceleratorInput,
  EPS_LOADS,
  EPS_UNIT,
  EpsInput,
  signed16,
} from '../../src/hal/serial/modbus-map.js';
import { PtyPair, waitUntil } from './transport/helpers.js';

const { SerialPort: SerialPortClass } = createRequire(import.meta.url)('serialport') as {
  SerialPort: typeof SerialPort;
};

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The master's end: raw requests out, raw octets in. */
class Master {
  private received: Buffer = Buffer.alloc(0);

  constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
  }

  static async open(path: string): Promise<Master> {
    const port = new SerialPortClass({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    cleanups.push(
      () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
    );
    return new Master(port);
  }

  /** Sends `request` and returns the `length` octets answered (checked: CRC valid). */
  async transact(request: Uint8Array, length: number): Promise<Buffer> {
    this.received = Buffer.alloc(0);
    this.port.write(Buffer.from(request));
    await waitUntil(() => this.received.length >= length, `${length} octets (have ${this.received.length})`);
    const frame = this.received.subarray(0, length);
    const crc = crc16Modbus(frame, 0, length - 2);
    expect([frame[length - 2], frame[length - 1]]).toEqual([crc & 0xff, crc >>> 8]);
    return frame;
  }

  /** Reads `count` registers (function 3 or 4). */
  async readRegisters(unit: number, fn: 3 | 4, address: number, count: number): Promise<number[]> {
    const frame = await this.transact(rtuFrame([unit, fn, 0, address, 0, count]), 5 + 2 * count);
    expect([frame[0], frame[1], frame[2]]).toEqual([unit, fn, 2 * count]);
    return Array.from({ length: count }, (_, i) => frame.readUInt16BE(3 + 2 * i));
  }

  async readCoils(unit: number, address: number, count: number): Promise<boolean[]> {
    const bytes = Math.ceil(count / 8);
    const frame = await this.transact(rtuFrame([unit, 1, 0, address, 0, count]), 5 + bytes);
    expect([frame[0], frame[1], frame[2]]).toEqual([unit, 1, bytes]);
    return Array.from({ length: count }, (_, i) => ((frame[3 + (i >> 3)] as number) & (1 << (i & 7))) !== 0);
  }

  /** Octets received since the last transaction. */
  get pending(): number {
    return this.received.length;
  }
}

async function rig(options: { corruptEvery?: number } = {}) {
  const pty = new PtyPair();
  cleanups.push(() => pty.dispose());
  await pty.start();
  const clock = new VirtualClock();
  const plant = new Plant(exampleNode());
  const devices: SerialDevices = await startSerialDevices({ plant, clock, path: pty.a, ...options });
  cleanups.push(() => devices.close());
  const master = await Master.open(pty.b);
  return { clock, plant, devices, master };
}

describe('simulated Modbus devices on a pseudo-terminal', () => {
  it('answer register reads with the plant state', async () => {
    const { clock, plant, devices, master } = await rig();
    clock.advanceBy(120_000);
    expect(plant.state.timeS).toBeCloseTo(120, 6);

    const acc = await master.readRegisters(ACCELERATOR_UNIT, 4, 0, 10);
    expect(signed16(acc[AcceleratorInput.junctionCenticelsius] as number) / 100).toBeCloseTo(
      plant.state.junctionC,
      2,
    );
    expect(
      Math.abs(signed16(acc[AcceleratorInput.junctionCenticelsius] as number) / 100 - plant.state.junctionC),
    ).toBeLessThanOrEqual(0.01);
    expect((acc[AcceleratorInput.deciwatts] as number) / 10).toBeCloseTo(plant.state.acceleratorW, 1);
    expect(acc[AcceleratorInput.coreMHz]).toBe(Math.round(plant.state.acceleratorMHz));
    expect(acc[AcceleratorInput.maxMHz]).toBe(1980);

    const eps = await master.readRegisters(EPS_UNIT, 4, 0, 10);
    expect((eps[EpsInput.socPermille] as number) / 1000).toBeCloseTo(plant.state.soc, 3);
    expect((eps[EpsInput.batteryCentivolts] as number) / 100).toBeCloseTo(plant.state.batteryVolts, 2);
    expect(signed16(eps[EpsInput.batteryDecicelsius] as number) / 10).toBeCloseTo(plant.state.coldPlateC, 1);
    expect((eps[EpsInput.solarDeciwatts] as number) / 10).toBeCloseTo(plant.state.solarW, 1);

    expect(devices.stats).toMatchObject({ requests: 2, responses: 2, crcErrors: 0, exceptions: 0 });
  });

  it('take a power cap written to a holding register, and the plant follows on the next step', async () => {
    const { clock, plant, devices, master } = await rig();
    clock.advanceBy(1000);
    expect(plant.state.acceleratorW).toBeCloseTo(400, 6);

    // Function 06: cap = 200.0 W (2000 = 0x07D0); the answer echoes the request.
    const request = rtuFrame([ACCELERATOR_UNIT, 6, 0, AcceleratorHolding.capDeciwatts, 0x07, 0xd0]);
    expect(await master.transact(request, 8)).toEqual(Buffer.from(request));
    expect(devices.devices.inputs().powerCapW).toBe(200);
    expect(plant.state.acceleratorW).toBeCloseTo(400, 6);
    clock.advanceBy(200);
    expect(plant.state.acceleratorW).toBeCloseTo(200, 6);
    expect(await master.readRegisters(ACCELERATOR_UNIT, 3, 0, 2)).toEqual([2000, 0]);
    const acc = await master.readRegisters(ACCELERATOR_UNIT, 4, AcceleratorInput.deciwatts, 3);
    expect(acc[0]).toBe(2000);
    expect(acc[2]).toBe(0b011); // powered, throttled by the cap

    // Below the smallest cap: exception 03, the cap stays.
    const refused = await master.transact(rtuFrame([ACCELERATOR_UNIT, 6, 0, 0, 0x00, 0x64]), 5);
    expect([refused[1], refused[2]]).toEqual([0x86, 3]);
    expect(devices.devices.inputs().powerCapW).toBe(200);
    expect(devices.stats.exceptions).toBe(1);
  });

  it('switch a load by coil', async () => {
    const { clock, plant, master } = await rig();
    expect(await master.readCoils(EPS_UNIT, 0, 4)).toEqual([true, true, true, true]);
    const camera = EPS_LOADS.indexOf('camera');
    const request = rtuFrame([EPS_UNIT, 5, 0, camera, 0x00, 0x00]);
    expect(await master.transact(request, 8)).toEqual(Buffer.from(request));
    const before = plant.state.switchedW;
    clock.advanceBy(100);
    expect(plant.state.loads.camera).toBe(false);
    expect(plant.state.switchedW).toBeCloseTo(before - 15, 9);
    expect(await master.readCoils(EPS_UNIT, 0, 4)).toEqual([true, false, true, true]);

    // The accelerator's supply is coil 3: off, and its power reads 0 after the next step.
    const off = rtuFrame([EPS_UNIT, 5, 0, EPS_LOADS.indexOf('accelerator'), 0x00, 0x00]);
    await master.transact(off, 8);
    clock.advanceBy(100);
    expect(plant.state.acceleratorW).toBe(0);
    expect(await master.readRegisters(ACCELERATOR_UNIT, 4, AcceleratorInput.deciwatts, 1)).toEqual([0]);
  });

  it('stay silent on a bad CRC and on another unit, and fail a faulted block with exception 04', async () => {
    const { devices, master } = await rig();
    const bad = rtuFrame([EPS_UNIT, 4, 0, 0, 0, 10]);
    bad[7] = (bad[7] as number) ^ 1;
    // A corrupted request, a request for unit 9, then a good one: only the good one is answered.
    const good = rtuFrame([EPS_UNIT, 4, 0, EpsInput.socPermille, 0, 1]);
    const frame = await master.transact(
      new Uint8Array([...bad, ...rtuFrame([9, 4, 0, 0, 0, 1]), ...good]),
      7,
    );
    expect([frame[0], frame[1], frame[2]]).toEqual([EPS_UNIT, 4, 2]);
    expect(devices.stats).toMatchObject({ requests: 1, responses: 1, crcErrors: 1, ignored: 1 });

    devices.devices.fail('junction');
    const failed = await master.transact(rtuFrame([ACCELERATOR_UNIT, 4, 0, 0, 0, 2]), 5);
    expect([failed[0], failed[1], failed[2]]).toEqual([ACCELERATOR_UNIT, 0x84, 4]);
    expect(master.pending).toBe(5);
  });
});
