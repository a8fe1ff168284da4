import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bool,
  bytes,
  type Checked,
  checkValue,
  type DataType,
  describeType,
  enumOf,
  f32,
  f64,
  type IntegerKind,
  i8,
  i16,
  i32,
  i64,
  NATURAL_RANGE,
  type NumericKind,
  parseValue,
  str,
  typeToJson,
  u8,
  u16,
  u32,
  u64,
} from '../../../src/core/types.js';

/** 'ok' or the error code: compact to assert on. */
function outcome(result: Checked<unknown>): string {
  return result.ok ? 'ok' : result.error.code;
}

const INTEGER_CTORS = { u8, u16, u32, i8, i16, i32 } as const;
const FLOAT_CTORS = { f32, f64 } as const;
const NUMERIC_CTORS = { ...INTEGER_CTORS, ...FLOAT_CTORS } as const;
const INTEGER_KINDS = Object.keys(INTEGER_CTORS) as IntegerKind[];
const NUMERIC_KINDS = Object.keys(NUMERIC_CTORS) as NumericKind[];

describe('NATURAL_RANGE', () => {
  it('holds the wire range of every numeric kind', () => {
    expect(NATURAL_RANGE).toEqual({
      u8: [0, 255],
      u16: [0, 65535],
      u32: [0, 4294967295],
      i8: [-128, 127],
      i16: [-32768, 32767],
      i32: [-2147483648, 2147483647],
      f32: [-3.4028234663852886e38, 3.4028234663852886e38],
      f64: [-Number.MAX_VALUE, Number.MAX_VALUE],
    });
  });

  it('has the largest finite float32 as the f32 bound', () => {
    const [lo, hi] = NATURAL_RANGE.f32;
    expect(Math.fround(hi)).toBe(hi);
    expect(lo).toBe(-hi);
    // 2^128 is the first power of two float32 cannot hold.
    expect(Math.fround(2 ** 128)).toBe(Number.POSITIVE_INFINITY);
    expect(hi).toBe((2 - 2 ** -23) * 2 ** 127);
  });
});

