import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { defineComponent } from '../../../src/core/component.js';
import {
  buildDictionary,
  canonicalStringify,
  DictionaryError,
  dictionaryToJson,
} from '../../../src/core/dictionary.js';
import { f32, u8 } from '../../../src/core/types.js';
import { health } from '../../../src/services/health/health.js';
import { powerLike, thermalLike } from '../../support/components.js';

describe('mission dictionary', () => {
  it('derives every command, telemetry parameter, event and parameter with qualified names', () => {
    const d = buildDictionary([thermalLike, powerLike]);
    expect(d.commands.map((c) => c.name)).toEqual([
      'thermal.SET_LIMIT',
      'thermal.SET_MODE',
      'thermal.POWER_CYCLE',
      'thermal.FAIL',
      'thermal.LABEL',
      'power.SHED',
    ]);
    expect(d.commandByOpcode.get(0x0303)).toMatchObject({ name: 'thermal.POWER_CYCLE', hazardous: true });
    expect(d.commandByName.get('thermal.SET_LIMIT')?.args.celsius).toMatchObject({
      kind: 'f32',
      min: 40,
      max: 95,
    });
    expect(d.telemetryById.get(0x0401)?.name).toBe('power.busV');
    expect(d.eventByName.get('thermal.TRIPPED')).toMatchObject({ id: 0x0301, severity: 'high' });
    expect(d.paramByName.get('thermal.targetC')?.default).toBe(85);
  });

  it('allows the same number for a command, a telemetry item, an event and a parameter', () => {
    // IDs are unique per kind: 0x0301 is an opcode, a telemetry ID, an event ID and a parameter ID at once.
    expect(() => buildDictionary([thermalLike])).not.toThrow();
  });

  it('fails on a duplicate opcode, naming both commands', () => {
    const clash = defineComponent({
      name: 'radio',
      commands: { TX_ON: { opcode: 0x0301 } },
      setup: () => ({ commands: { TX_ON: () => undefined } }),
    });
    expect(() => buildDictionary([thermalLike, clash])).toThrow(DictionaryError);
    expect(() => buildDictionary([thermalLike, clash])).toThrow(
      /command opcode 0x0301 is declared twice: by thermal.SET_LIMIT and by radio.TX_ON/,
    );
  });

  it('fails on duplicate telemetry, event and parameter IDs and component names, listing every clash', () => {
    const clash = defineComponent({
      name: 'radio',
      telemetry: { rssi: { id: 0x0401, type: f32() } },
      events: { LOST: { id: 0x0302, severity: 'low' } },
      params: { gain: { id: 0x0303, type: u8(), default: 3 } },
      setup: () => ({}),
    });
    let error: DictionaryError | undefined;
    try {
      buildDictionary([thermalLike, powerLike, clash, powerLike]);
    } catch (e) {
      error = e as DictionaryError;
    }
    expect(error).toBeInstanceOf(DictionaryError);
    expect(error?.problems).toEqual(
      expect.arrayContaining([
        "component name 'power' is deployed twice",
        'telemetry ID 0x0401 is declared twice: by power.busV and by radio.rssi',
        'event ID 0x0302 is declared twice: by thermal.LIMIT_SET and by radio.LOST',
        'parameter ID 0x0303 is declared twice: by thermal.enabled and by radio.gain',
        'command opcode 0x0401 is declared twice: by power.SHED and by power.SHED',
      ]),
    );
  });

  it('rejects IDs outside 16 bits, badly formed names and defaults outside their range', () => {
    const bad = defineComponent({
      name: 'Bad',
      commands: { lower: { opcode: 0x10000 } },
      telemetry: { Upper: { id: -1, type: f32() } },
      params: { gain: { id: 1, type: u8({ max: 10 }), default: 11 } },
      setup: () => ({ commands: { lower: () => undefined } }),
    });
    expect(() => buildDictionary([bad])).toThrow(DictionaryError);
    try {
      buildDictionary([bad]);
    } catch (e) {
      const problems = (e as DictionaryError).problems.join('\n');
      expect(problems).toMatch(/component name 'Bad' must be lowerCamelCase/);
      expect(problems).toMatch(/command Bad.lower: name must be UPPER_SNAKE_CASE/);
      expect(problems).toMatch(/command opcode 65536 of Bad.lower is not a 16-bit unsigned integer/);
      expect(problems).toMatch(/telemetry ID -1 of Bad.Upper/);
      expect(problems).toMatch(/parameter Bad.gain: default 11 not in \[0, 10\]/);
    }
  });

  it('has a CRC-32 of its canonical JSON that matches zlib and changes with any declaration', () => {
    const d = buildDictionary([thermalLike, powerLike]);
    expect(d.crc32).toBe(zlibCrc32(Buffer.from(d.canonicalJson)));
    expect(buildDictionary([powerLike, thermalLike]).crc32).toBe(d.crc32); // order of deployment does not matter
    const changed = defineComponent({
      name: 'power',
      commands: { SHED: { opcode: 0x0401, args: { load: u8() } } },
      telemetry: { busV: { id: 0x0401, type: f32({ units: 'V' }) } },
      setup: () => ({ commands: { SHED: () => undefined } }),
    });
    expect(buildDictionary([thermalLike, changed]).crc32).not.toBe(d.crc32);
  });

  it('prints JSON a ground station can verify from the text alone', () => {
    const json = dictionaryToJson(buildDictionary([health]));
    const { crc32, ...content } = json;
    expect(crc32).toBe(
      `0x${zlibCrc32(Buffer.from(canonicalStringify(content)))
        .toString(16)
        .padStart(8, '0')}`,
    );
    expect(content).toMatchObject({
      format: 'skynode-dictionary/1',
      mission: { spacecraftId: 0x2a, apid: 0x10 },
    });
    const commands = content.commands as Array<{ name: string; opcode: number }>;
    expect(commands.map((c) => c.name)).toContain('health.NOOP');
  });

  it('keeps argument order (the wire order) in the JSON', () => {
    const json = dictionaryToJson(buildDictionary([thermalLike]));
    const setMode = (json.commands as Array<{ name: string; args: Array<{ name: string }> }>).find(
      (c) => c.name === 'thermal.SET_MODE',
    );
    expect(setMode?.args.map((a) => a.name)).toEqual(['mode', 'level']);
  });

  it('canonical JSON sorts keys at every depth and drops undefined', () => {
    expect(canonicalStringify({ b: 1, a: { d: [2, { z: 1, y: undefined, x: 'q' }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"x":"q","z":1}]},"b":1}',
    );
  });
});
