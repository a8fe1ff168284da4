import { readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  coolingDevice,
  listCoolingDevices,
  listThermalZones,
  thermalZone,
} from '../../../src/hal/linux/thermal.js';
import { failingIo, fakeHal, fakeTree, setAttribute, type TreeEntry } from '../../support/sysfs.js';

/** A thermal zone as the kernel lays it out: a class link to a virtual device, attributes ending in newlines. */
function zone(n: number, attributes: Readonly<Record<string, string | number>>): Record<string, TreeEntry> {
  const entries: Record<string, TreeEntry> = {
    [`sys/class/thermal/thermal_zone${n}`]: { link: `../../devices/virtual/thermal/thermal_zone${n}` },
  };
  for (const [file, value] of Object.entries(attributes)) {
    entries[`sys/devices/virtual/thermal/thermal_zone${n}/${file}`] = `${value}\n`;
  }
  return entries;
}

function cooling(
  n: number,
  attributes: Readonly<Record<string, string | number>>,
): Record<string, TreeEntry> {
  const entries: Record<string, TreeEntry> = {
    [`sys/class/thermal/cooling_device${n}`]: { link: `../../devices/virtual/thermal/cooling_device${n}` },
  };
  for (const [file, value] of Object.entries(attributes)) {
    entries[`sys/devices/virtual/thermal/cooling_device${n}/${file}`] = `${value}\n`;
  }
  return entries;
}

/** A Raspberry Pi 5: one SoC zone with a critical trip and four fan steps, and the PWM fan as cooling device. */
function raspberryPi5(): string {
  return fakeTree({
    ...zone(0, {
      type: 'cpu-thermal',
      temp: 52650,
      mode: 'enabled',
      policy: 'step_wise',
      trip_point_0_temp: 110000,
      trip_point_0_type: 'critical',
      trip_point_0_hyst: 0,
      trip_point_1_temp: 50000,
      trip_point_1_type: 'active',
      trip_point_1_hyst: 5000,
      trip_point_2_temp: 60000,
      trip_point_2_type: 'active',
      trip_point_2_hyst: 5000,
      trip_point_3_temp: 67500,
      trip_point_3_type: 'active',
      trip_point_3_hyst: 5000,
      trip_point_4_temp: 75000,
      trip_point_4_type: 'active',
      trip_point_4_hyst: 5000,
    }),
    ...cooling(0, { type: 'pwm-fan', cur_state: 1, max_state: 4 }),
  });
}

/** A Jetson Orin Nano's zones (numbered differently from one L4T release to the next) and an x86 laptop's. */
function orinNano(): string {
  return fakeTree({
    ...zone(0, { type: 'cpu-thermal', temp: 48406 }),
    ...zone(1, { type: 'gpu-thermal', temp: 47218 }),
    ...zone(2, { type: 'cv0-thermal', temp: -256000 }),
    ...zone(3, { type: 'soc0-thermal', temp: 48968 }),
    ...zone(4, { type: 'tj-thermal', temp: 49187, trip_point_0_temp: 99000, trip_point_0_type: 'passive' }),
    ...zone(10, { type: 'acpitz', temp: 27800 }),
    ...zone(11, { type: 'acpitz', temp: 29800 }),
  });
}

describe('listThermalZones', () => {
  it('lists the zones of a Raspberry Pi 5 with their types, leaving out the cooling devices', async () => {
    const root = raspberryPi5();
    expect(await listThermalZones(fakeHal(root))).toEqual([
      { name: 'thermal_zone0', type: 'cpu-thermal', path: join(root, 'sys/class/thermal/thermal_zone0') },
    ]);
  });

  it('orders zones naturally (thermal_zone4 before thermal_zone10)', async () => {
    const zones = await listThermalZones(fakeHal(orinNano()));
    expect(zones.map((z) => `${z.name}:${z.type}`)).toEqual([
      'thermal_zone0:cpu-thermal',
      'thermal_zone1:gpu-thermal',
      'thermal_zone2:cv0-thermal',
      'thermal_zone3:soc0-thermal',
      'thermal_zone4:tj-thermal',
      'thermal_zone10:acpitz',
      'thermal_zone11:acpitz',
    ]);
  });

  it('is empty on a machine without a thermal class', async () => {
    expect(await listThermalZones(fakeHal(fakeTree({ 'sys/class/hwmon/.keep': '' })))).toEqual([]);
  });
});

