/**
 * The Modbus master and the HAL drivers over it, against an in-memory slave that answers through the codec after
 * a delay of virtual time: timeouts and retries, CRC errors, exceptions, the queue, and the drivers' readings.
 */
import { Subject } from 'rxjs';
import { beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.js';
import { modbusAccelerator, modbusEps } from '../../../src/hal/serial/modbus-devices.js';
import {
  ACCELERATOR_UNIT,
  AcceleratorHolding,
  AcceleratorInput,
  EPS_LOADS,
  EPS_UNIT,
  EpsInput,
  toRegister,
} from '../../../src/hal/serial/modbus-map.js';
import { ModbusMaster, type ModbusPipe } from '../../../src/hal/serial/modbus-master.js';
import {
  encodeResponse,
  exceptionFor,
  ILLEGAL_DATA_ADDRESS,
  ILLEGAL_DATA_VALUE,
  type ModbusRequest,
  type ModbusResponse,
  RequestExtractor,
} from '../../../src/link/modbus.js';

/** Lets promise callbacks run (the master resolves from scheduler callbacks). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface UnitTables {
  input: number[];
  holding: number[];
  coils: boolean[];
  /** Validates a holding register write: an exception code to refuse it. */
  checkHolding?: (address: number, value: number) => number | undefined;
}

/** A Modbus slave on a byte pipe, in memory, answering after `delayMs` of virtual time. */
class FakeSlave implements ModbusPipe {
  readonly data$ = new Subject<Uint8Array>();
  readonly units = new Map<number, UnitTables>();
  readonly requests: ModbusRequest[] = [];
  readonly extractor = new RequestExtractor();
  delayMs = 10;
  open = true;
  /** Requests to leave unanswered, from the next one on. */
  silent = 0;
  /** Answers to corrupt (one bit flipped), from the next one on. */
  corrupt = 0;

  constructor(private readonly clock: VirtualClock) {}

  write(bytes: Uint8Array): boolean {
    if (!this.open) return false;
    for (const event of this.extractor.push(bytes.slice())) {
      if (event.kind !== 'request') continue;
      this.requests.push(event.request);
      if (this.silent > 0) {
        this.silent -= 1;
        continue;
      }
      const answer = encodeResponse(this.serve(event.request));
      if (this.corrupt > 0) {
        this.corrupt -= 1;
        const at = answer.length - 3; // a data byte, so the frame still looks like the answer
        answer[at] = (answer[at] as number) ^ 0x10;
      }
      this.clock.scheduler.schedule(() => this.data$.next(answer), this.delayMs);
    }
    return true;
  }

  private serve(request: ModbusRequest): ModbusResponse {
    const tables = this.units.get(request.unit);
    if (tables === undefined) return exceptionFor(request, 4);
    const inRange = (length: number, count: number) => request.address + count <= length;
    switch (request.kind) {
      case 'readInput':
      case 'readHolding': {
        const table = request.kind === 'readInput' ? tables.input : tables.holding;
        if (!inRange(table.length, request.count)) return exceptionFor(request, ILLEGAL_DATA_ADDRESS);
        return {
          kind: request.kind,
          unit: request.unit,
          values: table.slice(request.address, request.address + request.count),
        };
      }
      case 'readCoils':
        if (!inRange(tables.coils.length, request.count)) return exceptionFor(request, ILLEGAL_DATA_ADDRESS);
        return {
          kind: 'readCoils',
          unit: request.unit,
          values: tables.coils.slice(request.address, request.address + request.count),
        };
      case 'writeCoil':
        if (!inRange(tables.coils.length, 1)) return exceptionFor(request, ILLEGAL_DATA_ADDRESS);
        tables.coils[request.address] = request.on;
        return request;
      case 'writeRegister': {
        if (!inRange(tables.holding.length, 1)) return exceptionFor(request, ILLEGAL_DATA_ADDRESS);
        const refused = tables.checkHolding?.(request.address, request.value);
        if (refused !== undefined) return exceptionFor(request, refused);
        tables.holding[request.address] = request.value;
        return request;
      }
      case 'writeRegisters':
        if (!inRange(tables.holding.length, request.values.length)) {
          return exceptionFor(request, ILLEGAL_DATA_ADDRESS);
        }
        tables.holding.splice(request.address, request.values.length, ...request.values);
        return {
          kind: 'writeRegisters',
          unit: request.unit,
          address: request.address,
          count: request.values.length,
        };
    }
  }
}

