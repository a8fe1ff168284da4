import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  listPowerSupplies,
  powerSupplyBattery,
  powerSupplySolar,
} from '../../../src/hal/linux/power-supply.js';
import { failingIo, fakeHal, fakeTree, setAttribute, type TreeEntry } from '../../support/sysfs.js';

const AC_DEVICE = 'LNXSYSTM:00/LNXSYBUS:00/ACPI0003:00';
const BAT0_DEVICE = 'LNXSYSTM:00/LNXSYBUS:00/PNP0C0A:00';
const CHARGER_DEVICE = 'platform/soc/fe804000.i2c/i2c-1/1-006a';

/** A power supply as the kernel lays it out: a class link into the device's `power_supply/NAME`. */
function supply(
  name: string,
  device: string,
  attributes: Readonly<Record<string, string | number>>,
): Record<string, TreeEntry> {
  const entries: Record<string, TreeEntry> = {
    [`sys/class/power_supply/${name}`]: { link: `../../devices/${device}/power_supply/${name}` },
  };
  for (const [file, value] of Object.entries(attributes)) {
    entries[`sys/devices/${device}/power_supply/${name}/${file}`] = `${value}\n`;
  }
  return entries;
}

const bat0 = (file: string) => `sys/devices/${BAT0_DEVICE}/power_supply/BAT0/${file}`;

/** A laptop-like machine: ACPI battery (unsigned current while discharging) and AC adapter. */
function laptop(battery: Readonly<Record<string, string | number>> = {}): string {
  return fakeTree({
    ...supply('AC', AC_DEVICE, { type: 'Mains', online: 1 }),
    ...supply('BAT0', BAT0_DEVICE, {
      type: 'Battery',
      present: 1,
      status: 'Discharging',
      technology: 'Li-ion',
      capacity: 87,
      capacity_level: 'Normal',
      voltage_min_design: 11400000,
      voltage_now: 12345000,
      current_now: 1534000,
      charge_full_design: 4500000,
      charge_full: 4200000,
      charge_now: 3654000,
      model_name: '5B10W13930',
      ...battery,
    }),
  });
}

function withoutAttributes(
  entries: Record<string, string | number>,
  ...drop: string[]
): Record<string, string | number> {
  return Object.fromEntries(Object.entries(entries).filter(([key]) => !drop.includes(key)));
}

describe('listPowerSupplies', () => {
  it('lists a laptop: the AC adapter online, the battery present with its readings in SI units', async () => {
    const root = laptop({ temp: 291 });
    expect(await listPowerSupplies(fakeHal(root))).toEqual([
      {
        name: 'AC',
        type: 'Mains',
        path: join(root, 'sys/class/power_supply/AC'),
        online: true,
        readings: {},
      },
      {
        name: 'BAT0',
        type: 'Battery',
        path: join(root, 'sys/class/power_supply/BAT0'),
        present: true,
        readings: {
          status: 'Discharging',
          stateOfCharge: 0.87,
          volts: 12.345,
          amps: 1.534,
          celsius: 29.1,
        },
      },
    ]);
  });

  it('is empty without a power_supply class (a board powered from a bench supply)', async () => {
    expect(await listPowerSupplies(fakeHal(fakeTree({ 'sys/.keep': '' })))).toEqual([]);
  });
});