describe('thermalZone', () => {
  it('reads millidegrees as degrees Celsius, stamped with mission time', async () => {
    const hal = fakeHal(raspberryPi5());
    const sensor = thermalZone(hal, { zone: 'cpu-thermal' });
    expect(await sensor.read()).toEqual({ quality: 'ok', value: 52.65, time: hal.now() });
    expect(sensor.info).toEqual({ source: 'thermal_zone0 (cpu-thermal)', driver: 'thermal-zone' });
  });

  it('selects by directory name, by type and by index among zones of one type', async () => {
    const hal = fakeHal(orinNano());
    expect((await thermalZone(hal, { zone: 'thermal_zone3' }).read()).value).toBe(48.968);
    expect((await thermalZone(hal, { zone: 'gpu-thermal' }).read()).value).toBe(47.218);
    expect((await thermalZone(hal, { zone: 'acpitz' }).read()).value).toBe(27.8);
    const second = thermalZone(hal, { zone: 'acpitz', index: 1 });
    expect((await second.read()).value).toBe(29.8);
    expect(second.info.source).toBe('thermal_zone11 (acpitz)');
  });

  it('follows the temperature as the kernel updates it', async () => {
    const root = raspberryPi5();
    const hal = fakeHal(root);
    const sensor = thermalZone(hal, { zone: 'cpu-thermal' });
    await sensor.read();
    setAttribute(root, 'sys/devices/virtual/thermal/thermal_zone0/temp', '61200\n');
    hal.advance(1000);
    expect(await sensor.read()).toEqual({ quality: 'ok', value: 61.2, time: hal.now() });
  });

  it('reads negative temperatures', async () => {
    const root = raspberryPi5();
    setAttribute(root, 'sys/devices/virtual/thermal/thermal_zone0/temp', '-12500\n');
    expect((await thermalZone(fakeHal(root), { zone: 'cpu-thermal' }).read()).value).toBe(-12.5);
  });

  it('does not throw at construction for a missing zone; reads fail naming it and what is there', async () => {
    const hal = fakeHal(raspberryPi5());
    const sensor = thermalZone(hal, { zone: 'GPU-therm' });
    expect(sensor.info.source).toBe('GPU-therm');
    const reading = await sensor.read();
    expect(reading.quality).toBe('failed');
    if (reading.quality !== 'failed') return;
    expect(reading.error).toContain("thermal zone 'GPU-therm' not found");
    expect(reading.error).toContain('thermal_zone0 (cpu-thermal)');
    expect(reading.error).toContain("set the board's zone");
    expect(reading.time).toBe(hal.now());
  });

  it('fails for a missing directory name and for an index past the zones of that type', async () => {
    const hal = fakeHal(orinNano());
    expect((await thermalZone(hal, { zone: 'thermal_zone7' }).read()).quality).toBe('failed');
    const third = await thermalZone(hal, { zone: 'acpitz', index: 2 }).read();
    expect(third.quality === 'failed' && third.error).toContain("'acpitz [2]' not found");
  });

  it('fails when the class directory is absent (no thermal framework, a wrong --root)', async () => {
    const reading = await thermalZone(fakeHal(fakeTree({ 'sys/.keep': '' })), { zone: 'cpu-thermal' }).read();
    expect(reading.quality === 'failed' && reading.error).toContain('(zones: none)');
  });

  it('holds the last good value as stale through a transient EIO, then fails, then recovers', async () => {
    const root = raspberryPi5();
    const io = failingIo();
    const hal = fakeHal(root, io);
    const sensor = thermalZone(hal, { zone: 'cpu-thermal' });
    const goodTime = hal.now();
    expect((await sensor.read()).quality).toBe('ok');

    io.fail('thermal_zone0/temp');
    hal.advance(2000);
    const stale = await sensor.read();
    expect(stale).toMatchObject({ quality: 'stale', value: 52.65, time: goodTime });
    expect(stale.quality === 'stale' && stale.error).toMatch(/^EIO/);

    hal.advance(4000);
    const failed = await sensor.read();
    expect(failed).toMatchObject({ quality: 'failed', time: hal.now() });
    expect(failed.quality === 'failed' && failed.error).toMatch(/EIO/);

    io.heal();
    hal.advance(1000);
    expect(await sensor.read()).toEqual({ quality: 'ok', value: 52.65, time: hal.now() });
  });

  it('fails at once on an EIO with no good value before it', async () => {
    const io = failingIo();
    io.fail('thermal_zone0/temp');
    const reading = await thermalZone(fakeHal(raspberryPi5(), io), { zone: 'cpu-thermal' }).read();
    expect(reading.quality).toBe('failed');
  });

  it('grades a disconnected sensor (-273 degC, 255 degC) out of range and keeps the raw value', async () => {
    const root = raspberryPi5();
    const hal = fakeHal(root);
    const sensor = thermalZone(hal, { zone: 'cpu-thermal' });
    setAttribute(root, 'sys/devices/virtual/thermal/thermal_zone0/temp', '-273000\n');
    const cold = await sensor.read();
    expect(cold).toMatchObject({ quality: 'outOfRange', value: -273 });
    expect(cold.quality === 'outOfRange' && cold.error).toContain('-60..150');
    setAttribute(root, 'sys/devices/virtual/thermal/thermal_zone0/temp', '255000\n');
    expect(await sensor.read()).toMatchObject({ quality: 'outOfRange', value: 255 });
    expect(await thermalZone(fakeHal(orinNano()), { zone: 'cv0-thermal' }).read()).toMatchObject({
      quality: 'outOfRange',
      value: -256,
    });
  });

  it('handles garbage in the temp file without throwing', async () => {
    const root = raspberryPi5();
    const hal = fakeHal(root);
    const sensor = thermalZone(hal, { zone: 'cpu-thermal' });
    setAttribute(root, 'sys/devices/virtual/thermal/thermal_zone0/temp', 'N/A\n');
    const reading = await sensor.read();
    expect(reading.quality === 'failed' && reading.error).toContain('expected an integer');
    setAttribute(root, 'sys/devices/virtual/thermal/thermal_zone0/temp', '52.5\n');
    expect((await sensor.read()).quality).toBe('failed');
    setAttribute(root, 'sys/devices/virtual/thermal/thermal_zone0/temp', '');
    expect((await sensor.read()).quality).toBe('failed');
  });

  it('fails naming the attribute when a zone has no temp file', async () => {
    const root = raspberryPi5();
    rmSync(join(root, 'sys/devices/virtual/thermal/thermal_zone0/temp'));
    const reading = await thermalZone(fakeHal(root), { zone: 'cpu-thermal' }).read();
    expect(reading.quality === 'failed' && reading.error).toContain(
      "thermal_zone0 (cpu-thermal) has no readable 'temp'",
    );
  });

  it('finds a zone again when the kernel renumbers it (driver rebound)', async () => {
    const root = raspberryPi5();
    const hal = fakeHal(root);
    const sensor = thermalZone(hal, { zone: 'cpu-thermal' });
    expect((await sensor.read()).quality).toBe('ok');
    rmSync(join(root, 'sys/class/thermal/thermal_zone0'));
    renameSync(
      join(root, 'sys/devices/virtual/thermal/thermal_zone0'),
      join(root, 'sys/devices/virtual/thermal/thermal_zone5'),
    );
    symlinkSync('../../devices/virtual/thermal/thermal_zone5', join(root, 'sys/class/thermal/thermal_zone5'));
    hal.advance(1000);
    expect(await sensor.read()).toEqual({ quality: 'ok', value: 52.65, time: hal.now() });
    expect(sensor.info.source).toBe('thermal_zone5 (cpu-thermal)');
  });

  describe('trips', () => {
    it("reads the kernel's trip points in degrees, with hysteresis where given", async () => {
      const sensor = thermalZone(fakeHal(raspberryPi5()), { zone: 'cpu-thermal' });
      expect(await sensor.trips?.()).toEqual([
        { type: 'critical', celsius: 110, hysteresisC: 0 },
        { type: 'active', celsius: 50, hysteresisC: 5 },
        { type: 'active', celsius: 60, hysteresisC: 5 },
        { type: 'active', celsius: 67.5, hysteresisC: 5 },
        { type: 'active', celsius: 75, hysteresisC: 5 },
      ]);
    });

    it('leaves hysteresis out where the zone has no hyst file, and is empty for a zone with no trips', async () => {
      const hal = fakeHal(orinNano());
      expect(await thermalZone(hal, { zone: 'tj-thermal' }).trips?.()).toEqual([
        { type: 'passive', celsius: 99 },
      ]);
      expect(await thermalZone(hal, { zone: 'gpu-thermal' }).trips?.()).toEqual([]);
    });

    it('orders trips numerically past trip_point_9', async () => {
      const entries: Record<string, string | number> = { type: 'soc-thermal', temp: 40000 };
      for (let i = 0; i < 12; i++) {
        entries[`trip_point_${i}_temp`] = 50000 + i * 1000;
        entries[`trip_point_${i}_type`] = 'passive';
      }
      const trips = await thermalZone(fakeHal(fakeTree(zone(0, entries))), { zone: 'soc-thermal' }).trips?.();
      expect(trips?.map((trip) => trip.celsius)).toEqual([50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61]);
    });

    it('rejects with the reason when the zone is missing or a trip is unreadable', async () => {
      await expect(thermalZone(fakeHal(raspberryPi5()), { zone: 'nope' }).trips?.()).rejects.toThrow(
        "thermal zone 'nope' not found",
      );
      const root = raspberryPi5();
      setAttribute(root, 'sys/devices/virtual/thermal/thermal_zone0/trip_point_2_temp', 'garbage\n');
      await expect(thermalZone(fakeHal(root), { zone: 'cpu-thermal' }).trips?.()).rejects.toThrow(
        'expected an integer',
      );
    });
  });
});