/** The promise's outcome once settled, or 'pending'. */
function track<T>(promise: Promise<T>): { value: T | 'pending' } {
  const box: { value: T | 'pending' } = { value: 'pending' };
  void promise.then((value) => {
    box.value = value;
  });
  return box;
}

let clock: VirtualClock;
let slave: FakeSlave;
let master: ModbusMaster;

beforeEach(() => {
  clock = new VirtualClock();
  slave = new FakeSlave(clock);
  slave.units.set(1, { input: [10, 20, 30, 40], holding: [0, 0, 0], coils: [false, true, false, false] });
  master = new ModbusMaster(slave, { scheduler: clock.scheduler });
});

describe('ModbusMaster', () => {
  it('reads input registers, holding registers and coils', async () => {
    const inputs = track(master.readInput(1, 1, 3));
    clock.advanceBy(10);
    await settle();
    expect(inputs.value).toEqual({ ok: true, values: [20, 30, 40] });
    const coils = track(master.readCoils(1, 0, 4));
    const holding = track(master.readHolding(1, 0, 2));
    clock.advanceBy(20);
    await settle();
    expect(coils.value).toEqual({ ok: true, values: [false, true, false, false] });
    expect(holding.value).toEqual({ ok: true, values: [0, 0] });
    expect(master.stats(1)).toMatchObject({
      requests: 3,
      answered: 3,
      timeouts: 0,
      retries: 0,
      crcErrors: 0,
    });
  });

  it('writes a coil, a register and several registers', async () => {
    const results = track(
      Promise.all([
        master.writeCoil(1, 2, true),
        master.writeRegister(1, 0, 0xbeef),
        master.writeRegisters(1, 1, [7, 8]),
      ]),
    );
    clock.advanceBy(30);
    await settle();
    expect(results.value).toEqual([
      { ok: true, values: [true] },
      { ok: true, values: [0xbeef] },
      { ok: true, values: [7, 8] },
    ]);
    expect(slave.units.get(1)).toMatchObject({ holding: [0xbeef, 7, 8], coils: [false, true, true, false] });
  });

  it('sends one request at a time, in the order asked', async () => {
    const a = track(master.readInput(1, 0, 1));
    const b = track(master.readInput(1, 1, 1));
    const c = track(master.readInput(1, 2, 1));
    expect(slave.requests).toHaveLength(1);
    expect(master.pending).toBe(3);
    clock.advanceBy(10);
    await settle();
    expect(a.value).toEqual({ ok: true, values: [10] });
    expect(b.value).toBe('pending');
    expect(slave.requests).toHaveLength(2);
    clock.advanceBy(20);
    await settle();
    expect([b.value, c.value]).toEqual([
      { ok: true, values: [20] },
      { ok: true, values: [30] },
    ]);
    expect(slave.requests.map((r) => r.address)).toEqual([0, 1, 2]);
    expect(master.pending).toBe(0);
  });

  it('retries after a timeout and counts it', async () => {
    slave.silent = 2;
    const result = track(master.readInput(1, 0, 2));
    clock.advanceBy(399);
    await settle();
    expect(result.value).toBe('pending');
    expect(slave.requests).toHaveLength(2);
    clock.advanceBy(1 + 10);
    await settle();
    expect(result.value).toEqual({ ok: true, values: [10, 20] });
    expect(master.stats(1)).toMatchObject({ requests: 1, answered: 1, timeouts: 2, retries: 2, failed: 0 });
  });

  it('gives up after every try timed out, with a clear error', async () => {
    slave.silent = 10;
    const result = track(master.readInput(1, 0, 2));
    const next = track(master.readInput(1, 0, 1));
    clock.advanceBy(599);
    await settle();
    expect(result.value).toBe('pending');
    clock.advanceBy(1);
    await settle();
    expect(result.value).toEqual({ ok: false, reason: 'timeout', error: 'unit 1: no answer within 200 ms' });
    expect(slave.requests).toHaveLength(4); // three tries, then the next request
    expect(master.stats(1)).toMatchObject({ requests: 2, timeouts: 3, retries: 2, failed: 1 });
    expect(master.stats(1).lastError).toBe('unit 1: no answer within 200 ms');
    slave.silent = 0;
    clock.advanceBy(600);
    await settle();
    expect(next.value).toMatchObject({ ok: true, values: [10] });
  });

  it('honours the timeout and retries it is given', async () => {
    const quick = new ModbusMaster(slave, { scheduler: clock.scheduler, timeoutMs: 50, retries: 0 });
    master.close();
    slave.silent = 1;
    const result = track(quick.readInput(1, 0, 1));
    clock.advanceBy(50);
    await settle();
    expect(result.value).toMatchObject({ ok: false, error: 'unit 1: no answer within 50 ms' });
    expect(slave.requests).toHaveLength(1);
  });

  it('counts a corrupted answer as a CRC error and retries at once, without waiting out the timeout', async () => {
    slave.corrupt = 1;
    const result = track(master.readInput(1, 0, 2));
    clock.advanceBy(10);
    await settle();
    expect(master.stats(1).crcErrors).toBe(1);
    expect(slave.requests).toHaveLength(2);
    expect(result.value).toBe('pending');
    clock.advanceBy(10);
    await settle();
    expect(result.value).toEqual({ ok: true, values: [10, 20] });
    expect(master.stats(1)).toMatchObject({ crcErrors: 1, timeouts: 0, retries: 1, answered: 1 });
  });

  it('fails after every try is answered with a bad CRC', async () => {
    slave.corrupt = 3;
    const result = track(master.readInput(1, 0, 2));
    for (let i = 0; i < 3; i++) {
      clock.advanceBy(10);
      await settle();
    }
    expect(result.value).toMatchObject({ ok: false, error: 'unit 1: no answer with a good CRC in 3 tries' });
    expect(master.stats(1)).toMatchObject({ crcErrors: 3, timeouts: 0, retries: 2, failed: 1 });
  });

  it('surfaces exceptions without retrying them', async () => {
    const result = track(master.readInput(1, 3, 2));
    clock.advanceBy(10);
    await settle();
    expect(result.value).toEqual({
      ok: false,
      reason: 'exception',
      exception: 2,
      error: 'unit 1: exception 02 illegal data address',
    });
    expect(slave.requests).toHaveLength(1);
    expect(master.stats(1)).toMatchObject({ exceptions: 1, timeouts: 0, retries: 0 });
  });

  it('keeps statistics per unit', async () => {
    slave.units.set(2, { input: [1], holding: [], coils: [] });
    track(master.readInput(2, 0, 1));
    track(master.readInput(1, 0, 1));
    track(master.readInput(7, 0, 1)); // no such unit: the fake answers exception 04
    clock.advanceBy(30);
    await settle();
    expect(master.stats(2)).toMatchObject({ requests: 1, answered: 1 });
    expect(master.stats(7)).toMatchObject({ requests: 1, exceptions: 1 });
    expect([...master.allStats().keys()].sort()).toEqual([1, 2, 7]);
  });

  it('fails at once when the pipe is not open, on an invalid request, and after close', async () => {
    slave.open = false;
    expect(await master.readInput(1, 0, 1)).toMatchObject({
      ok: false,
      reason: 'not-open',
      error: 'unit 1: link not open',
    });
    expect(await master.readInput(1, 0, 200)).toMatchObject({ ok: false, reason: 'invalid' });
    slave.open = true;
    const waiting = track(master.readInput(1, 0, 1));
    const queued = track(master.readInput(1, 0, 1));
    master.close();
    await settle();
    expect(waiting.value).toMatchObject({ ok: false, reason: 'closed' });
    expect(queued.value).toMatchObject({ ok: false, reason: 'closed' });
    expect(await master.readInput(1, 0, 1)).toMatchObject({ ok: false, reason: 'closed' });
  });
});

