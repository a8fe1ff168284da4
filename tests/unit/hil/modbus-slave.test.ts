import { describe, expect, it } from 'vitest';
import {
  crc16Modbus,
  isModbusException,
  ModbusExceptionCode,
  ModbusSlave,
  type ModbusSlaveOptions,
  type ModbusUnitProvider,
  modbusException,
  rtuFrame,
} from '../../../hil/devices/modbus-slave.js';
import { plantModbusDevices } from '../../../hil/devices/node-devices.js';
import { maxPowerW } from '../../../hil/plant/accelerator.js';
import { exampleNode } from '../../../hil/plant/defaults.js';
import { Plant } from '../../../hil/plant/plant.js';
import {
  AcceleratorHolding,
  AcceleratorInput,
  EPS_LOADS,
  EpsInput,
  signed16,
} from '../../../src/hal/serial/modbus-map.js';

/** Octets from hex ('01 03 00 0A'). */
const hex = (text: string): Uint8Array =>
  new Uint8Array(
    text
      .trim()
      .split(/\s+/)
      .map((h) => Number.parseInt(h, 16)),
  );
const toHex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');

/** A unit with ten holding registers 0..9, input register 1 = 0x1234, four coils; records writes. */
function fakeUnit() {
  const holding = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const coils = [true, false, true, true];
  const writes: string[] = [];
  const provider: ModbusUnitProvider = {
    holding: (address, count) =>
      address + count > holding.length
        ? modbusException(ModbusExceptionCode.illegalDataAddress)
        : holding.slice(address, address + count),
    inputs: (address, count) =>
      address + count > 2
        ? modbusException(ModbusExceptionCode.illegalDataAddress)
        : [0xabcd, 0x1234].slice(address, address + count),
    writeHolding(address, values) {
      if (address + values.length > holding.length)
        return modbusException(ModbusExceptionCode.illegalDataAddress);
      if (values.some((v) => v > 1000)) return modbusException(ModbusExceptionCode.illegalDataValue);
      holding.splice(address, values.length, ...values);
      writes.push(`holding ${address}: ${values.join(',')}`);
      return 'ok';
    },
    coils: (address, count) =>
      address + count > coils.length
        ? modbusException(ModbusExceptionCode.illegalDataAddress)
        : coils.slice(address, address + count),
    writeCoil(address, on) {
      if (address >= coils.length) return modbusException(ModbusExceptionCode.illegalDataAddress);
      coils[address] = on;
      writes.push(`coil ${address}: ${on}`);
      return 'ok';
    },
  };
  return { provider, holding, coils, writes };
}

function setup(options: Partial<ModbusSlaveOptions> = {}) {
  const unit1 = fakeUnit();
  const unit2 = fakeUnit();
  const sent: Uint8Array[] = [];
  const slave = new ModbusSlave({
    units: new Map([
      [1, unit1.provider],
      [2, unit2.provider],
    ]),
    send: (frame) => sent.push(frame),
    ...options,
  });
  /** Feeds hex, returns the responses as hex. */
  const ask = (request: string | Uint8Array): string[] =>
    slave.receive(typeof request === 'string' ? hex(request) : request).map(toHex);
  return { slave, sent, unit1, unit2, ask };
}

describe('RTU codec', () => {
  it('computes CRC-16/MODBUS', () => {
    expect(crc16Modbus(new TextEncoder().encode('123456789'))).toBe(0x4b37);
    expect(toHex(rtuFrame([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a]))).toBe('01 03 00 00 00 0A C5 CD');
  });
});