describe('cooling devices', () => {
  const curState = (root: string) =>
    readFileSync(join(root, 'sys/devices/virtual/thermal/cooling_device0/cur_state'), 'utf8');

  it('lists cooling devices with their states', async () => {
    const root = raspberryPi5();
    expect(await listCoolingDevices(fakeHal(root))).toEqual([
      {
        name: 'cooling_device0',
        type: 'pwm-fan',
        path: join(root, 'sys/class/thermal/cooling_device0'),
        curState: 1,
        maxState: 4,
      },
    ]);
  });

  it('reads the state and its maximum, by type or by directory name', async () => {
    const hal = fakeHal(raspberryPi5());
    const fan = coolingDevice(hal, { device: 'pwm-fan' });
    expect(await fan.read()).toEqual({ quality: 'ok', value: { state: 1, maxState: 4 }, time: hal.now() });
    expect(fan.info).toEqual({ source: 'cooling_device0 (pwm-fan)', driver: 'thermal-cooling' });
    expect((await coolingDevice(hal, { device: 'cooling_device0' }).read()).value).toEqual({
      state: 1,
      maxState: 4,
    });
  });

  it('sets a state within 0..max_state and reads it back', async () => {
    const root = raspberryPi5();
    const hal = fakeHal(root);
    const fan = coolingDevice(hal, { device: 'pwm-fan' });
    expect(await fan.set(4)).toEqual({ ok: true });
    expect(curState(root).trim()).toBe('4');
    expect((await fan.read()).value).toEqual({ state: 4, maxState: 4 });
    expect(await fan.set(0)).toEqual({ ok: true });
    expect(curState(root).trim()).toBe('0');
  });

  it('refuses states outside 0..max_state and non-integers without writing', async () => {
    const root = raspberryPi5();
    const fan = coolingDevice(fakeHal(root), { device: 'pwm-fan' });
    for (const state of [5, -1, 1.5, Number.NaN]) {
      const result = await fan.set(state);
      expect(result.ok).toBe(false);
    }
    const tooHigh = await fan.set(5);
    expect(!tooHigh.ok && tooHigh.error).toBe(
      'cooling_device0 (pwm-fan): state 5 is outside 0..4 (max_state)',
    );
    expect(curState(root)).toBe('1\n');
  });

  it('reports write errors and a missing device as ok: false, never rejecting', async () => {
    const root = raspberryPi5();
    const io = failingIo();
    const fan = coolingDevice(fakeHal(root, io), { device: 'pwm-fan' });
    io.fail('cooling_device0/cur_state', 'EACCES');
    const denied = await fan.set(2);
    expect(!denied.ok && denied.error).toMatch(/^cooling_device0 \(pwm-fan\): EACCES/);
    expect(curState(root)).toBe('1\n');

    const missing = coolingDevice(fakeHal(root), { device: 'Processor' });
    const result = await missing.set(1);
    expect(!result.ok && result.error).toContain("cooling device 'Processor' not found");
    expect(!result.ok && result.error).toContain('cooling_device0 (pwm-fan)');
    expect((await missing.read()).quality).toBe('failed');
  });

  it('grades a state above max_state out of range, and garbage as failed', async () => {
    const root = raspberryPi5();
    const fan = coolingDevice(fakeHal(root), { device: 'pwm-fan' });
    setAttribute(root, 'sys/devices/virtual/thermal/cooling_device0/cur_state', '7\n');
    expect(await fan.read()).toMatchObject({ quality: 'outOfRange', value: { state: 7, maxState: 4 } });
    setAttribute(root, 'sys/devices/virtual/thermal/cooling_device0/max_state', 'x\n');
    expect((await fan.read()).quality).toBe('failed');
    expect((await fan.set(1)).ok).toBe(false);
  });

  it('holds the last state as stale through an EIO', async () => {
    const io = failingIo();
    const hal = fakeHal(raspberryPi5(), io);
    const fan = coolingDevice(hal, { device: 'pwm-fan' });
    await fan.read();
    io.fail('cooling_device0/cur_state');
    hal.advance(1000);
    expect(await fan.read()).toMatchObject({ quality: 'stale', value: { state: 1, maxState: 4 } });
    hal.advance(5000);
    expect((await fan.read()).quality).toBe('failed');
  });
});