/** The EPS and accelerator maps as the fake serves them. */
function serveMaps(): { eps: UnitTables; accelerator: UnitTables } {
  const eps = new Array<number>(10).fill(0);
  eps[EpsInput.batteryCentivolts] = 2810;
  eps[EpsInput.batteryCentiamps] = toRegister(-150);
  eps[EpsInput.socPermille] = 734;
  eps[EpsInput.batteryDecicelsius] = toRegister(-52);
  eps[EpsInput.solarCentivolts] = 3300;
  eps[EpsInput.solarCentiamps] = 250;
  eps[EpsInput.solarDeciwatts] = 825;
  eps[EpsInput.busCentivolts] = 2800;
  eps[EpsInput.busCentiamps] = 320;
  eps[EpsInput.status] = 0b10;
  const acc = new Array<number>(10).fill(0);
  acc[AcceleratorInput.junctionCenticelsius] = 6512;
  acc[AcceleratorInput.coldPlateCenticelsius] = 4020;
  acc[AcceleratorInput.radiatorCenticelsius] = toRegister(-1250);
  acc[AcceleratorInput.deciwatts] = 1500;
  acc[AcceleratorInput.coreMHz] = 900;
  acc[AcceleratorInput.status] = 0b011;
  acc[AcceleratorInput.minCapDeciwatts] = 300;
  acc[AcceleratorInput.maxCapDeciwatts] = 2500;
  acc[AcceleratorInput.minMHz] = 300;
  acc[AcceleratorInput.maxMHz] = 1300;
  const tables = {
    eps: { input: eps, holding: [], coils: [true, false, true, true] },
    accelerator: {
      input: acc,
      holding: [2000, 0],
      coils: [],
      checkHolding: (address: number, value: number) =>
        address === AcceleratorHolding.capDeciwatts && (value < 300 || value > 2500)
          ? ILLEGAL_DATA_VALUE
          : undefined,
    },
  };
  slave.units.set(EPS_UNIT, tables.eps);
  slave.units.set(ACCELERATOR_UNIT, tables.accelerator);
  return tables;
}

