import { renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hwmonPowerMonitor, hwmonTemperature, listHwmon } from '../../../src/hal/linux/hwmon.js';
import { failingIo, fakeHal, fakeTree, setAttribute, type TreeEntry } from '../../support/sysfs.js';

/** An hwmon chip as the kernel lays it out: `/sys/class/hwmon/hwmonN` links to `<device>/hwmon/hwmonN`. */
function chip(
  n: number,
  device: string,
  attributes: Readonly<Record<string, string | number>>,
): Record<string, TreeEntry> {
  const entries: Record<string, TreeEntry> = {
    [`sys/class/hwmon/hwmon${n}`]: { link: `../../devices/${device}/hwmon/hwmon${n}` },
  };
  for (const [file, value] of Object.entries(attributes)) {
    entries[`sys/devices/${device}/hwmon/hwmon${n}/${file}`] = `${value}\n`;
  }
  return entries;
}

const ORIN_INA3221 = 'platform/bus@0/c240000.i2c/i2c-1/1-0040';

/** A Jetson Orin Nano developer kit: the fan, and the INA3221 on the module with its rails labelled. */
function orinNano(): string {
  return fakeTree({
    ...chip(0, 'platform/pwm-fan', { name: 'pwmfan', pwm1: 0, fan1_input: 0 }),
    ...chip(1, ORIN_INA3221, {
      name: 'ina3221',
      in1_label: 'VDD_IN',
      in1_input: 5080,
      in1_enable: 1,
      curr1_input: 1216,
      curr1_crit: 32760,
      in2_label: 'VDD_CPU_GPU_CV',
      in2_input: 5072,
      in2_enable: 1,
      curr2_input: 320,
      in3_label: 'VDD_SOC',
      in3_input: 5064,
      in3_enable: 1,
      curr3_input: 736,
      // The shunt voltages carry their channel's label too.
      in4_label: 'VDD_IN',
      in4_input: 6,
      in5_label: 'VDD_CPU_GPU_CV',
      in5_input: 2,
      in6_label: 'VDD_SOC',
      in6_input: 4,
      in7_label: 'sum of shunt voltages',
      in7_input: 12,
      update_interval: 1100,
    }),
  });
}

/** A custom bus board: two INA226 (battery bus at 0x40, payload at 0x41) that probed in reverse order. */
function twoIna226Entries(): Record<string, TreeEntry> {
  const ina226 = (busMilliV: number, milliA: number, microW: number) => ({
    name: 'ina226',
    in0_input: 1,
    in1_input: busMilliV,
    curr1_input: milliA,
    power1_input: microW,
    shunt_resistor: 2000,
  });
  return {
    ...chip(0, 'platform/soc/fe804000.i2c/i2c-1/1-0048', { name: 'lm75', temp1_input: 31500 }),
    ...chip(2, 'platform/soc/fe804000.i2c/i2c-1/1-0041', ina226(11980, 2400, 28750000)),
    ...chip(3, 'platform/soc/fe804000.i2c/i2c-1/1-0040', ina226(12024, 1500, 18036000)),
  };
}

function twoIna226(): string {
  return fakeTree(twoIna226Entries());
}