describe('checkValue', () => {
  describe('missing and wrong types', () => {
    const every: DataType[] = [
      u8(),
      u16(),
      u32(),
      i8(),
      i16(),
      i32(),
      f32(),
      f64(),
      u64(),
      i64(),
      bool(),
      enumOf(['A', 'B']),
      str(),
      bytes(),
    ];

    it.each(every.map((t) => [t.kind, t] as const))('%s: undefined is missing', (_kind, type) => {
      expect(checkValue(type, undefined)).toEqual({
        ok: false,
        error: { code: 'missing', message: 'missing' },
      });
    });

    it.each(every.map((t) => [t.kind, t] as const))(
      '%s: null is a wrong type, not missing',
      (_kind, type) => {
        expect(outcome(checkValue(type, null))).toBe('wrong-type');
      },
    );

    it('refuses a value of another JavaScript type for every kind', () => {
      const numbers: DataType[] = [u8(), u16(), u32(), i8(), i16(), i32(), f32(), f64()];
      for (const t of numbers) {
        expect(outcome(checkValue(t, '1')), t.kind).toBe('wrong-type');
        expect(outcome(checkValue(t, 1n)), t.kind).toBe('wrong-type');
        expect(outcome(checkValue(t, true)), t.kind).toBe('wrong-type');
        expect(outcome(checkValue(t, [1])), t.kind).toBe('wrong-type');
        expect(outcome(checkValue(t, {})), t.kind).toBe('wrong-type');
      }
      for (const t of [u64(), i64()]) {
        expect(outcome(checkValue(t, 1)), t.kind).toBe('wrong-type');
        expect(outcome(checkValue(t, '1')), t.kind).toBe('wrong-type');
      }
      expect(outcome(checkValue(bool(), 1))).toBe('wrong-type');
      expect(outcome(checkValue(bool(), 'true'))).toBe('wrong-type');
      expect(outcome(checkValue(enumOf(['A']), 0))).toBe('wrong-type');
      expect(outcome(checkValue(str(), 5))).toBe('wrong-type');
      expect(outcome(checkValue(str(), new Uint8Array(1)))).toBe('wrong-type');
      expect(outcome(checkValue(bytes(), [1, 2]))).toBe('wrong-type');
      expect(outcome(checkValue(bytes(), 'ab'))).toBe('wrong-type');
      expect(outcome(checkValue(bytes(), new ArrayBuffer(2)))).toBe('wrong-type');
    });

    it('describes the expected type and the value received in a wrong-type message', () => {
      const r = checkValue(u8({ min: 1, max: 9, units: 'V' }), 'x');
      expect(r).toEqual({
        ok: false,
        error: { code: 'wrong-type', message: 'expected u8 in [1, 9] V, got "x"' },
      });
      const big = checkValue(u8(), 5n);
      expect(big).toEqual({ ok: false, error: { code: 'wrong-type', message: 'expected u8, got 5n' } });
      const sym = checkValue(u8(), Symbol('s'));
      expect(sym.ok).toBe(false);
      if (!sym.ok) expect(sym.error.message).toBe('expected u8, got Symbol(s)');
    });

    // The wrong-type message renders the value: a circular structure or a nested bigint must not make it throw.
    it('never throws on a circular object', () => {
      const circular: { self?: unknown } = {};
      circular.self = circular;
      expect(outcome(checkValue(u8(), circular))).toBe('wrong-type');
    });

    it('never throws on an array holding a bigint', () => {
      expect(outcome(checkValue(bool(), [1n]))).toBe('wrong-type');
    });

    it('never throws on arbitrary JSON-like values', () => {
      const types: DataType[] = [u8(), f64(), u64(), bool(), enumOf(['A']), str({ maxLength: 4 }), bytes()];
      fc.assert(
        fc.property(fc.constantFrom(...types), fc.jsonValue(), (type, value) => {
          const r = checkValue(type, value);
          expect(['ok', 'missing', 'wrong-type', 'out-of-range']).toContain(outcome(r));
        }),
      );
    });
  });

  describe('integer kinds', () => {
    it.each(INTEGER_KINDS)('%s accepts both ends of its natural range and refuses one beyond', (kind) => {
      const type = INTEGER_CTORS[kind]();
      const [lo, hi] = NATURAL_RANGE[kind];
      expect(checkValue(type, lo)).toEqual({ ok: true, value: lo });
      expect(checkValue(type, hi)).toEqual({ ok: true, value: hi });
      expect(outcome(checkValue(type, lo - 1))).toBe('out-of-range');
      expect(outcome(checkValue(type, hi + 1))).toBe('out-of-range');
    });

    it.each(INTEGER_KINDS)('%s refuses non-integers, NaN and infinities as wrong-type', (kind) => {
      const type = INTEGER_CTORS[kind]();
      expect(outcome(checkValue(type, 1.5))).toBe('wrong-type');
      expect(outcome(checkValue(type, 0.1))).toBe('wrong-type');
      expect(outcome(checkValue(type, Number.NaN))).toBe('wrong-type');
      expect(outcome(checkValue(type, Number.POSITIVE_INFINITY))).toBe('wrong-type');
      expect(outcome(checkValue(type, Number.NEGATIVE_INFINITY))).toBe('wrong-type');
    });

    it('accepts exactly the integers of the natural range (property)', () => {
      fc.assert(
        fc.property(fc.constantFrom(...INTEGER_KINDS), fc.integer(), (kind, value) => {
          const [lo, hi] = NATURAL_RANGE[kind];
          const expected = value >= lo && value <= hi ? 'ok' : 'out-of-range';
          expect(outcome(checkValue(INTEGER_CTORS[kind](), value))).toBe(expected);
        }),
      );
    });

    it('applies the declared min and max, inclusive', () => {
      const t = u8({ min: 10, max: 20 });
      expect(outcome(checkValue(t, 9))).toBe('out-of-range');
      expect(checkValue(t, 10)).toEqual({ ok: true, value: 10 });
      expect(checkValue(t, 20)).toEqual({ ok: true, value: 20 });
      expect(outcome(checkValue(t, 21))).toBe('out-of-range');
      const onlyMax = i16({ max: -5 });
      expect(checkValue(onlyMax, -32768)).toEqual({ ok: true, value: -32768 });
      expect(outcome(checkValue(onlyMax, -4))).toBe('out-of-range');
      const onlyMin = u32({ min: 1 });
      expect(outcome(checkValue(onlyMin, 0))).toBe('out-of-range');
      expect(checkValue(onlyMin, 0xffffffff)).toEqual({ ok: true, value: 0xffffffff });
    });

    it('names the range and the units in an out-of-range message', () => {
      const r = checkValue(u16({ min: 100, max: 200, units: 'mA' }), 201);
      expect(r).toEqual({ ok: false, error: { code: 'out-of-range', message: '201 not in [100, 200] mA' } });
      const natural = checkValue(i8(), -129);
      expect(natural).toEqual({
        ok: false,
        error: { code: 'out-of-range', message: '-129 not in [-128, 127]' },
      });
    });

    it('accepts -0 as an unsigned integer', () => {
      expect(outcome(checkValue(u8(), -0))).toBe('ok');
    });
  });

  describe('float kinds', () => {
    it.each(['f32', 'f64'] as const)(
      '%s accepts fractions, refuses NaN as wrong-type and infinities as out-of-range',
      (kind) => {
        const type = FLOAT_CTORS[kind]();
        expect(checkValue(type, 1.5)).toEqual({ ok: true, value: 1.5 });
        expect(checkValue(type, -0.25)).toEqual({ ok: true, value: -0.25 });
        expect(outcome(checkValue(type, Number.NaN))).toBe('wrong-type');
        const inf = checkValue(type, Number.POSITIVE_INFINITY);
        expect(inf).toEqual({
          ok: false,
          error: { code: 'out-of-range', message: 'Infinity is not finite' },
        });
        expect(outcome(checkValue(type, Number.NEGATIVE_INFINITY))).toBe('out-of-range');
      },
    );

    it('f32 accepts the largest float32 and refuses anything above it', () => {
      const [lo, hi] = NATURAL_RANGE.f32;
      expect(outcome(checkValue(f32(), hi))).toBe('ok');
      expect(outcome(checkValue(f32(), lo))).toBe('ok');
      expect(outcome(checkValue(f32(), 3.5e38))).toBe('out-of-range');
      expect(outcome(checkValue(f32(), -3.5e38))).toBe('out-of-range');
      expect(outcome(checkValue(f32(), 1e300))).toBe('out-of-range');
      expect(outcome(checkValue(f64(), 1e300))).toBe('ok');
      expect(outcome(checkValue(f64(), Number.MAX_VALUE))).toBe('ok');
      expect(outcome(checkValue(f64(), -Number.MAX_VALUE))).toBe('ok');
    });

    it('applies declared float limits, inclusive', () => {
      const t = f32({ min: 40, max: 95, units: 'degC' });
      expect(outcome(checkValue(t, 39.999))).toBe('out-of-range');
      expect(checkValue(t, 40)).toEqual({ ok: true, value: 40 });
      expect(checkValue(t, 95)).toEqual({ ok: true, value: 95 });
      expect(checkValue(t, 95.0001)).toEqual({
        ok: false,
        error: { code: 'out-of-range', message: '95.0001 not in [40, 95] degC' },
      });
    });

    it('f64 accepts every finite double (property)', () => {
      fc.assert(
        fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
          expect(checkValue(f64(), v)).toEqual({ ok: true, value: v });
        }),
      );
    });

    it('f32 accepts every finite float32 (property)', () => {
      fc.assert(
        fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (v) => {
          expect(outcome(checkValue(f32(), Math.fround(v)))).toBe('ok');
        }),
      );
    });
  });

  describe('u64 and i64', () => {
    it('accepts both ends of the natural range and refuses one beyond', () => {
      expect(checkValue(u64(), 0n)).toEqual({ ok: true, value: 0n });
      expect(checkValue(u64(), 2n ** 64n - 1n)).toEqual({ ok: true, value: 2n ** 64n - 1n });
      expect(outcome(checkValue(u64(), -1n))).toBe('out-of-range');
      expect(outcome(checkValue(u64(), 2n ** 64n))).toBe('out-of-range');
      expect(checkValue(i64(), -(2n ** 63n))).toEqual({ ok: true, value: -(2n ** 63n) });
      expect(checkValue(i64(), 2n ** 63n - 1n)).toEqual({ ok: true, value: 2n ** 63n - 1n });
      expect(outcome(checkValue(i64(), -(2n ** 63n) - 1n))).toBe('out-of-range');
      expect(outcome(checkValue(i64(), 2n ** 63n))).toBe('out-of-range');
    });

    it('applies declared bigint limits', () => {
      const t = u64({ min: 10n, max: 20n });
      expect(outcome(checkValue(t, 9n))).toBe('out-of-range');
      expect(checkValue(t, 10n)).toEqual({ ok: true, value: 10n });
      expect(checkValue(t, 20n)).toEqual({ ok: true, value: 20n });
      expect(checkValue(t, 21n)).toEqual({
        ok: false,
        error: { code: 'out-of-range', message: '21 not in [10, 20]' },
      });
    });

    it('accepts exactly the bigints of the natural range (property)', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: -(2n ** 65n), max: 2n ** 65n }), (v) => {
          const u = v >= 0n && v < 2n ** 64n ? 'ok' : 'out-of-range';
          const i = v >= -(2n ** 63n) && v < 2n ** 63n ? 'ok' : 'out-of-range';
          expect(outcome(checkValue(u64(), v))).toBe(u);
          expect(outcome(checkValue(i64(), v))).toBe(i);
        }),
      );
    });

    // A hand-built type (not from u64()) may declare a min below the natural range: the natural range still holds.
    it('keeps the natural range even when u64 declares a min below it', () => {
      expect(outcome(checkValue({ kind: 'u64', min: -1n } as const, -1n))).toBe('out-of-range');
    });
  });

  describe('bool and enum', () => {
    it('accepts booleans only', () => {
      expect(checkValue(bool(), true)).toEqual({ ok: true, value: true });
      expect(checkValue(bool(), false)).toEqual({ ok: true, value: false });
      expect(outcome(checkValue(bool(), 0))).toBe('wrong-type');
    });

    it('accepts the enum labels, case-sensitively, and names them on refusal', () => {
      const mode = enumOf(['SAFE', 'NOMINAL', 'SCIENCE']);
      expect(checkValue(mode, 'SAFE')).toEqual({ ok: true, value: 'SAFE' });
      expect(checkValue(mode, 'SCIENCE')).toEqual({ ok: true, value: 'SCIENCE' });
      expect(checkValue(mode, 'safe')).toEqual({
        ok: false,
        error: { code: 'wrong-type', message: 'expected one of SAFE|NOMINAL|SCIENCE, got "safe"' },
      });
      expect(outcome(checkValue(mode, ''))).toBe('wrong-type');
      expect(outcome(checkValue(mode, 1))).toBe('wrong-type');
    });
  });

  describe('string and bytes', () => {
    it('counts string length in UTF-8 octets, not UTF-16 units', () => {
      const t = str({ maxLength: 3 });
      expect(checkValue(t, 'abc')).toEqual({ ok: true, value: 'abc' });
      expect(checkValue(t, 'hé')).toEqual({ ok: true, value: 'hé' }); // 3 octets
      expect(checkValue(t, 'abcd')).toEqual({
        ok: false,
        error: { code: 'out-of-range', message: '4 octets > maxLength 3' },
      });
      expect(outcome(checkValue(t, 'héé'))).toBe('out-of-range'); // 3 chars, 5 octets
      expect(outcome(checkValue(t, '€'))).toBe('ok'); // 3 octets
      expect(outcome(checkValue(t, '€a'))).toBe('out-of-range'); // 4 octets
      expect(outcome(checkValue(t, '😀'))).toBe('out-of-range'); // 2 UTF-16 units, 4 octets
      expect(outcome(checkValue(str({ maxLength: 4 }), '😀'))).toBe('ok');
      expect(checkValue(str({ maxLength: 0 }), '')).toEqual({ ok: true, value: '' });
      expect(outcome(checkValue(str({ maxLength: 0 }), 'a'))).toBe('out-of-range');
    });

    it('agrees with TextEncoder on string length (property)', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 20 }), fc.nat({ max: 40 }), (s, max) => {
          const octets = new TextEncoder().encode(s).length;
          expect(outcome(checkValue(str({ maxLength: max }), s))).toBe(octets <= max ? 'ok' : 'out-of-range');
        }),
      );
    });

    it('applies bytes maxLength and accepts any Uint8Array', () => {
      const t = bytes({ maxLength: 2 });
      expect(checkValue(t, new Uint8Array([1, 2]))).toEqual({ ok: true, value: new Uint8Array([1, 2]) });
      expect(checkValue(t, new Uint8Array([1, 2, 3]))).toEqual({
        ok: false,
        error: { code: 'out-of-range', message: '3 octets > maxLength 2' },
      });
      expect(outcome(checkValue(t, new Uint8Array(0)))).toBe('ok');
      expect(outcome(checkValue(t, Buffer.from([1])))).toBe('ok');
    });
  });
});

