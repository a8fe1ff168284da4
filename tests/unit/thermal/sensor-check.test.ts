import { describe, expect, it } from 'vitest';
import type { Reading } from '../../../src/hal/types.js';
import { SensorCheck } from '../../../src/thermal/sensor-check.js';

const ok = (value: number, time: number): Reading<number> => ({ quality: 'ok', value, time });

describe('SensorCheck', () => {
  it('passes good readings and fails non-ok qualities with their reason', () => {
    const c = new SensorCheck();
    expect({ ...c.check(ok(50, 0)) }).toEqual({ ok: true, reason: undefined, value: 50 });
    expect(c.check({ quality: 'failed', time: 100, error: 'EIO' }).reason).toBe('failed');
    expect(c.check({ quality: 'stale', value: 50, time: 0, error: 'old' }).reason).toBe('stale');
    const oor = c.check({ quality: 'outOfRange', value: -273, time: 300, error: 'open' });
    expect(oor.ok).toBe(false);
    expect(oor.reason).toBe('out-of-range');
    expect(c.check(ok(Number.NaN, 400)).reason).toBe('failed');
  });

  it('flags a value identical for more than 50 samples while the power swung as stuck, and clears when it moves', () => {
    const c = new SensorCheck();
    // The power ramps by 0.5 W a sample: past 10 W of swing the junction would have moved.
    for (let k = 0; k < 50; k++) expect(c.check(ok(61.25, k * 100), 200 + k * 0.5).ok).toBe(true);
    const v = c.check(ok(61.25, 5000), 225);
    expect(v.ok).toBe(false);
    expect(v.reason).toBe('stuck');
    expect(c.check(ok(61.5, 5100), 225).ok).toBe(true);
    const loose = new SensorCheck({ stuckSamples: Number.POSITIVE_INFINITY });
    for (let k = 0; k < 500; k++) expect(loose.check(ok(60, k * 100), k).ok).toBe(true);
  });

  it('believes a steady reading under a steady power (a sensor has a resolution) until stuckAfterMs', () => {
    const c = new SensorCheck();
    // 0.01 degC steps over Modbus: a junction held by a steady cap reads flat for many samples.
    for (let k = 0; k < 599; k++) expect(c.check(ok(83.55, k * 100), 300 + (k % 2) * 2).ok).toBe(true);
    const v = c.check(ok(83.55, 60_000), 301);
    expect(v.reason).toBe('stuck');
    // Without the power (a caller that does not know it), the time alone decides, whatever the sample count.
    const blind = new SensorCheck({ stuckAfterMs: 10_000 });
    for (let k = 0; k < 100; k++) expect(blind.check(ok(50, k * 100)).ok).toBe(true);
    expect(blind.check(ok(50, 10_000)).reason).toBe('stuck');
    // Slow samples (4 a second, a HIL rig's lockstep): 50 of them are 12.5 s, still no fault without a swing.
    const slow = new SensorCheck();
    for (let k = 0; k < 200; k++) expect(slow.check(ok(70, k * 250), 250).ok).toBe(true);
    expect(() => new SensorCheck({ stuckPowerSwingW: -1 })).toThrow(RangeError);
  });

  it('rejects a jump faster than 20 K/s for that sample only, against the last accepted value', () => {
    const c = new SensorCheck();
    expect(c.check(ok(60, 0)).ok).toBe(true);
    expect(c.check(ok(61.9, 100)).ok).toBe(true); // 19 K/s
    const spike = c.check(ok(90, 200));
    expect(spike.ok).toBe(false);
    expect(spike.reason).toBe('implausible-rate');
    expect(c.check(ok(62, 300)).ok).toBe(true);
    // A genuine shift is accepted once enough time has passed for it to be plausible.
    expect(c.check(ok(72, 400)).ok).toBe(false);
    expect(c.check(ok(72, 800)).ok).toBe(true);
    expect(new SensorCheck({ maxRateCPerS: 100 }).check(ok(1, 0)).ok).toBe(true);
  });
});