describe('listHwmon', () => {
  it('lists a Jetson Orin Nano: chips by name, their device, channels and labels', async () => {
    const root = orinNano();
    const chips = await listHwmon(fakeHal(root));
    expect(chips.map((c) => [c.name, c.chip])).toEqual([
      ['hwmon0', 'pwmfan'],
      ['hwmon1', 'ina3221'],
    ]);
    const ina = chips[1];
    expect(ina?.path).toBe(join(root, 'sys/class/hwmon/hwmon1'));
    expect(ina?.device).toBe(`/sys/devices/${ORIN_INA3221}`);
    expect(ina?.channels).toEqual([
      { kind: 'curr', index: 1 },
      { kind: 'curr', index: 2 },
      { kind: 'curr', index: 3 },
      { kind: 'in', index: 1, label: 'VDD_IN' },
      { kind: 'in', index: 2, label: 'VDD_CPU_GPU_CV' },
      { kind: 'in', index: 3, label: 'VDD_SOC' },
      { kind: 'in', index: 4, label: 'VDD_IN' },
      { kind: 'in', index: 5, label: 'VDD_CPU_GPU_CV' },
      { kind: 'in', index: 6, label: 'VDD_SOC' },
      { kind: 'in', index: 7, label: 'sum of shunt voltages' },
    ]);
    expect(chips[0]?.channels).toEqual([]);
  });

  it('lists power and temperature channels, and copes with entries that are not links', async () => {
    const root = fakeTree({
      ...twoIna226Entries(),
      'sys/class/hwmon/hwmon9/name': 'nvme\n',
      'sys/class/hwmon/hwmon9/temp1_input': '38850\n',
      'sys/class/hwmon/hwmon9/temp1_label': 'Composite\n',
    });
    const chips = await listHwmon(fakeHal(root));
    expect(chips.map((c) => `${c.name} ${c.chip} ${c.device ?? '-'}`)).toEqual([
      'hwmon0 lm75 /sys/devices/platform/soc/fe804000.i2c/i2c-1/1-0048',
      'hwmon2 ina226 /sys/devices/platform/soc/fe804000.i2c/i2c-1/1-0041',
      'hwmon3 ina226 /sys/devices/platform/soc/fe804000.i2c/i2c-1/1-0040',
      'hwmon9 nvme -',
    ]);
    expect(chips[1]?.channels).toEqual([
      { kind: 'curr', index: 1 },
      { kind: 'in', index: 0 },
      { kind: 'in', index: 1 },
      { kind: 'power', index: 1 },
    ]);
    expect(chips[3]?.channels).toEqual([{ kind: 'temp', index: 1, label: 'Composite' }]);
  });

  it('is empty without an hwmon class', async () => {
    expect(await listHwmon(fakeHal(fakeTree({ 'sys/.keep': '' })))).toEqual([]);
  });
});