describe('parseValue', () => {
  it('parses integers as a person types them', () => {
    expect(parseValue(u8(), '80')).toEqual({ ok: true, value: 80 });
    expect(parseValue(u8(), ' 80 ')).toEqual({ ok: true, value: 80 });
    expect(parseValue(u8(), '+7')).toEqual({ ok: true, value: 7 });
    expect(parseValue(u8(), '0x1F')).toEqual({ ok: true, value: 31 });
    expect(parseValue(u8(), '0x1f')).toEqual({ ok: true, value: 31 });
    expect(parseValue(u16(), '1e3')).toEqual({ ok: true, value: 1000 });
    expect(parseValue(u16(), '1E3')).toEqual({ ok: true, value: 1000 });
    expect(parseValue(u8(), '1.')).toEqual({ ok: true, value: 1 });
    expect(parseValue(i16(), '-300')).toEqual({ ok: true, value: -300 });
    expect(parseValue(i32(), '-2147483648')).toEqual({ ok: true, value: -2147483648 });
  });

  it('parses floats with fractions and exponents', () => {
    expect(parseValue(f32(), '1.5')).toEqual({ ok: true, value: 1.5 });
    expect(parseValue(f32(), '.5')).toEqual({ ok: true, value: 0.5 });
    expect(parseValue(f64(), '-2.5e-3')).toEqual({ ok: true, value: -0.0025 });
    expect(parseValue(f64(), '6.02E+23')).toEqual({ ok: true, value: 6.02e23 });
  });

  it('checks the parsed number against the type', () => {
    expect(outcome(parseValue(u8(), '256'))).toBe('out-of-range');
    expect(outcome(parseValue(u8(), '-1'))).toBe('out-of-range');
    expect(outcome(parseValue(u8(), '1.5'))).toBe('wrong-type');
    expect(outcome(parseValue(u8({ max: 100 }), '1e3'))).toBe('out-of-range');
    expect(outcome(parseValue(f64(), '1e400'))).toBe('out-of-range'); // Infinity
    expect(outcome(parseValue(f32(), '1e39'))).toBe('out-of-range');
  });

  it('refuses text that is not a number as wrong-type, echoing the text', () => {
    for (const text of [
      '',
      '  ',
      'abc',
      '12abc',
      '1,5',
      '1 000',
      'NaN',
      'Infinity',
      '0x',
      '0b101',
      '--1',
      '1e',
      'e3',
      '.',
    ]) {
      const r = parseValue(u16(), text);
      expect(outcome(r), JSON.stringify(text)).toBe('wrong-type');
    }
    expect(parseValue(u16(), 'abc')).toEqual({
      ok: false,
      error: { code: 'wrong-type', message: 'expected u16, got "abc"' },
    });
  });

  // The number regex accepts a sign before a hex literal, but Number('-0x1F') is NaN: the text the parser
  // explicitly allows comes back as wrong-type ("got null") instead of -31.
  it('parses a signed hex integer', () => {
    expect(parseValue(i16(), '-0x1F')).toEqual({ ok: true, value: -31 });
  });

  it('parses booleans: true/false, on/off, yes/no, 1/0, any case', () => {
    for (const t of ['true', 'TRUE', 'True', 'on', 'ON', 'yes', '1']) {
      expect(parseValue(bool(), t), t).toEqual({ ok: true, value: true });
    }
    for (const t of ['false', 'FALSE', 'off', 'Off', 'no', '0']) {
      expect(parseValue(bool(), t), t).toEqual({ ok: true, value: false });
    }
    for (const t of ['', 'maybe', '2', 'truee', 'y', 'n']) {
      expect(outcome(parseValue(bool(), t)), t).toBe('wrong-type');
    }
    expect(parseValue(bool(), 'maybe')).toEqual({
      ok: false,
      error: { code: 'wrong-type', message: 'expected a boolean, got "maybe"' },
    });
  });

  it('parses enum labels exactly', () => {
    const mode = enumOf(['SAFE', 'NOMINAL']);
    expect(parseValue(mode, 'SAFE')).toEqual({ ok: true, value: 'SAFE' });
    expect(parseValue(mode, 'NOMINAL')).toEqual({ ok: true, value: 'NOMINAL' });
    expect(outcome(parseValue(mode, 'safe'))).toBe('wrong-type');
    expect(outcome(parseValue(mode, '0'))).toBe('wrong-type');
  });

  it('takes strings verbatim and checks their octet length', () => {
    expect(parseValue(str(), ' hello ')).toEqual({ ok: true, value: ' hello ' });
    expect(parseValue(str(), '')).toEqual({ ok: true, value: '' });
    expect(outcome(parseValue(str({ maxLength: 2 }), 'hé'))).toBe('out-of-range');
  });

  it('parses bytes as hex, with or without 0x', () => {
    expect(parseValue(bytes(), '0a0bff')).toEqual({ ok: true, value: new Uint8Array([0x0a, 0x0b, 0xff]) });
    expect(parseValue(bytes(), '0xDEADbeef')).toEqual({
      ok: true,
      value: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
    });
    expect(parseValue(bytes(), '')).toEqual({ ok: true, value: new Uint8Array(0) });
    expect(parseValue(bytes(), '0x')).toEqual({ ok: true, value: new Uint8Array(0) });
    expect(outcome(parseValue(bytes(), 'abc'))).toBe('wrong-type'); // odd digit count
    expect(outcome(parseValue(bytes(), 'zz'))).toBe('wrong-type');
    expect(outcome(parseValue(bytes(), '0a 0b'))).toBe('wrong-type');
    expect(outcome(parseValue(bytes({ maxLength: 1 }), '0102'))).toBe('out-of-range');
  });

  it('round-trips any byte array through its hex text (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(parseValue(bytes(), Buffer.from(b).toString('hex'))).toEqual({ ok: true, value: b });
      }),
    );
  });

  it('parses u64 and i64 in decimal and hex without losing precision', () => {
    expect(parseValue(u64(), '18446744073709551615')).toEqual({ ok: true, value: 18446744073709551615n });
    expect(parseValue(u64(), '0xFFFFFFFFFFFFFFFF')).toEqual({ ok: true, value: 0xffffffffffffffffn });
    expect(parseValue(u64(), ' 42 ')).toEqual({ ok: true, value: 42n });
    expect(parseValue(i64(), '-9223372036854775808')).toEqual({ ok: true, value: -9223372036854775808n });
    expect(parseValue(i64(), '+5')).toEqual({ ok: true, value: 5n });
    expect(outcome(parseValue(u64(), '18446744073709551616'))).toBe('out-of-range');
    expect(outcome(parseValue(u64(), '-1'))).toBe('out-of-range');
    for (const text of ['', '1.5', '1e3', 'abc', '0x', '12n']) {
      expect(outcome(parseValue(u64(), text)), text).toBe('wrong-type');
    }
  });

  // BigInt('-0x10') throws a SyntaxError, so the sign must be applied separately.
  it('parses a signed hex i64 without throwing', () => {
    expect(parseValue(i64(), '-0x10')).toEqual({ ok: true, value: -16n });
  });

  it('round-trips every in-range integer through its decimal and hex text (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...INTEGER_KINDS), fc.integer(), (kind, n) => {
        const [lo, hi] = NATURAL_RANGE[kind];
        const v = Math.min(hi, Math.max(lo, n));
        const type = INTEGER_CTORS[kind]();
        expect(parseValue(type, String(v))).toEqual({ ok: true, value: v });
        if (v >= 0) expect(parseValue(type, `0x${v.toString(16)}`)).toEqual({ ok: true, value: v });
      }),
    );
  });

  it('round-trips every finite double through its shortest text (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const r = parseValue(f64(), String(v));
        expect(r.ok).toBe(true);
        if (r.ok) expect(Object.is(r.value, v) || (r.value === 0 && v === 0)).toBe(true);
      }),
    );
  });
});

