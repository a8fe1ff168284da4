import { describe, expect, it } from 'vitest';
import type { BatterySample, PowerSample, Reading, SolarSample } from '../../../src/hal/types.js';
import { PowerManager, type PowerManagerConfig, type PowerStatus } from '../../../src/power/manager.js';
import { orbitGeometry } from '../../../src/power/orbit.js';

const LOADS = ['camera', 'heater', 'radio', 'aux'] as const;
const g = orbitGeometry(550, 0);
/** The model's first eclipse (start phase 0 at t = 0). */
const ECLIPSE_START = (0.5 - g.eclipseFraction / 2) * g.periodS;
const ECLIPSE_END = ECLIPSE_START + g.eclipseS;

const CONFIG: PowerManagerConfig = {
  altitudeKm: 550,
  betaDeg: 0,
  batteryAh: 10,
  seriesCells: 8,
  socSource: 'gauge',
  floorSoc: 0.3,
  acceleratorMaxW: 400,
  loads: LOADS,
};

function battery(timeS: number, soc: number, amps: number): Reading<BatterySample> {
  return {
    quality: 'ok',
    time: timeS * 1000,
    value: {
      stateOfCharge: soc,
      volts: 28 + 4 * soc,
      amps,
      status: amps > 0 ? 'charging' : 'discharging',
    },
  };
}

function failed<T>(timeS: number): Reading<T> {
  return { quality: 'failed', time: timeS * 1000, error: 'EIO' };
}

function solar(timeS: number, watts: number): Reading<SolarSample> {
  return {
    quality: 'ok',
    time: timeS * 1000,
    value: { online: watts > 0, volts: 30, amps: watts / 30, watts },
  };
}

function bus(timeS: number, watts: number): Reading<PowerSample> {
  return { quality: 'ok', time: timeS * 1000, value: { volts: 28, amps: watts / 28, watts } };
}

const sunlitAt = (timeS: number) => timeS < ECLIPSE_START || timeS >= ECLIPSE_END;

/**
 * A synthetic pass: the battery runs down from 0.60 to 0.29 through the eclipse, then charges back to 0.62 in the
 * sunlight after it, with a ±0.012 ripple that crosses every threshold several times.
 */
function socAt(timeS: number): number {
  const ripple = 0.012 * Math.sin(timeS / 7);
  if (timeS < ECLIPSE_START) return 0.6 + ripple;
  if (timeS < ECLIPSE_END) return 0.6 - (0.31 * (timeS - ECLIPSE_START)) / g.eclipseS + ripple;
  return Math.min(0.62, 0.29 + (0.33 * (timeS - ECLIPSE_END)) / 2400) + ripple;
}

function runPass(manager: PowerManager, endS: number): PowerStatus[] {
  const out: PowerStatus[] = [];
  for (let t = 0; t <= endS; t++) {
    const lit = sunlitAt(t);
    out.push(
      manager.step({
        timeS: t,
        battery: battery(t, socAt(t), lit ? 5 : -8),
        solar: solar(t, lit ? 800 : 0),
        bus: bus(t, 250),
        acceleratorW: 100,
        thermalHintW: 400,
      }),
    );
  }
  return out;
}

