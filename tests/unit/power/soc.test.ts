import { describe, expect, it } from 'vitest';
import { cellOcv, SocEstimator, socFromCellOcv } from '../../../src/power/soc.js';

const CELLS = 4;
const ocv = (soc: number): number => CELLS * cellOcv(soc);

describe('OCV curve', () => {
  it('spans 3.0..4.2 V per cell and inverts', () => {
    expect(cellOcv(0)).toBe(3.0);
    expect(cellOcv(1)).toBe(4.2);
    for (const soc of [0.03, 0.25, 0.5, 0.77, 0.95]) expect(socFromCellOcv(cellOcv(soc))).toBeCloseTo(soc, 9);
    expect(socFromCellOcv(2.5)).toBe(0);
    expect(socFromCellOcv(4.5)).toBe(1);
  });
});

describe('SocEstimator', () => {
  it('counts coulombs: 10 A for an hour out of 100 Ah is 0.1', () => {
    const est = new SocEstimator({ nominalAh: 100, seriesCells: CELLS, initialSoc: 0.8 });
    let last = est.estimate();
    for (let t = 0; t < 3600; t++) last = est.update({ amps: -10, volts: ocv(0.75) }, 1);
    expect(last?.soc).toBeCloseTo(0.7, 9);
    for (let t = 0; t < 1800; t++) last = est.update({ amps: 20, volts: ocv(0.75) }, 1);
    expect(last?.soc).toBeCloseTo(0.8, 9);
    expect(last?.source).toBe('coulomb');
  });

  it('reports energy in Wh at the nominal voltage', () => {
    const est = new SocEstimator({ nominalAh: 50, seriesCells: CELLS, initialSoc: 0.5 });
    const e = est.update({ amps: 0, volts: ocv(0.5) }, 1);
    expect(e.usableWh).toBeCloseTo(50 * CELLS * 3.7, 9);
    expect(e.energyWh).toBeCloseTo(0.5 * 50 * CELLS * 3.7, 9);
  });

  it('lowers the usable Ah with capacity fade, so the same charge moves soc further', () => {
    const est = new SocEstimator({ nominalAh: 100, seriesCells: CELLS, initialSoc: 0.8, capacityFade: 0.2 });
    expect(est.usableAh).toBeCloseTo(80, 9);
    let last = est.estimate();
    for (let t = 0; t < 3600; t++) last = est.update({ amps: -10, volts: ocv(0.7) }, 1);
    expect(last?.soc).toBeCloseTo(0.8 - 10 / 80, 9);
    est.setCapacityFade(0.5);
    expect(est.usableAh).toBeCloseTo(50, 9);
    expect(() => est.setCapacityFade(1)).toThrow(RangeError);
  });

  it('pulls a wrong estimate toward the OCV truth during rest, and not before restS', () => {
    const truth = 0.6;
    const est = new SocEstimator({ nominalAh: 100, seriesCells: CELLS, initialSoc: 0.3 });
    let last = est.estimate();
    for (let t = 0; t < 599; t++) last = est.update({ amps: 0.1, volts: ocv(truth) }, 1);
    // Only the 0.1 A trickle has counted so far.
    expect(last?.soc).toBeCloseTo(0.3 + (0.1 * 599) / 3600 / 100, 9);
    last = est.update({ amps: 0.1, volts: ocv(truth) }, 1);
    expect(last.source).toBe('ocv');
    const afterOne = last.soc;
    expect(afterOne).toBeGreaterThan(0.35);
    expect(afterOne).toBeLessThan(0.4);
    for (let t = 0; t < 6000; t++) last = est.update({ amps: 0.1, volts: ocv(truth) }, 1);
    expect(Math.abs(last.soc - truth)).toBeLessThan(Math.abs(afterOne - truth));
    expect(Math.abs(last.soc - truth)).toBeLessThan(0.05);
  });

  it('restarts the rest timer on a current above restAmps', () => {
    const est = new SocEstimator({ nominalAh: 100, seriesCells: CELLS, initialSoc: 0.3, restS: 100 });
    for (let t = 0; t < 90; t++) est.update({ amps: 0, volts: ocv(0.8) }, 1);
    est.update({ amps: -5, volts: ocv(0.8) }, 1);
    let last = est.estimate();
    for (let t = 0; t < 90; t++) last = est.update({ amps: 0, volts: ocv(0.8) }, 1);
    expect(last?.source).toBe('coulomb');
    expect(last?.soc).toBeLessThan(0.3);
  });

  it('follows the gauge in gauge mode, and falls back to counting from it when the gauge drops out', () => {
    const est = new SocEstimator({ nominalAh: 100, seriesCells: CELLS, mode: 'gauge' });
    expect(est.update({ amps: 0, volts: ocv(0.2), stateOfCharge: 0.55 }, 1).soc).toBe(0.55);
    const g = est.update({ amps: -10, volts: ocv(0.2), stateOfCharge: 0.5 }, 1);
    expect(g.soc).toBe(0.5);
    expect(g.source).toBe('gauge');
    const fallback = est.update({ amps: -36, volts: ocv(0.2), stateOfCharge: Number.NaN }, 100);
    expect(fallback.source).toBe('coulomb');
    expect(fallback.soc).toBeCloseTo(0.5 - 0.01, 9);
  });

  it('starts from the OCV when no initial soc is given', () => {
    const est = new SocEstimator({ nominalAh: 100, seriesCells: CELLS });
    expect(est.estimate()).toBeUndefined();
    expect(est.update({ amps: 0, volts: ocv(0.42), stateOfCharge: 0.9 }, 1).soc).toBeCloseTo(0.42, 9);
  });
});