describe('hwmonPowerMonitor', () => {
  it('reads an INA3221 channel: millivolts and milliamps, watts computed (no power file)', async () => {
    const hal = fakeHal(orinNano());
    const rail = hwmonPowerMonitor(hal, { chip: 'ina3221' });
    const reading = await rail.read();
    expect(reading).toMatchObject({ quality: 'ok', value: { volts: 5.08, amps: 1.216 }, time: hal.now() });
    expect(reading.value?.watts).toBeCloseTo(5.08 * 1.216, 9);
    expect(rail.info).toEqual({ source: 'hwmon1 ina3221', driver: 'hwmon' });
  });

  it('selects an INA3221 rail by label, preferring the bus channel over the shunt channel of that label', async () => {
    const hal = fakeHal(orinNano());
    const cpuGpu = hwmonPowerMonitor(hal, { chip: 'ina3221', label: 'VDD_CPU_GPU_CV' });
    expect((await cpuGpu.read()).value).toMatchObject({ volts: 5.072, amps: 0.32 });
    expect(cpuGpu.info.source).toBe('hwmon1 ina3221 channel 2 (VDD_CPU_GPU_CV)');
    const soc = hwmonPowerMonitor(hal, { chip: 'ina3221', label: 'VDD_SOC' });
    expect((await soc.read()).value).toMatchObject({ volts: 5.064, amps: 0.736 });
    const vin = hwmonPowerMonitor(hal, { chip: 'ina3221', label: 'VDD_IN' });
    expect((await vin.read()).value).toMatchObject({ volts: 5.08, amps: 1.216 });
  });

  it('selects an INA3221 rail by channel number', async () => {
    const hal = fakeHal(orinNano());
    const soc = hwmonPowerMonitor(hal, { chip: 'ina3221', channel: 3 });
    expect((await soc.read()).value).toMatchObject({ volts: 5.064, amps: 0.736 });
    expect(soc.info.source).toBe('hwmon1 ina3221 channel 3');
  });

  it('reads an INA226: bus voltage from in1 (not the shunt in0), microwatts from power1', async () => {
    const hal = fakeHal(twoIna226());
    const bus = hwmonPowerMonitor(hal, { chip: 'ina226' });
    expect(await bus.read()).toEqual({
      quality: 'ok',
      value: { volts: 12.024, amps: 1.5, watts: 18.036 },
      time: hal.now(),
    });
  });

  it('tells two chips of one name apart by device address, not by the hwmonN number', async () => {
    const hal = fakeHal(twoIna226());
    const first = hwmonPowerMonitor(hal, { chip: 'ina226', index: 0 });
    const second = hwmonPowerMonitor(hal, { chip: 'ina226', index: 1 });
    expect((await first.read()).value).toEqual({ volts: 12.024, amps: 1.5, watts: 18.036 });
    expect(first.info.source).toBe('hwmon3 ina226');
    expect((await second.read()).value).toEqual({ volts: 11.98, amps: 2.4, watts: 28.75 });
    expect(second.info.source).toBe('hwmon2 ina226');
  });

  it('keeps the sign of a bidirectional current (charging through the shunt)', async () => {
    const root = twoIna226();
    setAttribute(
      root,
      'sys/devices/platform/soc/fe804000.i2c/i2c-1/1-0040/hwmon/hwmon3/curr1_input',
      '-2000\n',
    );
    const reading = await hwmonPowerMonitor(fakeHal(root), { chip: 'ina226' }).read();
    expect(reading).toMatchObject({ quality: 'ok', value: { amps: -2 } });
  });

  it('computes amps from watts over volts where the chip has a power file but no current file', async () => {
    const root = fakeTree(
      chip(4, 'platform/i2c-3/3-0045', { name: 'ina260', in1_input: 24000, power1_input: 12e6 }),
    );
    expect((await hwmonPowerMonitor(fakeHal(root), { chip: 'ina260' }).read()).value).toEqual({
      volts: 24,
      amps: 0.5,
      watts: 12,
    });
  });

  it('finds the chip again when it comes back under another hwmonN', async () => {
    const root = orinNano();
    const hal = fakeHal(root);
    const rail = hwmonPowerMonitor(hal, { chip: 'ina3221', label: 'VDD_IN' });
    expect((await rail.read()).quality).toBe('ok');
    const deviceDir = join(root, 'sys/devices', ORIN_INA3221, 'hwmon');
    rmSync(join(root, 'sys/class/hwmon/hwmon1'));
    renameSync(join(deviceDir, 'hwmon1'), join(deviceDir, 'hwmon4'));
    symlinkSync(`../../devices/${ORIN_INA3221}/hwmon/hwmon4`, join(root, 'sys/class/hwmon/hwmon4'));
    hal.advance(1000);
    expect(await rail.read()).toMatchObject({ quality: 'ok', value: { volts: 5.08 }, time: hal.now() });
    expect(rail.info.source).toBe('hwmon4 ina3221 channel 1 (VDD_IN)');
  });

  it('fails, naming what is there, for a missing chip, index or label', async () => {
    const hal = fakeHal(twoIna226());
    const missing = await hwmonPowerMonitor(hal, { chip: 'ina3221' }).read();
    expect(missing.quality).toBe('failed');
    expect(missing.quality === 'failed' && missing.error).toContain("no hwmon chip named 'ina3221'");
    expect(missing.quality === 'failed' && missing.error).toContain('hwmon2 ina226, hwmon3 ina226');
    expect(missing.quality === 'failed' && missing.error).toContain('driver is loaded');

    const third = await hwmonPowerMonitor(hal, { chip: 'ina226', index: 2 }).read();
    expect(third.quality === 'failed' && third.error).toContain("only 2 chip(s) named 'ina226', no index 2");

    const label = await hwmonPowerMonitor(fakeHal(orinNano()), { chip: 'ina3221', label: 'VDD_GPU' }).read();
    expect(label.quality === 'failed' && label.error).toContain("has no channel labelled 'VDD_GPU'");
    expect(label.quality === 'failed' && label.error).toContain(
      'in1 VDD_IN, in2 VDD_CPU_GPU_CV, in3 VDD_SOC',
    );
  });

  it('fails for a channel the chip does not have', async () => {
    const hal = fakeHal(orinNano());
    const absent = await hwmonPowerMonitor(hal, { chip: 'ina3221', channel: 9 }).read();
    expect(absent.quality === 'failed' && absent.error).toContain('hwmon1 ina3221 has no readable in9_input');
    // in4 exists (a shunt voltage) but has no current or power beside it.
    const shunt = await hwmonPowerMonitor(hal, { chip: 'ina3221', channel: 4 }).read();
    expect(shunt.quality === 'failed' && shunt.error).toContain('neither curr4_input nor power4_input');
  });

  it('holds the last good sample as stale through an EIO on the bus, then fails, then recovers', async () => {
    const io = failingIo();
    const hal = fakeHal(orinNano(), io);
    const rail = hwmonPowerMonitor(hal, { chip: 'ina3221', label: 'VDD_IN' });
    const goodTime = hal.now();
    expect((await rail.read()).quality).toBe('ok');
    io.fail('hwmon1/curr1_input');
    hal.advance(3000);
    const stale = await rail.read();
    expect(stale).toMatchObject({ quality: 'stale', value: { volts: 5.08, amps: 1.216 }, time: goodTime });
    expect(stale.quality === 'stale' && stale.error).toMatch(/^EIO/);
    hal.advance(3000);
    expect(await rail.read()).toMatchObject({ quality: 'failed', time: hal.now() });
    io.heal('hwmon1/curr1_input');
    expect(await rail.read()).toMatchObject({ quality: 'ok', time: hal.now() });
  });

  it('grades an overflowing or implausible sample out of range', async () => {
    const root = twoIna226();
    const dir = 'sys/devices/platform/soc/fe804000.i2c/i2c-1/1-0040/hwmon/hwmon3';
    const bus = hwmonPowerMonitor(fakeHal(root), { chip: 'ina226' });
    setAttribute(root, `${dir}/curr1_input`, '81918\n');
    const overflow = await bus.read();
    expect(overflow).toMatchObject({ quality: 'outOfRange', value: { amps: 81.918 } });
    expect(overflow.quality === 'outOfRange' && overflow.error).toContain('-50..50 A');
    setAttribute(root, `${dir}/curr1_input`, '1500\n');
    setAttribute(root, `${dir}/in1_input`, '81918\n');
    expect(await bus.read()).toMatchObject({ quality: 'outOfRange', value: { volts: 81.918 } });
  });

  it('handles garbage in an attribute without throwing', async () => {
    const root = twoIna226();
    const dir = 'sys/devices/platform/soc/fe804000.i2c/i2c-1/1-0040/hwmon/hwmon3';
    setAttribute(root, `${dir}/in1_input`, '12.0V\n');
    const bus = hwmonPowerMonitor(fakeHal(root), { chip: 'ina226' });
    const reading = await bus.read();
    expect(reading.quality === 'failed' && reading.error).toContain('expected an integer');
    setAttribute(root, `${dir}/in1_input`, '12024\n');
    setAttribute(root, `${dir}/power1_input`, '\n');
    expect((await bus.read()).quality).toBe('failed');
  });
});