describe('powerSupplyBattery', () => {
  it('converts capacity percent, microvolts and microamps; discharge is negative whatever the driver sign', async () => {
    const hal = fakeHal(laptop());
    const battery = powerSupplyBattery(hal, { name: 'BAT0' });
    expect(await battery.read()).toEqual({
      quality: 'ok',
      value: { stateOfCharge: 0.87, volts: 12.345, amps: -1.534, status: 'discharging' },
      time: hal.now(),
    });
    expect(battery.info).toEqual({ source: 'power_supply BAT0', driver: 'power-supply' });
  });

  it('keeps discharge negative for a driver that already signs it, and charge positive either way', async () => {
    const hal = fakeHal(laptop({ current_now: -1534000 }));
    expect((await powerSupplyBattery(hal, { name: 'BAT0' }).read()).value?.amps).toBe(-1.534);
    const charging = laptop({ status: 'Charging', current_now: -2100000 });
    expect((await powerSupplyBattery(fakeHal(charging), { name: 'BAT0' }).read()).value).toMatchObject({
      amps: 2.1,
      status: 'charging',
    });
    const chargingPositive = laptop({ status: 'Charging', current_now: 2100000 });
    expect((await powerSupplyBattery(fakeHal(chargingPositive), { name: 'BAT0' }).read()).value?.amps).toBe(
      2.1,
    );
  });

  it('keeps the raw sign when the status does not settle it, flipped by invertCurrent', async () => {
    const root = laptop({ status: 'Unknown', current_now: 500000 });
    expect((await powerSupplyBattery(fakeHal(root), { name: 'BAT0' }).read()).value).toMatchObject({
      amps: 0.5,
      status: 'unknown',
    });
    expect(
      (await powerSupplyBattery(fakeHal(root), { name: 'BAT0', invertCurrent: true }).read()).value?.amps,
    ).toBe(-0.5);
  });

  it('maps every kernel status string', async () => {
    const root = laptop();
    const battery = powerSupplyBattery(fakeHal(root), { name: 'BAT0' });
    const statuses: Array<[string, string]> = [
      ['Charging', 'charging'],
      ['Discharging', 'discharging'],
      ['Full', 'full'],
      ['Not charging', 'not-charging'],
      ['Unknown', 'unknown'],
      ['Something new', 'unknown'],
    ];
    for (const [kernel, ours] of statuses) {
      setAttribute(root, bat0('status'), `${kernel}\n`);
      expect((await battery.read()).value?.status).toBe(ours);
    }
  });

  it('gives zero current, not minus zero, for an idle battery', async () => {
    const root = laptop({ current_now: 0 });
    expect(Object.is((await powerSupplyBattery(fakeHal(root), { name: 'BAT0' }).read()).value?.amps, 0)).toBe(
      true,
    );
  });

  it('computes amps from power_now over voltage where there is no current_now', async () => {
    const root = fakeTree(
      supply('BAT0', BAT0_DEVICE, {
        type: 'Battery',
        present: 1,
        status: 'Discharging',
        capacity: 64,
        voltage_now: 12600000,
        power_now: 18900000,
        energy_full: 50000000,
        energy_now: 32000000,
      }),
    );
    expect((await powerSupplyBattery(fakeHal(root), { name: 'BAT0' }).read()).value).toEqual({
      stateOfCharge: 0.64,
      volts: 12.6,
      amps: -1.5,
      status: 'discharging',
    });
  });

  it('computes state of charge from energy_now/energy_full, or charge_now/charge_full, without capacity', async () => {
    const energy = fakeTree(
      supply('BAT0', BAT0_DEVICE, {
        type: 'Battery',
        status: 'Discharging',
        voltage_now: 12000000,
        current_now: 1000000,
        energy_full: 45000000,
        energy_now: 30000000,
      }),
    );
    expect(
      (await powerSupplyBattery(fakeHal(energy), { name: 'BAT0' }).read()).value?.stateOfCharge,
    ).toBeCloseTo(2 / 3, 12);
    const charge = laptop();
    const root = fakeTree(
      supply('BAT1', BAT0_DEVICE, withoutAttributes({ type: 'Battery', ...gaugeAttributes() }, 'capacity')),
      charge,
    );
    expect(
      (await powerSupplyBattery(fakeHal(root), { name: 'BAT1' }).read()).value?.stateOfCharge,
    ).toBeCloseTo(3654000 / 4200000, 12);
  });

  it('treats a small overshoot of energy_full after a charge as full, and a large one as out of range', async () => {
    const root = fakeTree(
      supply('BAT0', BAT0_DEVICE, {
        type: 'Battery',
        status: 'Full',
        voltage_now: 12600000,
        current_now: 0,
        energy_full: 40000000,
        energy_now: 41200000,
      }),
    );
    const hal = fakeHal(root);
    const battery = powerSupplyBattery(hal, { name: 'BAT0' });
    expect(await battery.read()).toMatchObject({
      quality: 'ok',
      value: { stateOfCharge: 1, status: 'full' },
    });
    setAttribute(root, `sys/devices/${BAT0_DEVICE}/power_supply/BAT0/energy_now`, '80000000\n');
    expect(await battery.read()).toMatchObject({ quality: 'outOfRange', value: { stateOfCharge: 2 } });
    setAttribute(root, `sys/devices/${BAT0_DEVICE}/power_supply/BAT0/energy_full`, '0\n');
    hal.advance(10_000);
    const unlearnt = await battery.read();
    expect(unlearnt.quality === 'failed' && unlearnt.error).toContain('energy_full is 0');
  });

  it('reads temp in tenths of a degree', async () => {
    const reading = await powerSupplyBattery(fakeHal(laptop({ temp: -53 })), { name: 'BAT0' }).read();
    expect(reading.value?.celsius).toBe(-5.3);
  });

  it('fails naming the supplies there are when the battery is missing, or not a battery', async () => {
    const hal = fakeHal(laptop());
    const missing = await powerSupplyBattery(hal, { name: 'BAT1' }).read();
    expect(missing.quality).toBe('failed');
    expect(missing.quality === 'failed' && missing.error).toContain("power supply 'BAT1' not found");
    expect(missing.quality === 'failed' && missing.error).toContain('(supplies: AC, BAT0)');
    const mains = await powerSupplyBattery(hal, { name: 'AC' }).read();
    expect(mains.quality === 'failed' && mains.error).toContain('AC is a Mains supply, not a battery');
    const outside = await powerSupplyBattery(hal, { name: '../../class/power_supply/BAT0' }).read();
    expect(outside.quality === 'failed' && outside.error).toContain('is not a power supply name');
  });

  it('fails for a removed battery and for missing measurements', async () => {
    const removed = await powerSupplyBattery(fakeHal(laptop({ present: 0 })), { name: 'BAT0' }).read();
    expect(removed.quality === 'failed' && removed.error).toContain('not present');
    const noVolts = fakeTree(
      supply(
        'BAT0',
        BAT0_DEVICE,
        withoutAttributes({ type: 'Battery', ...gaugeAttributes() }, 'voltage_now'),
      ),
    );
    const reading = await powerSupplyBattery(fakeHal(noVolts), { name: 'BAT0' }).read();
    expect(reading.quality === 'failed' && reading.error).toContain('BAT0 has no voltage_now');
    const noCurrent = fakeTree(
      supply(
        'BAT0',
        BAT0_DEVICE,
        withoutAttributes({ type: 'Battery', ...gaugeAttributes() }, 'current_now'),
      ),
    );
    const noAmps = await powerSupplyBattery(fakeHal(noCurrent), { name: 'BAT0' }).read();
    expect(noAmps.quality === 'failed' && noAmps.error).toContain('neither current_now nor power_now');
  });

  it('holds the last good sample as stale through an EIO from the gauge, then fails, then recovers', async () => {
    const io = failingIo();
    const hal = fakeHal(laptop(), io);
    const battery = powerSupplyBattery(hal, { name: 'BAT0' });
    const goodTime = hal.now();
    expect((await battery.read()).quality).toBe('ok');
    io.fail('BAT0/voltage_now');
    hal.advance(4000);
    const stale = await battery.read();
    expect(stale).toMatchObject({ quality: 'stale', value: { volts: 12.345 }, time: goodTime });
    expect(stale.quality === 'stale' && stale.error).toMatch(/^EIO/);
    hal.advance(2000);
    expect((await battery.read()).quality).toBe('failed');
    io.heal();
    expect(await battery.read()).toMatchObject({ quality: 'ok', time: hal.now() });
  });

  it('grades implausible values out of range and garbage as failed, never throwing', async () => {
    const root = laptop();
    const battery = powerSupplyBattery(fakeHal(root), { name: 'BAT0' });
    setAttribute(root, bat0('capacity'), '150\n');
    expect(await battery.read()).toMatchObject({ quality: 'outOfRange', value: { stateOfCharge: 1.5 } });
    setAttribute(root, bat0('capacity'), '87\n');
    setAttribute(root, bat0('voltage_now'), '4294967295\n');
    expect((await battery.read()).quality).toBe('outOfRange');
    setAttribute(root, bat0('voltage_now'), 'unknown\n');
    const garbage = await battery.read();
    expect(garbage.quality === 'failed' && garbage.error).toContain('expected an integer');
  });
});