describe('constructors', () => {
  it('build plain type objects with the options given', () => {
    expect(u8()).toEqual({ kind: 'u8' });
    expect(f32({ min: 40, max: 95, units: 'degC', description: 'limit' })).toEqual({
      kind: 'f32',
      min: 40,
      max: 95,
      units: 'degC',
      description: 'limit',
    });
    expect(u64({ max: 5n })).toEqual({ kind: 'u64', max: 5n });
    expect(bool({ description: 'on' })).toEqual({ kind: 'bool', description: 'on' });
    expect(enumOf(['A', 'B'])).toEqual({ kind: 'enum', values: ['A', 'B'] });
    expect(str()).toEqual({ kind: 'string', maxLength: 255 });
    expect(bytes()).toEqual({ kind: 'bytes', maxLength: 1024 });
    expect(str({ maxLength: 0 }).maxLength).toBe(0);
    expect(bytes({ maxLength: 65535 }).maxLength).toBe(65535);
  });

  it.each(NUMERIC_KINDS)('%s refuses a min below or a max above the natural range', (kind) => {
    const ctor = NUMERIC_CTORS[kind];
    const [lo, hi] = NATURAL_RANGE[kind];
    // lo - 1 rounds back to lo for floats: step out by a factor instead (2 * f64 max is Infinity).
    const below = kind === 'f32' || kind === 'f64' ? lo * 2 : lo - 1;
    const above = kind === 'f32' || kind === 'f64' ? hi * 2 : hi + 1;
    expect(() => ctor({ min: below })).toThrow(RangeError);
    expect(() => ctor({ max: above })).toThrow(RangeError);
    expect(() => ctor({ min: lo, max: hi })).not.toThrow();
  });

  it.each(NUMERIC_KINDS)('%s refuses min > max and accepts min === max', (kind) => {
    const ctor = NUMERIC_CTORS[kind];
    expect(() => ctor({ min: 6, max: 5 })).toThrow(RangeError);
    expect(() => ctor({ min: 6, max: 5 })).toThrow(`${kind}: min 6 > max 5`);
    expect(ctor({ min: 5, max: 5 })).toEqual({ kind, min: 5, max: 5 });
  });

  it('gives a precise message for an out-of-range limit', () => {
    expect(() => u8({ min: -1 })).toThrow('u8: min -1 < 0');
    expect(() => i8({ max: 128 })).toThrow('i8: max 128 > 127');
  });

  // The numeric constructors refuse min > max and limits outside the natural range; u64() and i64() check
  // nothing.
  it('u64/i64 refuse min > max like the other numeric kinds', () => {
    expect(() => u64({ min: 6n, max: 5n })).toThrow(RangeError);
  });

  it('u64 refuses a min below 0', () => {
    expect(() => u64({ min: -1n })).toThrow(RangeError);
  });

  it('i64 refuses a max above 2^63-1', () => {
    expect(() => i64({ max: 2n ** 63n })).toThrow(RangeError);
  });

  it('enumOf refuses no labels, more than 256 and duplicates', () => {
    expect(() => enumOf([])).toThrow(RangeError);
    expect(() => enumOf(['A', 'B', 'A'])).toThrow(RangeError);
    expect(() => enumOf(['A', 'B', 'A'])).toThrow('enum: duplicate label in A,B,A');
    const labels = Array.from({ length: 257 }, (_, i) => `L${i}`);
    expect(() => enumOf(labels)).toThrow(RangeError);
    expect(enumOf(labels.slice(0, 256)).values).toHaveLength(256);
    expect(enumOf(['ONLY']).values).toEqual(['ONLY']);
  });

  it('str and bytes refuse a maxLength outside 0..65535', () => {
    expect(() => str({ maxLength: -1 })).toThrow(RangeError);
    expect(() => str({ maxLength: 65536 })).toThrow(RangeError);
    expect(() => bytes({ maxLength: -1 })).toThrow(RangeError);
    expect(() => bytes({ maxLength: 65536 })).toThrow(RangeError);
  });
});