describe('hwmonTemperature', () => {
  const tree = () =>
    fakeTree({
      ...twoIna226Entries(),
      ...chip(5, 'pci0000:00/0000:00:1d.0/0000:03:00.0/nvme/nvme0', {
        name: 'nvme',
        temp1_input: 38850,
        temp1_label: 'Composite',
        temp2_input: 41850,
        temp2_label: 'Sensor 1',
      }),
    });

  it('reads tempN_input millidegrees as degrees Celsius', async () => {
    const hal = fakeHal(tree());
    const lm75 = hwmonTemperature(hal, { chip: 'lm75' });
    expect(await lm75.read()).toEqual({ quality: 'ok', value: 31.5, time: hal.now() });
    expect(lm75.info).toEqual({ source: 'hwmon0 lm75', driver: 'hwmon' });
    expect((await hwmonTemperature(hal, { chip: 'nvme', channel: 2 }).read()).value).toBe(41.85);
    expect((await hwmonTemperature(hal, { chip: 'nvme', label: 'Composite' }).read()).value).toBe(38.85);
  });

  it('fails for a missing chip or channel, and grades implausible values out of range', async () => {
    const root = tree();
    const hal = fakeHal(root);
    expect((await hwmonTemperature(hal, { chip: 'k10temp' }).read()).quality).toBe('failed');
    const noChannel = await hwmonTemperature(hal, { chip: 'lm75', channel: 3 }).read();
    expect(noChannel.quality === 'failed' && noChannel.error).toContain('no readable temp3_input');
    setAttribute(
      root,
      'sys/devices/platform/soc/fe804000.i2c/i2c-1/1-0048/hwmon/hwmon0/temp1_input',
      '-273150\n',
    );
    expect(await hwmonTemperature(hal, { chip: 'lm75' }).read()).toMatchObject({
      quality: 'outOfRange',
      value: -273.15,
    });
  });

  it('holds the last good value as stale through an EIO', async () => {
    const io = failingIo();
    const hal = fakeHal(tree(), io);
    const lm75 = hwmonTemperature(hal, { chip: 'lm75' });
    await lm75.read();
    io.fail('hwmon0/temp1_input');
    hal.advance(5000);
    expect(await lm75.read()).toMatchObject({ quality: 'stale', value: 31.5 });
    hal.advance(1);
    expect((await lm75.read()).quality).toBe('failed');
  });
});