/** Runs the scheduler until `promise` settles (each answer needs virtual time to pass). */
async function run<T>(promise: Promise<T>, stepMs = 10, maxSteps = 200): Promise<T> {
  const box = track(promise);
  for (let i = 0; i < maxSteps && box.value === 'pending'; i++) {
    await settle();
    if (box.value !== 'pending') break;
    clock.advanceBy(stepMs);
    await settle();
  }
  if (box.value === 'pending') throw new Error('did not settle');
  return box.value;
}

describe('Modbus EPS driver', () => {
  it('reads battery, solar and bus from one request of the input block', async () => {
    serveMaps();
    const eps = modbusEps(master, clock);
    const [battery, solar, bus] = await run(
      Promise.all([eps.battery.read(), eps.solar.read(), eps.busMonitor.read()]),
    );
    expect(battery).toMatchObject({
      quality: 'ok',
      value: { volts: 28.1, amps: -1.5, stateOfCharge: 0.734, celsius: -5.2, status: 'discharging' },
    });
    expect(solar).toMatchObject({
      quality: 'ok',
      value: { volts: 33, amps: 2.5, watts: 82.5, online: true },
    });
    expect(bus).toMatchObject({ quality: 'ok', value: { volts: 28, amps: 3.2, watts: 89.6 } });
    expect(slave.requests).toEqual([{ kind: 'readInput', unit: EPS_UNIT, address: 0, count: 10 }]);
    // Read one after the other within the cache time: still one request; after it, another.
    await run(eps.battery.read());
    expect(slave.requests).toHaveLength(1);
    clock.advanceBy(100);
    await run(eps.solar.read());
    expect(slave.requests).toHaveLength(2);
  });

  it('reads and sets the load switches by coil, in EPS_LOADS order', async () => {
    const tables = serveMaps();
    const eps = modbusEps(master, clock);
    expect(eps.loadSwitches.map((s) => s.name)).toEqual([...EPS_LOADS]);
    const states = await run(Promise.all(eps.loadSwitches.map((s) => s.read())));
    expect(states.map((r) => r.value)).toEqual([true, false, true, true]);
    expect(slave.requests.filter((r) => r.kind === 'readCoils')).toHaveLength(1);
    const camera = eps.loadSwitches[1];
    expect(await run(camera?.set(true) ?? Promise.reject())).toEqual({ ok: true });
    expect(tables.eps.coils[1]).toBe(true);
    // The write drops the cached coils: the next read asks the device.
    expect(await run(camera?.read() ?? Promise.reject())).toMatchObject({ quality: 'ok', value: true });
  });

  it('goes stale, then failed, when the unit stops answering', async () => {
    serveMaps();
    const eps = modbusEps(master, clock);
    expect((await run(eps.battery.read())).quality).toBe('ok');
    slave.silent = 1000;
    clock.advanceBy(100);
    const stale = await run(eps.battery.read());
    expect(stale).toMatchObject({ quality: 'stale', error: 'EPS unit 1: no answer within 200 ms' });
    clock.advanceBy(2000);
    const failed = await run(eps.battery.read());
    expect(failed).toMatchObject({ quality: 'failed', error: 'EPS unit 1: no answer within 200 ms' });
    const set = await run(eps.loadSwitches[0]?.set(false) ?? Promise.reject());
    expect(set).toEqual({ ok: false, error: 'EPS unit 1: no answer within 200 ms' });
  });

  it('reports exceptions as failed readings with their name', async () => {
    slave.units.set(EPS_UNIT, { input: [1, 2, 3], holding: [], coils: [] });
    const eps = modbusEps(master, clock);
    expect(await run(eps.solar.read())).toMatchObject({
      quality: 'failed',
      error: 'EPS unit 1: exception 02 illegal data address',
    });
  });
});