describe('ModbusSlave', () => {
  it('answers reads of holding and input registers, byte for byte', () => {
    const { ask, sent, slave } = setup();
    expect(ask('01 03 00 00 00 0A C5 CD')).toEqual([
      '01 03 14 00 00 00 01 00 02 00 03 00 04 00 05 00 06 00 07 00 08 00 09 CD 51',
    ]);
    expect(ask('01 04 00 01 00 01 60 0A')).toEqual(['01 04 02 12 34 B4 47']);
    expect(sent.map(toHex)).toEqual([
      '01 03 14 00 00 00 01 00 02 00 03 00 04 00 05 00 06 00 07 00 08 00 09 CD 51',
      '01 04 02 12 34 B4 47',
    ]);
    expect(slave.stats).toMatchObject({ requests: 2, responses: 2, crcErrors: 0, exceptions: 0 });
  });

  it('reads coils packed low bit first, and writes one', () => {
    const { ask, unit1 } = setup();
    expect(ask('01 01 00 00 00 04 3D C9')).toEqual(['01 01 01 0D 90 4D']);
    expect(ask('01 05 00 02 FF 00 2D FA')).toEqual(['01 05 00 02 FF 00 2D FA']);
    expect(unit1.writes).toEqual(['coil 2: true']);
    // 0x1234 is neither on (FF00) nor off (0000): illegal data value.
    expect(ask('01 05 00 00 12 34 C0 BD')).toEqual(['01 85 03 02 91']);
    expect(unit1.coils).toEqual([true, false, true, true]);
  });

  it('writes one and several holding registers (06, 16)', () => {
    const { ask, unit2, unit1 } = setup();
    expect(ask('02 06 00 00 01 F4 89 EE')).toEqual(['02 06 00 00 01 F4 89 EE']);
    expect(ask('02 10 00 00 00 02 04 01 F4 00 00 BC E5')).toEqual(['02 10 00 00 00 02 41 FB']);
    expect(unit2.writes).toEqual(['holding 0: 500', 'holding 0: 500,0']);
    expect(unit2.holding.slice(0, 2)).toEqual([500, 0]);
    expect(unit1.writes).toEqual([]);
    // A value the unit refuses: exception 03, nothing written.
    expect(ask(rtuFrame([2, 0x10, 0, 0, 0, 2, 4, 0, 7, 0x13, 0x88]))).toEqual([
      toHex(rtuFrame([2, 0x90, 3])),
    ]);
    expect(unit2.holding.slice(0, 2)).toEqual([500, 0]);
    // Byte count not twice the quantity: illegal data value.
    expect(ask(rtuFrame([2, 0x10, 0, 0, 0, 2, 2, 0, 7]))).toEqual([toHex(rtuFrame([2, 0x90, 3]))]);
  });

  it('answers exceptions: illegal function, address, value', () => {
    const { ask, slave } = setup();
    expect(ask(rtuFrame([1, 3, 0, 9, 0, 2]))).toEqual(['01 83 02 C0 F1']); // registers 9 and 10: 10 is not there
    expect(ask('01 04 00 00 00 7E 70 2A')).toEqual(['01 84 03 03 01']); // 126 registers: too many
    expect(ask(rtuFrame([1, 7]))).toEqual(['01 87 01 82 30']); // read exception status: not served
    expect(ask(rtuFrame([1, 2, 0, 0, 0, 1]))).toEqual([toHex(rtuFrame([1, 0x82, 1]))]); // discrete inputs
    expect(slave.stats.exceptions).toBe(4);
  });

  it('answers a unit without a function with exception 01, and a throwing provider with 04', () => {
    const sent: Uint8Array[] = [];
    const slave = new ModbusSlave({
      units: new Map<number, ModbusUnitProvider>([
        [
          2,
          {
            inputs: () => {
              throw new Error('sensor bus down');
            },
          },
        ],
      ]),
      send: (f) => sent.push(f),
    });
    expect(slave.receive(hex('02 04 00 00 00 01 31 F9')).map(toHex)).toEqual(['02 84 04 B2 C3']);
    expect(slave.receive(rtuFrame([2, 3, 0, 0, 0, 1])).map(toHex)).toEqual([toHex(rtuFrame([2, 0x83, 1]))]);
  });

  it('ignores requests for another unit', () => {
    const { ask, slave, unit1, unit2 } = setup();
    expect(ask(rtuFrame([7, 6, 0, 0, 0, 9]))).toEqual([]);
    expect(ask(rtuFrame([7, 3, 0, 0, 0, 1]))).toEqual([]);
    expect(unit1.writes.concat(unit2.writes)).toEqual([]);
    expect(slave.stats).toMatchObject({ requests: 0, responses: 0, ignored: 2, crcErrors: 0 });
    expect(slave.pending).toBe(0);
  });

  it('applies a broadcast write to every unit without answering', () => {
    const { ask, unit1, unit2 } = setup();
    expect(ask(rtuFrame([0, 6, 0, 3, 0, 42]))).toEqual([]);
    expect(unit1.holding[3]).toBe(42);
    expect(unit2.holding[3]).toBe(42);
  });

  it('drops a frame with a bad CRC silently and counts it', () => {
    const { ask, slave, unit1 } = setup();
    expect(ask('01 05 00 02 FF 00 2D FB')).toEqual([]);
    expect(unit1.writes).toEqual([]);
    expect(slave.stats.crcErrors).toBe(1);
    expect(slave.stats.requests).toBe(0);
    // The next good request is answered.
    expect(ask('01 04 00 01 00 01 60 0A')).toEqual(['01 04 02 12 34 B4 47']);
    expect(slave.stats.crcErrors).toBe(1);
  });

  it('resynchronises after garbage', () => {
    const { ask, slave } = setup();
    expect(ask('AA 01 03 FF 00 17 01 04 00 01 00 01 60 0A')).toEqual(['01 04 02 12 34 B4 47']);
    expect(slave.stats.crcErrors).toBe(1);
    expect(slave.stats.droppedBytes).toBe(6);
    expect(slave.pending).toBe(0);
    // Garbage with a function it does not size, then two requests in one chunk.
    const two = new Uint8Array([
      ...hex('05 42 99'),
      ...hex('01 04 00 01 00 01 60 0A'),
      ...hex('01 01 00 00 00 04 3D C9'),
    ]);
    expect(ask(two)).toEqual(['01 04 02 12 34 B4 47', '01 01 01 0D 90 4D']);
    expect(slave.stats.crcErrors).toBe(2);
  });

  it('reassembles requests split across chunks, one octet at a time', () => {
    const { slave } = setup();
    const request = hex('02 10 00 00 00 02 04 01 F4 00 00 BC E5');
    const responses = Array.from(request).flatMap((b) => slave.receive(new Uint8Array([b])).map(toHex));
    expect(responses).toEqual(['02 10 00 00 00 02 41 FB']);
    const unknown = rtuFrame([1, 0x2b, 0x0e, 1, 0]);
    expect(slave.receive(unknown.subarray(0, 3))).toEqual([]);
    expect(slave.receive(unknown.subarray(3)).map(toHex)).toEqual([toHex(rtuFrame([1, 0xab, 1]))]);
  });

  it('plays dead, and corrupts every nth response', () => {
    const dead = setup({ respond: false });
    expect(dead.ask('01 05 00 02 FF 00 2D FA')).toEqual([]);
    expect(dead.unit1.writes).toEqual([]);
    expect(dead.slave.stats).toMatchObject({ requests: 1, responses: 0 });
    dead.slave.respond = true;
    expect(dead.ask('01 04 00 01 00 01 60 0A')).toEqual(['01 04 02 12 34 B4 47']);

    const noisy = setup({ corruptEvery: 2 });
    const answers = [1, 2, 3, 4].map(() => noisy.ask('01 04 00 01 00 01 60 0A')[0]);
    expect(answers).toEqual([
      '01 04 02 12 34 B4 47',
      '01 04 02 12 34 B4 B8',
      '01 04 02 12 34 B4 47',
      '01 04 02 12 34 B4 B8',
    ]);
    expect(noisy.slave.stats).toMatchObject({ responses: 4, corrupted: 2 });
  });
});

