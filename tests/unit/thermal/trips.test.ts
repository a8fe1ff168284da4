import { describe, expect, it } from 'vitest';
import { TripMonitor } from '../../../src/thermal/trips.js';

const TRIPS = [
  { type: 'critical', celsius: 95 },
  { type: 'passive', celsius: 80, hysteresisC: 1 },
  { type: 'hot', celsius: 88 },
  { type: 'active', celsius: 50 },
];

const events = (m: TripMonitor, t: number | undefined) =>
  m.update(t).map((x) => `${x.trip.type}@${x.trip.celsius}:${x.event}`);

describe('TripMonitor', () => {
  it('enters at the trip and leaves below trip - hysteresis (the trip own, else 2 K)', () => {
    const m = new TripMonitor(TRIPS);
    expect(m.trips.map((t) => t.type)).toEqual(['passive', 'hot', 'critical']);
    expect(events(m, 79.9)).toEqual([]);
    expect(events(m, 80)).toEqual(['passive@80:entered']);
    expect(events(m, 79.1)).toEqual([]);
    expect(events(m, 78.9)).toEqual(['passive@80:left']);
    expect(events(m, 89)).toEqual(['passive@80:entered', 'hot@88:entered']);
    expect(m.isActive('hot')).toBe(true);
    expect(events(m, 86.1)).toEqual([]);
    expect(events(m, 85.9)).toEqual(['hot@88:left']);
    expect(m.powerOff).toBe(false);
  });

  it('critical latches power off until below critical - hysteresis AND below the passive trip', () => {
    const m = new TripMonitor(TRIPS);
    expect(events(m, 96)).toEqual(['passive@80:entered', 'hot@88:entered', 'critical@95:entered']);
    expect(m.powerOff).toBe(true);
    expect(events(m, 92)).toEqual([]);
    expect(events(m, 85)).toEqual(['hot@88:left']);
    expect(m.powerOff).toBe(true);
    expect(events(m, 80.5)).toEqual([]);
    expect(m.powerOff).toBe(true);
    expect(events(m, 79.5)).toEqual(['critical@95:left']);
    expect(m.powerOff).toBe(false);
    expect(events(m, 78)).toEqual(['passive@80:left']);
  });

  it('a failed sensor changes nothing (and allocates nothing)', () => {
    const m = new TripMonitor(TRIPS, { hysteresisK: 5 });
    m.update(97);
    const none = m.update(undefined);
    expect(none).toHaveLength(0);
    expect(m.update(Number.NaN)).toBe(none);
    expect(m.update(96)).toBe(none);
    expect(m.powerOff).toBe(true);
    m.reset();
    expect(m.powerOff).toBe(false);
  });
});
