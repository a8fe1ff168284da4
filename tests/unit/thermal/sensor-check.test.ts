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

  it('flags a value identical for more than 50 samples as stuck, and clears when it moves', () => {
    const c = new SensorCheck();
    for (let k = 0; k < 50; k++) expect(c.check(ok(61.25, k * 100)).ok).toBe(true);
    const v = c.check(ok(61.25, 5000));
    expect(v.ok).toBe(false);
    expect(v.reason).toBe('stuck');
    expect(c.check(ok(61.5, 5100)).ok).toBe(true);
    const loose = new SensorCheck({ stuckSamples: Number.POSITIVE_INFINITY });
    for (let k = 0; k < 500; k++) expect(loose.check(ok(60, k * 100)).ok).toBe(true);
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
