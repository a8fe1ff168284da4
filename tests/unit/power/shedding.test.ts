import { describe, expect, it } from 'vitest';
import { LoadShedder } from '../../../src/power/shedding.js';

const ORDER = ['camera', 'radio-tx', 'heater', 'accelerator', 'adcs'];

const onNames = (m: ReadonlyMap<string, boolean>): string[] => [...m].filter(([, on]) => on).map(([n]) => n);

describe('LoadShedder', () => {
  it('keeps everything on in NOMINAL', () => {
    const s = new LoadShedder({ order: ORDER });
    const d = s.update(0, 'NOMINAL');
    expect(d.changes).toEqual([]);
    expect(onNames(d.desired)).toEqual(ORDER);
  });

  it('sheds the first half (rounded up) of the sheddable loads in POWER_SAVE, all of them in SURVIVAL', () => {
    const s = new LoadShedder({ order: ORDER, neverShed: ['adcs'] });
    expect(s.shedSet('POWER_SAVE')).toEqual(['camera', 'radio-tx']);
    const ps = s.update(0, 'POWER_SAVE');
    expect(ps.changes).toEqual([
      { name: 'camera', on: false, reason: 'shed' },
      { name: 'radio-tx', on: false, reason: 'shed' },
    ]);
    expect(onNames(ps.desired)).toEqual(['heater', 'accelerator', 'adcs']);
    const sv = s.update(1, 'SURVIVAL');
    expect(sv.changes.map((c) => c.name)).toEqual(['heater', 'accelerator']);
    expect(onNames(sv.desired)).toEqual(['adcs']);
    expect(new LoadShedder({ order: ['a', 'b', 'c'] }).shedSet('POWER_SAVE')).toEqual(['a', 'b']);
  });

  it('restores in reverse shedding order, one per restoreDelayS', () => {
    const s = new LoadShedder({ order: ORDER, neverShed: ['adcs'], restoreDelayS: 30 });
    s.update(0, 'SURVIVAL');
    const restored: [number, string][] = [];
    for (let t = 100; t <= 300; t += 5) {
      const d = s.update(t, 'NOMINAL');
      for (const c of d.changes) {
        expect(c).toMatchObject({ on: true, reason: 'restore' });
        restored.push([t, c.name]);
      }
    }
    expect(restored).toEqual([
      [100, 'accelerator'],
      [130, 'heater'],
      [160, 'radio-tx'],
      [190, 'camera'],
    ]);
  });

  it('reports the pending restorations, and sheds at once again if the mode drops mid-restoration', () => {
    const s = new LoadShedder({ order: ORDER, restoreDelayS: 30 });
    s.update(0, 'SURVIVAL');
    const d = s.update(10, 'NOMINAL');
    expect(d.changes).toEqual([{ name: 'adcs', on: true, reason: 'restore' }]);
    expect(d.pendingRestore).toEqual(['accelerator', 'heater', 'radio-tx', 'camera']);
    expect(onNames(d.target)).toEqual(ORDER);
    const again = s.update(20, 'SURVIVAL');
    expect(again.changes).toEqual([{ name: 'adcs', on: false, reason: 'shed' }]);
  });

  it('obeys the ground over the mode, and hands back when cleared', () => {
    const s = new LoadShedder({ order: ORDER, restoreDelayS: 30 });
    s.setGround('heater', false);
    expect(s.update(0, 'NOMINAL').changes).toEqual([{ name: 'heater', on: false, reason: 'ground' }]);
    s.setGround('camera', true);
    const ps = s.update(1, 'POWER_SAVE');
    expect(ps.changes).toEqual([{ name: 'radio-tx', on: false, reason: 'shed' }]);
    expect(ps.desired.get('camera')).toBe(true);
    s.setGround('heater', undefined);
    s.setGround('camera', undefined);
    const back = s.update(2, 'NOMINAL');
    expect(back.changes).toEqual([{ name: 'heater', on: true, reason: 'restore' }]);
    expect(back.pendingRestore).toEqual(['radio-tx']);
    expect(s.update(31, 'NOMINAL').changes).toEqual([]);
    expect(s.update(32, 'NOMINAL').changes).toEqual([{ name: 'radio-tx', on: true, reason: 'restore' }]);
    expect(() => s.setGround('nope', true)).toThrow(RangeError);
  });

  it('sends a command again when the readback says it did not take', () => {
    const s = new LoadShedder({ order: ORDER });
    s.update(0, 'POWER_SAVE');
    s.observe('camera', true);
    expect(s.update(1, 'POWER_SAVE').changes).toEqual([{ name: 'camera', on: false, reason: 'shed' }]);
  });

  it('rejects a bad configuration', () => {
    expect(() => new LoadShedder({ order: ['a', 'a'] })).toThrow(RangeError);
    expect(() => new LoadShedder({ order: ['a'], neverShed: ['b'] })).toThrow(RangeError);
  });
});
