import { describe, expect, it } from 'vitest';
import { PowerModeMachine, type PowerModeTransition } from '../../../src/power/modes.js';

describe('PowerModeMachine', () => {
  it('steps down and back with hysteresis, reporting reasons', () => {
    const m = new PowerModeMachine();
    expect(m.update(0.6, 0)).toBeUndefined();
    const down = m.update(0.39, 10);
    expect(down).toMatchObject({ from: 'NOMINAL', to: 'POWER_SAVE', cause: 'soc-low', soc: 0.39, timeS: 10 });
    expect(down?.reason).toContain('0.4');
    expect(m.update(0.45, 20)).toBeUndefined();
    expect(m.update(0.31, 30)).toMatchObject({ from: 'POWER_SAVE', to: 'SURVIVAL', cause: 'soc-low' });
    expect(m.update(0.41, 40)).toBeUndefined();
    expect(m.update(0.43, 50)).toMatchObject({ from: 'SURVIVAL', to: 'POWER_SAVE', cause: 'soc-recovered' });
    expect(m.update(0.5, 60)).toBeUndefined();
    expect(m.update(0.51, 70)).toMatchObject({ from: 'POWER_SAVE', to: 'NOMINAL', cause: 'soc-recovered' });
  });

  it('does not chatter around a threshold', () => {
    const m = new PowerModeMachine();
    const transitions: PowerModeTransition[] = [];
    for (let i = 0; i < 1000; i++) {
      const t = m.update(0.4 + 0.02 * Math.sin(i * 0.7), i);
      if (t) transitions.push(t);
    }
    expect(transitions).toHaveLength(1);
    expect(m.mode).toBe('POWER_SAVE');
    for (let i = 0; i < 1000; i++) {
      const t = m.update(0.32 + 0.02 * Math.sin(i * 0.7), i);
      if (t) transitions.push(t);
    }
    expect(transitions.map((t) => t.to)).toEqual(['POWER_SAVE', 'SURVIVAL']);
  });

  it('jumps straight to the mode the soc calls for', () => {
    const m = new PowerModeMachine();
    expect(m.update(0.1)?.to).toBe('SURVIVAL');
    expect(m.update(0.9)?.to).toBe('NOMINAL');
  });

  it('takes all thresholds as parameters and checks them', () => {
    const m = new PowerModeMachine({
      powerSaveEnter: 0.6,
      powerSaveExit: 0.7,
      survivalEnter: 0.5,
      survivalExit: 0.55,
    });
    expect(m.update(0.59)?.to).toBe('POWER_SAVE');
    expect(() => new PowerModeMachine({ powerSaveEnter: 0.5, powerSaveExit: 0.4 })).toThrow(RangeError);
    expect(() => new PowerModeMachine({ survivalEnter: 0.45 })).toThrow(RangeError);
  });

  it('holds a ground override, tracks the soc underneath, and lands right when cleared', () => {
    const m = new PowerModeMachine();
    m.update(0.8);
    expect(m.force('POWER_SAVE', 5)).toMatchObject({
      from: 'NOMINAL',
      to: 'POWER_SAVE',
      cause: 'ground-override',
    });
    expect(m.update(0.9)).toBeUndefined();
    expect(m.mode).toBe('POWER_SAVE');
    expect(m.override).toBe('POWER_SAVE');
    expect(m.update(0.38)).toBeUndefined();
    expect(m.autonomousMode).toBe('POWER_SAVE');
    expect(m.clearOverride(9)).toBeUndefined();
    expect(m.force('NOMINAL')).toMatchObject({ to: 'NOMINAL' });
    expect(m.update(0.45)).toBeUndefined();
    expect(m.clearOverride()).toMatchObject({ from: 'NOMINAL', to: 'POWER_SAVE', cause: 'override-cleared' });
    expect(m.clearOverride()).toBeUndefined();
  });

  it('ends an override when the soc falls into SURVIVAL, unless told not to', () => {
    const m = new PowerModeMachine();
    m.update(0.8);
    m.force('NOMINAL');
    expect(m.update(0.3)).toMatchObject({ from: 'NOMINAL', to: 'SURVIVAL', cause: 'override-broken' });
    expect(m.override).toBeUndefined();

    const stubborn = new PowerModeMachine({ survivalBreaksOverride: false });
    stubborn.update(0.8);
    stubborn.force('NOMINAL');
    expect(stubborn.update(0.3)).toBeUndefined();
    expect(stubborn.mode).toBe('NOMINAL');
  });
});
