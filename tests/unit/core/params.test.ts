import { describe, expect, it } from 'vitest';
import { defineComponent } from '../../../src/core/component.js';
import { buildDictionary } from '../../../src/core/dictionary.js';
import { ParameterStore } from '../../../src/core/params.js';
import { memoryStateStore, openStateStore } from '../../../src/core/persistence.js';
import { bool, enumOf, f32, str, u8, u64 } from '../../../src/core/types.js';
import { tempDir } from '../../support/cli.js';

const tuning = defineComponent({
  name: 'tuning',
  params: {
    gain: { id: 1, type: f32({ min: 0, max: 10 }), default: 2.5 },
    mode: { id: 2, type: enumOf(['A', 'B']), default: 'A' },
    label: { id: 3, type: str({ maxLength: 16 }), default: 'none' },
    armed: { id: 4, type: bool(), default: false },
    serial: { id: 5, type: u64(), default: 7n },
  },
  setup: () => ({}),
});
const dictionary = buildDictionary([tuning]);

describe('ParameterStore', () => {
  it('starts from the declared defaults', () => {
    const params = new ParameterStore(dictionary, memoryStateStore());
    expect(params.snapshot()).toEqual({
      'tuning.gain': 2.5,
      'tuning.mode': 'A',
      'tuning.label': 'none',
      'tuning.armed': false,
      'tuning.serial': 7n,
    });
  });

  it('refuses unknown names and invalid values, keeping the old value', () => {
    const params = new ParameterStore(dictionary, memoryStateStore());
    expect(params.set('tuning.gain', 11)).toMatchObject({
      ok: false,
      code: 'invalid',
      reason: /not in \[0, 10\]/,
    });
    expect(params.set('tuning.gain', '3')).toMatchObject({ ok: false, code: 'invalid' });
    expect(params.set('tuning.mode', 'C')).toMatchObject({ ok: false, code: 'invalid' });
    expect(params.set('tuning.nope', 1)).toMatchObject({ ok: false, code: 'unknown' });
    expect(params.setById(99, 1)).toMatchObject({ ok: false, code: 'unknown' });
    expect(params.get('tuning.gain')).toBe(2.5);
  });

  it('notifies watchers of the current value and each change, once per change', () => {
    const params = new ParameterStore(dictionary, memoryStateStore());
    const seen: unknown[] = [];
    params.watch('tuning.gain').subscribe((v) => seen.push(v));
    params.set('tuning.gain', 4);
    params.set('tuning.gain', 4);
    params.setById(1, 5);
    params.reset('tuning.gain');
    expect(seen).toEqual([2.5, 4, 5, 2.5]);
  });

  it('persists every type in the SQLite state store across reopening', () => {
    const dir = tempDir();
    const first = openStateStore(dir);
    const params = new ParameterStore(dictionary, first);
    params.set('tuning.gain', 7.25);
    params.set('tuning.mode', 'B');
    params.set('tuning.label', 'héllo');
    params.set('tuning.armed', true);
    params.set('tuning.serial', 2n ** 63n);
    first.close();
    const second = openStateStore(dir);
    const restored = new ParameterStore(dictionary, second);
    expect(restored.snapshot()).toEqual({
      'tuning.gain': 7.25,
      'tuning.mode': 'B',
      'tuning.label': 'héllo',
      'tuning.armed': true,
      'tuning.serial': 2n ** 63n,
    });
    expect(restored.discarded).toEqual([]);
    restored.reset('tuning.gain');
    second.close();
    expect(new ParameterStore(dictionary, openStateStore(dir)).get('tuning.gain')).toBe(2.5);
  });

  it('drops a stored value that no longer fits a changed declaration, and says so', () => {
    const store = memoryStateStore();
    new ParameterStore(dictionary, store).set('tuning.gain', 9);
    new ParameterStore(dictionary, store).set('tuning.label', 'x');
    const narrower = defineComponent({
      name: 'tuning',
      params: {
        gain: { id: 1, type: f32({ min: 0, max: 5 }), default: 1 },
        label: { id: 3, type: u8(), default: 0 },
      },
      setup: () => ({}),
    });
    const params = new ParameterStore(buildDictionary([narrower]), store);
    expect(params.get('tuning.gain')).toBe(1);
    expect(params.get('tuning.label')).toBe(0);
    expect(params.discarded).toEqual([
      { name: 'tuning.gain', reason: '9 not in [0, 5]' },
      { name: 'tuning.label', reason: 'stored as string, now u8' },
    ]);
  });
});