function gaugeAttributes(): Record<string, string | number> {
  return {
    present: 1,
    status: 'Discharging',
    capacity: 87,
    voltage_now: 12345000,
    current_now: 1534000,
    charge_full: 4200000,
    charge_now: 3654000,
  };
}

describe('powerSupplySolar', () => {
  const charger = (attributes: Readonly<Record<string, string | number>>) =>
    fakeTree(supply('bq25895-charger', CHARGER_DEVICE, { type: 'USB', ...attributes }));

  it('reads an online input in microvolts and microamps, computing watts', async () => {
    const hal = fakeHal(charger({ online: 1, voltage_now: 18200000, current_now: 1100000 }));
    const solar = powerSupplySolar(hal, { name: 'bq25895-charger' });
    const reading = await solar.read();
    expect(reading).toMatchObject({
      quality: 'ok',
      value: { online: true, volts: 18.2, amps: 1.1 },
      time: hal.now(),
    });
    expect(reading.value?.watts).toBeCloseTo(20.02, 9);
    expect(solar.info).toEqual({ source: 'power_supply bq25895-charger', driver: 'power-supply' });
  });

  it('takes microwatts from power_now where there is one, and amps from it where there is no current', async () => {
    const both = charger({ online: 1, voltage_now: 18000000, current_now: 1000000, power_now: 17500000 });
    expect((await powerSupplySolar(fakeHal(both), { name: 'bq25895-charger' }).read()).value).toEqual({
      online: true,
      volts: 18,
      amps: 1,
      watts: 17.5,
    });
    const powerOnly = charger({ online: 1, voltage_now: 20000000, power_now: 10000000 });
    expect((await powerSupplySolar(fakeHal(powerOnly), { name: 'bq25895-charger' }).read()).value).toEqual({
      online: true,
      volts: 20,
      amps: 0.5,
      watts: 10,
    });
  });

  it('reads an offline input as zeros, whether the driver drops the files or answers ENODATA', async () => {
    const dark = charger({ online: 0 });
    expect(await powerSupplySolar(fakeHal(dark), { name: 'bq25895-charger' }).read()).toMatchObject({
      quality: 'ok',
      value: { online: false, volts: 0, amps: 0, watts: 0 },
    });
    const io = failingIo();
    io.fail('voltage_now', 'ENODATA');
    io.fail('current_now', 'ENODATA');
    const nodata = charger({ online: 0, voltage_now: 0, current_now: 0 });
    expect(await powerSupplySolar(fakeHal(nodata, io), { name: 'bq25895-charger' }).read()).toMatchObject({
      quality: 'ok',
      value: { online: false, volts: 0, amps: 0, watts: 0 },
    });
  });

  it('follows the input going online and offline', async () => {
    const root = charger({ online: 0, voltage_now: 300000, current_now: 0 });
    const file = (name: string) => `sys/devices/${CHARGER_DEVICE}/power_supply/bq25895-charger/${name}`;
    const solar = powerSupplySolar(fakeHal(root), { name: 'bq25895-charger' });
    expect((await solar.read()).value?.online).toBe(false);
    setAttribute(root, file('online'), '1\n');
    setAttribute(root, file('voltage_now'), '17800000\n');
    setAttribute(root, file('current_now'), '900000\n');
    expect((await solar.read()).value).toMatchObject({ online: true, volts: 17.8, amps: 0.9 });
    setAttribute(root, file('online'), '0\n');
    expect((await solar.read()).value?.online).toBe(false);
  });

  it('judges online by the power delivered where the supply has no online file', async () => {
    const root = fakeTree(
      supply('solar', 'platform/mppt', { type: 'Mains', voltage_now: 17000000, current_now: 1000 }),
    );
    expect((await powerSupplySolar(fakeHal(root), { name: 'solar' }).read()).value?.online).toBe(false);
    setAttribute(root, 'sys/devices/platform/mppt/power_supply/solar/current_now', '500000\n');
    expect((await powerSupplySolar(fakeHal(root), { name: 'solar' }).read()).value?.online).toBe(true);
  });

  it('fails for an online input with no measurements, a battery, and a missing supply', async () => {
    const hal = fakeHal(laptop());
    const ac = await powerSupplySolar(hal, { name: 'AC' }).read();
    expect(ac.quality === 'failed' && ac.error).toContain('AC has no voltage_now');
    const battery = await powerSupplySolar(hal, { name: 'BAT0' }).read();
    expect(battery.quality === 'failed' && battery.error).toContain('BAT0 is a battery');
    const missing = await powerSupplySolar(hal, { name: 'solar' }).read();
    expect(missing.quality === 'failed' && missing.error).toContain("power supply 'solar' not found");
  });

  it('holds the last good sample as stale through an EIO, and grades implausible values', async () => {
    const io = failingIo();
    const root = charger({ online: 1, voltage_now: 18200000, current_now: 1100000 });
    const hal = fakeHal(root, io);
    const solar = powerSupplySolar(hal, { name: 'bq25895-charger' });
    await solar.read();
    io.fail('bq25895-charger/current_now');
    hal.advance(1000);
    expect(await solar.read()).toMatchObject({ quality: 'stale', value: { amps: 1.1 } });
    hal.advance(5000);
    expect((await solar.read()).quality).toBe('failed');
    io.heal();
    setAttribute(
      root,
      `sys/devices/${CHARGER_DEVICE}/power_supply/bq25895-charger/voltage_now`,
      '95000000\n',
    );
    expect(await solar.read()).toMatchObject({ quality: 'outOfRange', value: { volts: 95 } });
    setAttribute(root, `sys/devices/${CHARGER_DEVICE}/power_supply/bq25895-charger/voltage_now`, '?\n');
    expect((await solar.read()).quality).toBe('failed');
  });
});
