import { describe, expect, it } from 'vitest';
import {
  acceleratorPowerW,
  capForFrequency,
  computeRate,
  frequencyForCap,
  frequencyForCompute,
  frequencyForPower,
  maxPowerW,
} from '../../../hil/plant/accelerator.js';
import { exampleNode } from '../../../hil/plant/defaults.js';

const acc = exampleNode().accelerator;

describe('accelerator', () => {
  it('draws static power plus dynamic power going as the cube of the clock', () => {
    expect(acceleratorPowerW(acc, acc.maxMHz)).toBe(acc.staticW + acc.dynamicW);
    expect(maxPowerW(acc)).toBe(400);
    expect(acceleratorPowerW(acc, acc.maxMHz / 2) - acc.staticW).toBeCloseTo(acc.dynamicW / 8, 9);
    const f = 1200;
    expect(acceleratorPowerW(acc, f)).toBeCloseTo(acc.staticW + acc.dynamicW * (f / acc.maxMHz) ** 3, 9);
  });

  it('runs at the highest clock the cap allows, inverting P(f)', () => {
    for (const cap of [100, 150, 222.5, 300, 399]) {
      const f = frequencyForCap(acc, cap);
      expect(acceleratorPowerW(acc, f)).toBeCloseTo(cap, 9);
      expect(capForFrequency(acc, f)).toBeCloseTo(cap, 9);
      expect(frequencyForPower(acc, cap)).toBe(f);
    }
    expect(frequencyForCap(acc, 100)).toBeCloseTo(acc.maxMHz * Math.cbrt(40 / 340), 9);
    expect(frequencyForCap(acc, 400)).toBe(acc.maxMHz);
    expect(frequencyForCap(acc, 1000)).toBe(acc.maxMHz);
  });

  it('keeps to the frequency ceiling, and never below minMHz', () => {
    expect(frequencyForCap(acc, 400, 1200)).toBe(1200);
    expect(frequencyForCap(acc, 100, 1500)).toBeCloseTo(frequencyForCap(acc, 100), 9);
    expect(frequencyForCap(acc, 61, undefined)).toBe(acc.minMHz);
    expect(frequencyForCap(acc, 0)).toBe(acc.minMHz);
    expect(frequencyForCap(acc, 400, 100)).toBe(acc.minMHz);
  });

  it('keeps the cap for a frequency within what the device accepts', () => {
    expect(capForFrequency(acc, acc.maxMHz)).toBe(400);
    expect(capForFrequency(acc, 5000)).toBe(400);
    expect(capForFrequency(acc, acc.minMHz)).toBe(acc.minPowerCapW);
  });

  it('computes in proportion to the clock', () => {
    expect(computeRate(acc, acc.maxMHz)).toBe(acc.computeAtMax);
    expect(computeRate(acc, acc.maxMHz / 2)).toBe(acc.computeAtMax / 2);
    expect(frequencyForCompute(acc, acc.computeAtMax / 2)).toBe(acc.maxMHz / 2);
    expect(frequencyForCompute(acc, 0)).toBe(acc.minMHz);
  });
});
