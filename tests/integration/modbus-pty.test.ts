/**
 * The Modbus master over a real serial line: a socat pseudo-terminal pair, the master's serial pipe on one end and
 * a small slave on the other (serialport opened directly, answering from register tables through the codec).
 */
import { createRequire } from 'node:module';
import { asyncScheduler } from 'rxjs';
import type { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/core/clock.js';
import { modbusAccelerator, modbusEps } from '../../src/hal/serial/modbus-devices.js';
import { ACCELERATOR_UNIT, EPS_UNIT, EpsInput } from '../../src/hal/serial/modbus-map.js';
import { ModbusMaster } from '../../src/hal/serial/modbus-master.js';
import {
  encodeResponse,
  exceptionFor,
  exceptionResponse,
  ILLEGAL_DATA_ADDRESS,
  type ModbusRequest,
  type ModbusResponse,
  RequestExtractor,
} from '../../src/link/modbus.js';
import { openPipe } from '../../src/transport/pipe.js';
import { isOpen, PtyPair, waitForState } from './transport/helpers.js';

const { SerialPort: Port } = createRequire(import.meta.url)('serialport') as {
  SerialPort: typeof SerialPort;
};

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Tables {
  input: number[];
  holding: number[];
  coils: boolean[];
}

/** A slave on a serial port serving `units`. Units it does not serve get no answer, as on a real bus. */
async function startSlave(path: string, units: Map<number, Tables>): Promise<{ requests: ModbusRequest[] }> {
  const port = new Port({ path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  cleanups.push(
    () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  );
  const extractor = new RequestExtractor();
  const requests: ModbusRequest[] = [];
  const serve = (request: ModbusRequest, tables: Tables): ModbusResponse => {
    const fits = (length: number, count: number) => request.address + count <= length;
    switch (request.kind) {
      case 'readInput':
      case 'readHolding': {
        const table = request.kind === 'readInput' ? tables.input : tables.holding;
        if (!fits(table.length, request.count)) return exceptionFor(request, ILLEGAL_DATA_ADDRESS);
        const values = table.slice(request.address, request.address + request.count);
        return { kind: request.kind, unit: request.unit, values };
      }
      case 'readCoils': {
        if (!fits(tables.coils.length, request.count)) return exceptionFor(request, ILLEGAL_DATA_ADDRESS);
        const values = tables.coils.slice(request.address, request.address + request.count);
        return { kind: 'readCoils', unit: request.unit, values };
      }
      case 'writeCoil':
        if (!fits(tables.coils.length, 1)) return exceptionFor(request, ILLEGAL_DATA_ADDRESS);
        tables.coils[request.address] = request.on;
        return request;
      case 'writeRegister':
        if (!fits(tables.holding.length, 1)) return exceptionFor(request, ILLEGAL_DATA_ADDRESS);
        tables.holding[request.address] = request.value;
        return request;
      case 'writeRegisters':
        if (!fits(tables.holding.length, request.values.length))
          return exceptionFor(request, ILLEGAL_DATA_ADDRESS);
        tables.holding.splice(request.address, request.values.length, ...request.values);
        return {
          kind: 'writeRegisters',
          unit: request.unit,
          address: request.address,
          count: request.values.length,
        };
    }
  };
  port.on('data', (chunk: Buffer) => {
    for (const event of extractor.push(new Uint8Array(chunk))) {
      if (event.kind === 'invalid') {
        if (units.has(event.unit)) {
          port.write(
            Buffer.from(encodeResponse(exceptionResponse(event.unit, event.function, event.exception))),
          );
        }
        continue;
      }
      requests.push(event.request);
      const served = units.get(event.request.unit);
      if (served) port.write(Buffer.from(encodeResponse(serve(event.request, served))));
    }
  });
  return { requests };
}

async function setUp(units: Map<number, Tables>) {
  const pty = new PtyPair();
  cleanups.push(() => pty.dispose());
  await pty.start();
  const slave = await startSlave(pty.b, units);
  const pipe = openPipe(`serial:${pty.a}@115200`, { scheduler: asyncScheduler });
  cleanups.push(() => pipe.close());
  await waitForState(pipe, isOpen);
  const master = new ModbusMaster(pipe, { scheduler: asyncScheduler });
  cleanups.push(() => master.close());
  return { master, slave };
}

describe('Modbus RTU over a socat pseudo-terminal pair', () => {
  it('reads input registers, writes a register and a coil, and reads them back', async () => {
    const tables: Tables = {
      input: [11, 22, 33, 44, 55],
      holding: [0, 0, 0],
      coils: [false, false, false, false],
    };
    const { master, slave } = await setUp(new Map([[1, tables]]));

    expect(await master.readInput(1, 0, 5)).toEqual({ ok: true, values: [11, 22, 33, 44, 55] });
    expect(await master.writeRegister(1, 1, 0x1234)).toEqual({ ok: true, values: [0x1234] });
    expect(await master.writeRegisters(1, 0, [7, 8, 9])).toEqual({ ok: true, values: [7, 8, 9] });
    expect(await master.readHolding(1, 0, 3)).toEqual({ ok: true, values: [7, 8, 9] });
    expect(await master.writeCoil(1, 2, true)).toEqual({ ok: true, values: [true] });
    expect(await master.readCoils(1, 0, 4)).toEqual({ ok: true, values: [false, false, true, false] });
    expect(tables.coils[2]).toBe(true);
    expect(await master.readInput(1, 4, 2)).toEqual({
      ok: false,
      reason: 'exception',
      exception: 2,
      error: 'unit 1: exception 02 illegal data address',
    });
    expect(slave.requests).toHaveLength(7);
    expect(master.stats(1)).toMatchObject({
      requests: 7,
      answered: 6,
      exceptions: 1,
      timeouts: 0,
      crcErrors: 0,
    });
  });

  it('queues concurrent requests and times out on a unit nobody serves', async () => {
    const tables: Tables = { input: [1, 2, 3], holding: [], coils: [] };
    const { master } = await setUp(new Map([[1, tables]]));
    const results = await Promise.all([
      master.readInput(1, 0, 1),
      master.readInput(9, 0, 1),
      master.readInput(1, 1, 2),
    ]);
    expect(results).toEqual([
      { ok: true, values: [1] },
      { ok: false, reason: 'timeout', error: 'unit 9: no answer within 200 ms' },
      { ok: true, values: [2, 3] },
    ]);
    expect(master.stats(9)).toMatchObject({ timeouts: 3, retries: 2, failed: 1 });
  });

  it('serves the EPS and accelerator drivers', async () => {
    const eps: Tables = { input: new Array(10).fill(0), holding: [], coils: [false, false, false, true] };
    eps.input[EpsInput.batteryCentivolts] = 2750;
    eps.input[EpsInput.socPermille] = 500;
    eps.input[EpsInput.status] = 0b01;
    const acc: Tables = {
      input: [5000, 4000, 1000, 900, 800, 1, 100, 2000, 200, 1200],
      holding: [1500, 0],
      coils: [],
    };
    const { master } = await setUp(
      new Map([
        [EPS_UNIT, eps],
        [ACCELERATOR_UNIT, acc],
      ]),
    );
    const clock = new RealClock();
    const power = modbusEps(master, clock);
    const battery = await power.battery.read();
    expect(battery).toMatchObject({
      quality: 'ok',
      value: { volts: 27.5, stateOfCharge: 0.5, status: 'charging' },
    });
    expect(await power.loadSwitches[3]?.read()).toMatchObject({ quality: 'ok', value: true });
    expect(await power.loadSwitches[0]?.set(true)).toEqual({ ok: true });
    expect(eps.coils[0]).toBe(true);
    const { accelerator } = modbusAccelerator(master, clock);
    expect(await accelerator.read()).toMatchObject({
      quality: 'ok',
      value: { celsius: 50, watts: 90, coreMHz: 800, powerCapW: 150, throttleReasons: [] },
    });
    expect(await accelerator.setPowerCap(180)).toEqual({ ok: true });
    expect(acc.holding[0]).toBe(1800);
  });
});