describe('PowerManager', () => {
  it('reports each mode transition once, with hysteresis, through an eclipse and the recharge after it', () => {
    const m = new PowerManager(CONFIG);
    const statuses = runPass(m, Math.ceil(ECLIPSE_END + 3000));
    const transitions = statuses.flatMap((s) => (s.transition ? [s.transition] : []));
    expect(transitions.map((t) => [t.from, t.to, t.cause])).toEqual([
      ['NOMINAL', 'POWER_SAVE', 'soc-low'],
      ['POWER_SAVE', 'SURVIVAL', 'soc-low'],
      ['SURVIVAL', 'POWER_SAVE', 'soc-recovered'],
      ['POWER_SAVE', 'NOMINAL', 'soc-recovered'],
    ]);
    // Entered below the enter thresholds, left above the exit ones.
    const [ps, surv, up, nominal] = transitions;
    expect(ps?.soc).toBeLessThan(0.4);
    expect(surv?.soc).toBeLessThan(0.32);
    expect(up?.soc).toBeGreaterThan(0.42);
    expect(nominal?.soc).toBeGreaterThan(0.5);
    // The first two in the eclipse, the others after sunrise.
    expect(ps?.timeS).toBeGreaterThan(ECLIPSE_START);
    expect(surv?.timeS).toBeLessThan(ECLIPSE_END);
    expect(up?.timeS).toBeGreaterThan(ECLIPSE_END);
    // The status's mode is the machine's, and SURVIVAL gives the accelerator nothing.
    for (const s of statuses) {
      expect(s.mode).toBe(s.transition?.to ?? s.mode);
      if (s.mode === 'SURVIVAL') {
        expect(s.energyAllowanceW).toBe(0);
        expect(s.reason).toBe('survival');
      }
      expect(s.otherLoadsW).toBe(150);
      expect(Number.isFinite(s.energyAllowanceW)).toBe(true);
    }
    expect(statuses.at(-1)?.mode).toBe('NOMINAL');
  });

  it('sheds loads in shedding order and restores them in reverse, one at a time', () => {
    const m = new PowerManager(CONFIG);
    const statuses = runPass(m, Math.ceil(ECLIPSE_END + 3000));
    const changes = statuses.flatMap((s) => s.loadChanges);
    const offs = changes.filter((c) => !c.on);
    const ons = changes.filter((c) => c.on);
    expect(offs.map((c) => c.name)).toEqual(['camera', 'heater', 'radio', 'aux']);
    expect(offs.every((c) => c.reason === 'shed')).toBe(true);
    expect(ons.map((c) => c.name)).toEqual(['aux', 'radio', 'heater', 'camera']);
    expect(ons.every((c) => c.reason === 'restore')).toBe(true);
    // Half shed on entering POWER_SAVE, the rest on entering SURVIVAL, in the same steps as the transitions.
    const entering = statuses.filter((s) => s.transition !== undefined);
    expect(entering[0]?.loadChanges.map((c) => c.name)).toEqual(['camera', 'heater']);
    expect(entering[1]?.loadChanges.map((c) => c.name)).toEqual(['radio', 'aux']);
    // Restorations at least the shedder's delay apart.
    const onTimes = statuses.flatMap((s, t) => s.loadChanges.filter((c) => c.on).map(() => t));
    for (let i = 1; i < onTimes.length; i++) {
      expect(onTimes[i]! - onTimes[i - 1]!).toBeGreaterThanOrEqual(m.shedder.restoreDelayS);
    }
  });

  it('gives no energy allowance before any battery reading, and recovers with the first', () => {
    const m = new PowerManager(CONFIG);
    const input = (t: number, b: Reading<BatterySample>) => ({
      timeS: t,
      battery: b,
      solar: solar(t, 800),
      bus: bus(t, 250),
      acceleratorW: 100,
      thermalHintW: 400,
    });
    for (let t = 0; t < 5; t++) {
      const s = m.step(input(t, failed(t)));
      expect(s.energyAllowanceW).toBe(0);
      expect(s.reason).toBe('no-battery-reading');
      expect(s.soc.source).toBe('initial');
      // The cautious guess: the floor.
      expect(s.soc.soc).toBe(CONFIG.floorSoc);
    }
    const good = m.step(input(5, battery(5, 0.9, 5)));
    expect(good.reason).not.toBe('no-battery-reading');
    expect(good.energyAllowanceW).toBeGreaterThan(0);
    expect(good.soc.soc).toBeCloseTo(0.9, 9);
    // A later failure keeps the last estimate: the state of charge is known, the allowance stands.
    const after = m.step(input(6, failed(6)));
    expect(after.reason).not.toBe('no-battery-reading');
    expect(after.soc.soc).toBeCloseTo(0.9, 9);
    expect(after.energyAllowanceW).toBeGreaterThan(0);
  });

  it('with an initial soc configured, still gives nothing until the battery has been read', () => {
    const m = new PowerManager({ ...CONFIG, initialSoc: 0.8 });
    const s = m.step({
      timeS: 0,
      battery: failed(0),
      solar: solar(0, 800),
      bus: bus(0, 250),
      acceleratorW: 100,
      thermalHintW: 400,
    });
    expect(s.reason).toBe('no-battery-reading');
    expect(s.energyAllowanceW).toBe(0);
    expect(s.soc.soc).toBe(0.8);
  });

  it('survives failed solar and bus readings', () => {
    const m = new PowerManager(CONFIG);
    for (let t = 0; t < 600; t++) {
      const s = m.step({
        timeS: t,
        battery: battery(t, 0.7, 2),
        solar: t % 3 === 0 ? failed(t) : solar(t, 800),
        bus: t % 5 === 0 ? failed(t) : bus(t, 250),
        acceleratorW: 100,
        thermalHintW: 400,
      });
      expect(Number.isFinite(s.energyAllowanceW)).toBe(true);
      expect(s.energyAllowanceW).toBeGreaterThanOrEqual(0);
      expect(s.forecast.inEclipse).toBe(false);
    }
    // Only failed solar readings from the start: the orbit model still forecasts.
    const blind = new PowerManager(CONFIG);
    const s = blind.step({
      timeS: 0,
      battery: battery(0, 0.7, 2),
      solar: failed(0),
      bus: bus(0, 250),
      acceleratorW: 100,
      thermalHintW: 400,
    });
    expect(s.forecast.source).toBe('orbit');
    expect(s.forecast.nextChangeS).toBeCloseTo(ECLIPSE_START, 6);
    expect(s.forecast.sunlitW).toBe(0);
    expect(Number.isFinite(s.energyAllowanceW)).toBe(true);
  });
});