describe('plantModbusDevices', () => {
  const read = (
    provider: ModbusUnitProvider,
    which: 'inputs' | 'holding',
    address: number,
    count: number,
  ) => {
    const result = provider[which]?.(address, count);
    if (result === undefined || isModbusException(result))
      throw new Error(`read failed: ${JSON.stringify(result)}`);
    return result;
  };

  it('serves the plant state in the map units', () => {
    const plant = new Plant(exampleNode());
    plant.step(60, plantModbusDevices(plant).inputs());
    const devices = plantModbusDevices(plant);
    const s = plant.state;
    const eps = read(devices.eps, 'inputs', 0, 10);
    expect(eps[EpsInput.batteryCentivolts]).toBe(Math.round(s.batteryVolts * 100));
    expect(signed16(eps[EpsInput.batteryCentiamps] as number)).toBe(Math.round(s.batteryAmps * 100));
    expect(eps[EpsInput.socPermille]).toBe(Math.round(s.soc * 1000));
    expect(signed16(eps[EpsInput.batteryDecicelsius] as number)).toBe(Math.round(s.coldPlateC * 10));
    expect(eps[EpsInput.solarDeciwatts]).toBe(Math.round(s.solarW * 10));
    expect(eps[EpsInput.busCentiamps]).toBe(Math.round((s.busW / s.busVolts) * 100));
    const acc = read(devices.accelerator, 'inputs', 0, 10);
    expect(signed16(acc[AcceleratorInput.junctionCenticelsius] as number) / 100).toBeCloseTo(s.junctionC, 2);
    expect(acc[AcceleratorInput.deciwatts]).toBe(Math.round(s.acceleratorW * 10));
    expect(acc[AcceleratorInput.status]).toBe(1);
    const p = plant.params.accelerator;
    expect(acc.slice(6)).toEqual([p.minPowerCapW * 10, Math.round(maxPowerW(p) * 10), p.minMHz, p.maxMHz]);
    expect(read(devices.accelerator, 'holding', 0, 2)).toEqual([Math.round(maxPowerW(p) * 10), 0]);
    expect(devices.eps.coils?.(0, 4)).toEqual([true, true, true, true]);
    expect(devices.eps.inputs?.(5, 6)).toEqual({ exception: 2 });
    expect(devices.accelerator.writeHolding?.(1, [0, 0])).toEqual({ exception: 2 });
  });

  it('turns writes into plant inputs', () => {
    const plant = new Plant(exampleNode());
    const devices = plantModbusDevices(plant);
    const p = plant.params.accelerator;
    expect(
      devices.accelerator.writeHolding?.(AcceleratorHolding.capDeciwatts, [p.minPowerCapW * 10 - 1]),
    ).toEqual({
      exception: 3,
    });
    expect(devices.accelerator.writeHolding?.(0, [p.minPowerCapW * 10 + 5, p.minMHz])).toBe('ok');
    expect(devices.inputs()).toMatchObject({
      powerCapW: p.minPowerCapW + 0.5,
      frequencyCeilingMHz: p.minMHz,
    });
    expect(devices.accelerator.writeHolding?.(1, [0])).toBe('ok');
    expect('frequencyCeilingMHz' in devices.inputs()).toBe(false);
    expect(devices.eps.writeCoil?.(EPS_LOADS.indexOf('camera'), false)).toBe('ok');
    expect(devices.inputs().loads?.camera).toBe(false);
    expect(devices.eps.writeCoil?.(EPS_LOADS.indexOf('accelerator'), false)).toBe('ok');
    expect(devices.inputs().acceleratorOn).toBe(false);
    expect(devices.accelerator.writeHolding?.(0, [p.minPowerCapW * 10])).toEqual({ exception: 4 });
    expect(devices.eps.writeCoil?.(3, true)).toBe('ok');
    expect(devices.inputs()).toMatchObject({ acceleratorOn: true, powerCapW: maxPowerW(p) });
    expect(devices.eps.writeCoil?.(4, true)).toEqual({ exception: 2 });
  });

  it('sticks, biases and fails register blocks', () => {
    const plant = new Plant(exampleNode());
    const devices = plantModbusDevices(plant);
    const junction = () => signed16(read(devices.accelerator, 'inputs', 0, 1)[0] as number) / 100;
    const before = junction();
    devices.bias('junction', 5);
    expect(junction()).toBeCloseTo(before + 5, 2);
    devices.stick('junction');
    plant.step(120, devices.inputs());
    expect(plant.state.junctionC).not.toBeCloseTo(before, 1);
    expect(junction()).toBeCloseTo(before, 2);
    devices.heal('junction');
    expect(junction()).toBeCloseTo(plant.state.junctionC, 2);

    devices.fail('battery');
    expect(devices.eps.inputs?.(0, 10)).toEqual({ exception: 4 });
    expect(devices.eps.inputs?.(3, 1)).toEqual({ exception: 4 });
    expect(read(devices.eps, 'inputs', 4, 6)).toHaveLength(6);
    // Solar bias: a fraction of the array's power (its current with it), as the scenarios give it.
    devices.bias('solar', 0.1);
    const s = plant.state;
    expect(read(devices.eps, 'inputs', EpsInput.solarCentiamps, 2)).toEqual([
      Math.round(((s.solarW * 1.1) / s.busVolts) * 100),
      Math.round(s.solarW * 1.1 * 10),
    ]);
    // Battery bias: a fraction of the state of charge; the battery's temperature is untouched.
    devices.heal('battery');
    devices.bias('battery', -0.25);
    const battery = read(devices.eps, 'inputs', 0, 4);
    expect(battery[EpsInput.socPermille]).toBe(Math.round(s.soc * 0.75 * 1000));
    expect(signed16(battery[EpsInput.batteryDecicelsius] as number)).toBe(Math.round(s.coldPlateC * 10));
  });
});