describe('describeType', () => {
  it('describes every kind', () => {
    expect(describeType(u8())).toBe('u8');
    expect(describeType(f32({ min: 40, max: 95, units: 'degC' }))).toBe('f32 in [40, 95] degC');
    expect(describeType(i16({ max: 10 }))).toBe('i16 in [, 10]');
    expect(describeType(u32({ min: 1 }))).toBe('u32 in [1, ]');
    expect(describeType(f64({ units: 'm/s' }))).toBe('f64 m/s');
    expect(describeType(u64({ min: 1n, max: 2n ** 40n }))).toBe('u64 in [1, 1099511627776]');
    expect(describeType(i64())).toBe('i64');
    expect(describeType(bool())).toBe('a boolean');
    expect(describeType(enumOf(['SAFE', 'NOMINAL']))).toBe('one of SAFE|NOMINAL');
    expect(describeType(str({ maxLength: 16 }))).toBe('a string of at most 16 octets');
    expect(describeType(bytes({ maxLength: 8 }))).toBe('bytes (at most 8)');
  });
});

describe('typeToJson', () => {
  it('gives a JSON-safe description with bigint limits as decimal strings', () => {
    expect(typeToJson(u8())).toEqual({ kind: 'u8' });
    expect(typeToJson(f32({ min: 40, max: 95, units: 'degC', description: 'trip' }))).toEqual({
      kind: 'f32',
      min: 40,
      max: 95,
      units: 'degC',
      description: 'trip',
    });
    expect(typeToJson(i8({ min: 0 }))).toEqual({ kind: 'i8', min: 0 });
    expect(typeToJson(u64({ min: 1n, max: 18446744073709551615n }))).toEqual({
      kind: 'u64',
      min: '1',
      max: '18446744073709551615',
    });
    expect(typeToJson(i64({ min: -5n }))).toEqual({ kind: 'i64', min: '-5' });
    expect(typeToJson(bool())).toEqual({ kind: 'bool' });
    expect(typeToJson(enumOf(['A', 'B'], { units: 'mode' }))).toEqual({
      kind: 'enum',
      values: ['A', 'B'],
      units: 'mode',
    });
    expect(typeToJson(str({ maxLength: 10 }))).toEqual({ kind: 'string', maxLength: 10 });
    expect(typeToJson(bytes())).toEqual({ kind: 'bytes', maxLength: 1024 });
  });

  it('copies the enum labels rather than sharing the array', () => {
    const labels = ['A', 'B'];
    const json = typeToJson(enumOf(labels));
    expect(json.values).not.toBe(labels);
    expect(json.values).toEqual(labels);
  });

  it('survives JSON.stringify for every kind', () => {
    const all: DataType[] = [
      u8({ min: 1 }),
      f64({ max: 2.5 }),
      u64({ min: 3n }),
      i64({ max: -3n }),
      bool(),
      enumOf(['X']),
      str(),
      bytes({ maxLength: 4 }),
    ];
    for (const t of all) {
      const json = typeToJson(t);
      expect(JSON.parse(JSON.stringify(json)), t.kind).toEqual(json);
    }
  });

  it('omits empty units and description', () => {
    expect(typeToJson(u8({ units: '', description: '' }))).toEqual({ kind: 'u8' });
  });
});
