import { describe, expect, it } from 'vitest';
import { devfreqDevice, listDevfreq } from '../../../src/hal/linux/devfreq.js';
import { failingIo, fakeHal, fakeTree, readAttribute, setAttribute } from '../../support/sysfs.js';

/** A Jetson Orin GPU's devfreq node: Hz throughout, the table in the driver's (descending) order. */
function orinTree(): string {
  return fakeTree({
    'sys/class/devfreq/17000000.gpu/cur_freq': '611250000\n',
    'sys/class/devfreq/17000000.gpu/min_freq': '306000000\n',
    'sys/class/devfreq/17000000.gpu/max_freq': '1300500000\n',
    'sys/class/devfreq/17000000.gpu/available_frequencies':
      '1300500000 1122000000 918000000 714000000 611250000 510000000 306000000\n',
    'sys/class/devfreq/17000000.gpu/governor': 'nvhost_podgov\n',
    'sys/class/devfreq/ff9a0000.npu/cur_freq': '200000000\n',
    'sys/class/devfreq/ff9a0000.npu/min_freq': '200000000\n',
    'sys/class/devfreq/ff9a0000.npu/max_freq': '800000000\n',
    'sys/class/devfreq/ff9a0000.npu/available_frequencies': '',
  });
}

describe('devfreq', () => {
  it('lists devices with their frequencies in Hz, the table ascending', async () => {
    const list = await listDevfreq(fakeHal(orinTree()));
    expect(list.map((d) => d.name)).toEqual(['17000000.gpu', 'ff9a0000.npu']);
    expect(list[0]).toMatchObject({
      governor: 'nvhost_podgov',
      curHz: 611_250_000,
      minHz: 306_000_000,
      maxHz: 1_300_500_000,
      availableHz: [306e6, 510e6, 611.25e6, 714e6, 918e6, 1122e6, 1300.5e6],
    });
    expect(list[1]?.availableHz).toEqual([]);
    expect(list[1]?.governor).toBeUndefined();
  });

  it('reads MHz, finding the device by its full name or by the part after the address', async () => {
    const ctx = fakeHal(orinTree());
    for (const device of ['17000000.gpu', 'gpu']) {
      const reading = await devfreqDevice(ctx, { device }).read();
      expect(reading).toMatchObject({
        quality: 'ok',
        time: ctx.now(),
        value: { curMHz: 611.25, minMHz: 306, maxMHz: 1300.5, governor: 'nvhost_podgov' },
      });
      expect(reading.value?.availableMHz).toEqual([306, 510, 611.25, 714, 918, 1122, 1300.5]);
    }
    expect(devfreqDevice(ctx, { device: 'gpu' }).info).toEqual({ source: 'devfreq gpu', driver: 'devfreq' });
  });

  it('fails a read for a device that is not there, naming what is', async () => {
    const reading = await devfreqDevice(fakeHal(orinTree()), { device: 'dla' }).read();
    expect(reading.quality).toBe('failed');
    if (reading.quality === 'failed') expect(reading.error).toMatch(/no devfreq device 'dla'.*17000000\.gpu/);
  });

  it('sets the ceiling to the highest available frequency at or below the request, in Hz', async () => {
    const root = orinTree();
    const gpu = devfreqDevice(fakeHal(root), { device: 'gpu' });
    expect(await gpu.setCeiling(1000)).toEqual({ ok: true });
    expect(readAttribute(root, 'sys/class/devfreq/17000000.gpu/max_freq')).toBe('918000000');
    expect(await gpu.setCeiling(611.25)).toEqual({ ok: true });
    expect(readAttribute(root, 'sys/class/devfreq/17000000.gpu/max_freq')).toBe('611250000');
    expect(await gpu.setCeiling(5000)).toEqual({ ok: true });
    expect(readAttribute(root, 'sys/class/devfreq/17000000.gpu/max_freq')).toBe('1300500000');
  });

  it('refuses a ceiling below the lowest available frequency without writing', async () => {
    const root = orinTree();
    const result = await devfreqDevice(fakeHal(root), { device: 'gpu' }).setCeiling(300);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain('below the lowest available frequency, 306 MHz');
    expect(readAttribute(root, 'sys/class/devfreq/17000000.gpu/max_freq')).toBe('1300500000\n');
    expect((await devfreqDevice(fakeHal(root), { device: 'gpu' }).setCeiling(-1)).ok).toBe(false);
  });

  it('writes the request as it is when the driver lists no frequencies', async () => {
    const root = orinTree();
    expect(await devfreqDevice(fakeHal(root), { device: 'npu' }).setCeiling(400.5)).toEqual({ ok: true });
    expect(readAttribute(root, 'sys/class/devfreq/ff9a0000.npu/max_freq')).toBe('400500000');
  });

  it('reports a rejected write with the errno and what it means', async () => {
    const io = failingIo();
    const gpu = devfreqDevice(fakeHal(orinTree(), io), { device: 'gpu' });
    io.fail('max_freq', 'EACCES');
    const denied = await gpu.setCeiling(918);
    expect(denied.ok).toBe(false);
    if (!denied.ok)
      expect(denied.error).toMatch(/writing 918000000 Hz to max_freq failed: EACCES.*needs root/);
    io.fail('max_freq', 'EINVAL');
    const invalid = await gpu.setCeiling(918);
    if (!invalid.ok) expect(invalid.error).toMatch(/EINVAL.*rejected/);
    expect(invalid.ok).toBe(false);
  });

  it('holds the last good value as stale through EIO, then fails', async () => {
    const io = failingIo();
    const root = orinTree();
    const ctx = fakeHal(root, io);
    const gpu = devfreqDevice(ctx, { device: '17000000.gpu' });
    const good = await gpu.read();
    expect(good.quality).toBe('ok');
    io.fail('cur_freq', 'EIO');
    ctx.advance(1000);
    const stale = await gpu.read();
    expect(stale).toMatchObject({ quality: 'stale', time: good.time, value: { curMHz: 611.25 } });
    if (stale.quality === 'stale') expect(stale.error).toContain('EIO');
    ctx.advance(5000);
    const failed = await gpu.read();
    expect(failed.quality).toBe('failed');
    io.heal();
    setAttribute(root, 'sys/class/devfreq/17000000.gpu/cur_freq', '918000000\n');
    expect(await gpu.read()).toMatchObject({ quality: 'ok', value: { curMHz: 918 } });
  });
});