describe('Modbus accelerator driver', () => {
  it('reads the controller, its limits and the three temperatures', async () => {
    serveMaps();
    const { accelerator, temperatures } = modbusAccelerator(master, clock);
    const reading = await run(accelerator.read());
    expect(reading).toMatchObject({
      quality: 'ok',
      value: { celsius: 65.12, watts: 150, coreMHz: 900, powerCapW: 200, throttleReasons: ['power-cap'] },
    });
    const limits = await run(accelerator.limits());
    expect(limits).toMatchObject({
      quality: 'ok',
      value: { minPowerCapW: 30, maxPowerCapW: 250, frequenciesMHz: [300, 550, 800, 1050, 1300] },
    });
    const temps = await run(
      Promise.all([
        temperatures.junction.read(),
        temperatures.coldPlate.read(),
        temperatures.radiator.read(),
      ]),
    );
    expect(temps.map((t) => t.value)).toEqual([65.12, 40.2, -12.5]);
    expect(slave.requests.filter((r) => r.kind === 'readInput')).toHaveLength(1);
  });

  it('sets the power cap and the frequency ceiling, refusing an out-of-range cap before sending', async () => {
    const tables = serveMaps();
    const { accelerator } = modbusAccelerator(master, clock);
    expect(await run(accelerator.setPowerCap(120.5))).toEqual({ ok: true });
    expect(tables.accelerator.holding[AcceleratorHolding.capDeciwatts]).toBe(1205);
    const sent = slave.requests.length;
    expect(await run(accelerator.setPowerCap(400))).toEqual({
      ok: false,
      error: 'power cap 400 W is outside 30..250 W (accelerator unit 2)',
    });
    expect(slave.requests.filter((r) => r.kind === 'writeRegister')).toHaveLength(1);
    expect(slave.requests.length).toBe(sent);
    expect(await run(accelerator.setFrequencyCeiling(777.7))).toEqual({ ok: true });
    expect(tables.accelerator.holding[AcceleratorHolding.ceilingMHz]).toBe(777);
    // The cap read back after the write, not the cached one.
    expect(await run(accelerator.read())).toMatchObject({ value: { powerCapW: 120.5 } });
  });

  it('passes the device refusal on when the limits are not known', async () => {
    const tables = serveMaps();
    tables.accelerator.input[AcceleratorInput.maxCapDeciwatts] = 0; // limits not reported
    const { accelerator } = modbusAccelerator(master, clock);
    expect(await run(accelerator.setPowerCap(400))).toEqual({
      ok: false,
      error: 'accelerator unit 2: exception 03 illegal data value',
    });
  });
});
