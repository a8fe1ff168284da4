import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packedSize, packRecord, packValue, unpackRecord, unpackValue } from '../../../src/core/pack.js';
import {
  bool,
  bytes,
  type DataType,
  enumOf,
  f32,
  f64,
  i8,
  i16,
  i32,
  i64,
  str,
  u8,
  u16,
  u32,
  u64,
} from '../../../src/core/types.js';

function hex(data: Uint8Array): string {
  return Buffer.from(data)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
}

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

/** Packs one value alone. */
function packOne(type: DataType, value: unknown): Uint8Array {
  return packRecord({ v: type }, { v: value });
}

/** Unpacks one value alone, asserting success and that every octet was used. */
function unpackOne(type: DataType, data: Uint8Array): unknown {
  const r = unpackRecord({ v: type }, data);
  if (!r.ok) throw new Error(`unexpected failure: ${r.error}`);
  expect(r.offset).toBe(data.length);
  return r.value.v;
}

const MODE = enumOf(['SAFE', 'NOMINAL', 'SCIENCE']);

describe('packed encoding: byte-exact examples (big-endian)', () => {
  const cases: ReadonlyArray<readonly [string, DataType, unknown, string]> = [
    ['u8 0', u8(), 0, '00'],
    ['u8 255', u8(), 255, 'ff'],
    ['i8 -1', i8(), -1, 'ff'],
    ['i8 -128', i8(), -128, '80'],
    ['i8 127', i8(), 127, '7f'],
    ['u16 0x1234', u16(), 0x1234, '12 34'],
    ['i16 -2', i16(), -2, 'ff fe'],
    ['i16 -32768', i16(), -32768, '80 00'],
    ['u32 0xdeadbeef', u32(), 0xdeadbeef, 'de ad be ef'],
    ['u32 1', u32(), 1, '00 00 00 01'],
    ['i32 -1', i32(), -1, 'ff ff ff ff'],
    ['i32 0x01020304', i32(), 0x01020304, '01 02 03 04'],
    ['f32 1.5', f32(), 1.5, '3f c0 00 00'],
    ['f32 -2', f32(), -2, 'c0 00 00 00'],
    ['f32 0', f32(), 0, '00 00 00 00'],
    ['f32 -0', f32(), -0, '80 00 00 00'],
    ['f64 1.5', f64(), 1.5, '3f f8 00 00 00 00 00 00'],
    ['f64 -0.1', f64(), -0.1, 'bf b9 99 99 99 99 99 9a'],
    ['u64 0x0102030405060708', u64(), 0x0102030405060708n, '01 02 03 04 05 06 07 08'],
    ['u64 max', u64(), 2n ** 64n - 1n, 'ff ff ff ff ff ff ff ff'],
    ['i64 -2', i64(), -2n, 'ff ff ff ff ff ff ff fe'],
    ['i64 min', i64(), -(2n ** 63n), '80 00 00 00 00 00 00 00'],
    ['bool true', bool(), true, '01'],
    ['bool false', bool(), false, '00'],
    ['enum first label', MODE, 'SAFE', '00'],
    ['enum third label', MODE, 'SCIENCE', '02'],
    ['string "hé"', str(), 'hé', '00 03 68 c3 a9'],
    ['string empty', str(), '', '00 00'],
    ['string emoji', str(), '😀', '00 04 f0 9f 98 80'],
    ['bytes 01 02 03', bytes(), new Uint8Array([1, 2, 3]), '00 03 01 02 03'],
    ['bytes empty', bytes(), new Uint8Array(0), '00 00'],
  ];

  it.each(cases)('%s', (_name, type, value, expected) => {
    const packed = packOne(type, value);
    expect(hex(packed)).toBe(expected);
    expect(packedSize(type, value)).toBe(packed.length);
    expect(unpackOne(type, packed)).toEqual(value);
  });

  it('packs a 300-octet string with a 16-bit length 01 2c', () => {
    const text = 'x'.repeat(300);
    const packed = packOne(str({ maxLength: 1000 }), text);
    expect(packed.length).toBe(302);
    expect(hex(packed.subarray(0, 3))).toBe('01 2c 78');
  });

  it('packs a record in declaration order, field after field', () => {
    const types = { mode: MODE, celsius: f32(), count: u16(), name: str(), on: bool() };
    const packed = packRecord(types, { on: true, name: 'hé', count: 0x1234, celsius: 1.5, mode: 'NOMINAL' });
    expect(hex(packed)).toBe('01 3f c0 00 00 12 34 00 03 68 c3 a9 01');
    const r = unpackRecord(types, packed);
    expect(r).toEqual({
      ok: true,
      value: { mode: 'NOMINAL', celsius: 1.5, count: 0x1234, name: 'hé', on: true },
      offset: 13,
    });
  });

  it('packs an empty record as no octets', () => {
    expect(packRecord({}, {})).toEqual(new Uint8Array(0));
    expect(unpackRecord({}, new Uint8Array(0))).toEqual({ ok: true, value: {}, offset: 0 });
    expect(unpackRecord({}, new Uint8Array([1, 2]), 1)).toEqual({ ok: true, value: {}, offset: 1 });
  });
});

describe('packValue and unpackValue', () => {
  it('write at an offset and return the offset after the value', () => {
    const out = new Uint8Array(12).fill(0xaa);
    const view = new DataView(out.buffer);
    let at = packValue(view, 1, u16(), 0x1234);
    expect(at).toBe(3);
    at = packValue(view, at, str(), 'ab');
    expect(at).toBe(7);
    at = packValue(view, at, i8(), -2);
    expect(at).toBe(8);
    expect(hex(out)).toBe('aa 12 34 00 02 61 62 fe aa aa aa aa');
  });

  it('return the size of each kind as the next offset', () => {
    const sizes: ReadonlyArray<readonly [DataType, unknown, number]> = [
      [u8(), 1, 1],
      [i8(), 1, 1],
      [bool(), true, 1],
      [MODE, 'SAFE', 1],
      [u16(), 1, 2],
      [i16(), 1, 2],
      [u32(), 1, 4],
      [i32(), 1, 4],
      [f32(), 1, 4],
      [f64(), 1, 8],
      [u64(), 1n, 8],
      [i64(), 1n, 8],
      [str(), 'abc', 5],
      [bytes(), new Uint8Array(4), 6],
    ];
    for (const [type, value, size] of sizes) {
      const out = new Uint8Array(16);
      const view = new DataView(out.buffer);
      expect(packValue(view, 2, type, value), type.kind).toBe(2 + size);
      expect(packedSize(type, value), type.kind).toBe(size);
      expect(unpackValue(view, 2, type), type.kind).toEqual({ ok: true, value, offset: 2 + size });
    }
  });

  it('write inside a DataView that starts part-way into its buffer', () => {
    const backing = new Uint8Array(10);
    const view = new DataView(backing.buffer, 4, 6);
    expect(packValue(view, 0, bytes(), new Uint8Array([9, 8]))).toBe(4);
    expect(hex(backing)).toBe('00 00 00 00 00 02 09 08 00 00');
    expect(unpackValue(view, 0, bytes())).toEqual({ ok: true, value: new Uint8Array([9, 8]), offset: 4 });
  });

  it('unpack bytes as a copy, not a view of the input', () => {
    const data = fromHex('00 02 05 06');
    const r = unpackValue(new DataView(data.buffer), 0, bytes());
    if (!r.ok) throw new Error(r.error);
    data[2] = 0xff;
    expect(r.value).toEqual(new Uint8Array([5, 6]));
  });
});

describe('unpackRecord', () => {
  it('starts at the offset given and reports where the record ends', () => {
    const data = fromHex('ee ee 12 34 01 ee');
    expect(unpackRecord({ a: u16(), b: bool() }, data, 2)).toEqual({
      ok: true,
      value: { a: 0x1234, b: true },
      offset: 5,
    });
  });

  it('honours the byteOffset of a subarray', () => {
    const whole = fromHex('ff ff 00 03 61 62 63 ff');
    const part = whole.subarray(2, 7);
    expect(unpackRecord({ s: str() }, part)).toEqual({ ok: true, value: { s: 'abc' }, offset: 5 });
    // The subarray ends before the last octet of the whole buffer: a u8 after the string is past its end.
    expect(unpackRecord({ s: str(), x: u8() }, part).ok).toBe(false);
  });

  it('refuses a truncated fixed-size field, naming the field', () => {
    expect(unpackRecord({ a: u8(), b: u32() }, fromHex('01 00 00 00'))).toEqual({
      ok: false,
      error: 'b: truncated u32 at octet 1',
    });
    expect(unpackRecord({ a: u16() }, fromHex('01')).ok).toBe(false);
    expect(unpackRecord({ a: u8() }, new Uint8Array(0)).ok).toBe(false);
    expect(unpackRecord({ a: u8() }, fromHex('01'), 1).ok).toBe(false);
    expect(unpackRecord({ a: u8() }, fromHex('01'), 5).ok).toBe(false);
  });

  it('refuses a string or bytes whose octets run past the end', () => {
    expect(unpackRecord({ s: str() }, fromHex('00 03 61 62'))).toEqual({
      ok: false,
      error: 's: truncated string at octet 0',
    });
    expect(unpackRecord({ s: str() }, fromHex('00'))).toEqual({
      ok: false,
      error: 's: truncated string at octet 0',
    });
    expect(unpackRecord({ b: bytes() }, fromHex('00 05 01 02 03 04'))).toEqual({
      ok: false,
      error: 'b: truncated bytes at octet 0',
    });
  });

  it('refuses a length above the declared maxLength', () => {
    expect(unpackRecord({ s: str({ maxLength: 2 }) }, fromHex('00 03 61 62 63'))).toEqual({
      ok: false,
      error: 's: string of 3 octets > 2',
    });
    expect(unpackRecord({ b: bytes({ maxLength: 1 }) }, fromHex('00 02 01 02'))).toEqual({
      ok: false,
      error: 'b: bytes of 2 octets > 1',
    });
  });

  it('refuses an enum index without a label', () => {
    expect(unpackRecord({ m: MODE }, fromHex('02')).ok).toBe(true);
    expect(unpackRecord({ m: MODE }, fromHex('03'))).toEqual({
      ok: false,
      error: 'm: enum index 3 at 0 has no label',
    });
    for (let i = 3; i < 256; i++) expect(unpackRecord({ m: MODE }, Uint8Array.of(i)).ok).toBe(false);
  });

  it('refuses a bool octet other than 0 or 1', () => {
    expect(unpackRecord({ b: bool() }, fromHex('00'))).toEqual({ ok: true, value: { b: false }, offset: 1 });
    expect(unpackRecord({ b: bool() }, fromHex('01'))).toEqual({ ok: true, value: { b: true }, offset: 1 });
    expect(unpackRecord({ b: bool() }, fromHex('02'))).toEqual({
      ok: false,
      error: 'b: bool octet 2 at 0 is neither 0 nor 1',
    });
    for (let i = 2; i < 256; i++) expect(unpackRecord({ b: bool() }, Uint8Array.of(i)).ok).toBe(false);
  });

  it('refuses a string that is not valid UTF-8', () => {
    const bad = [
      '00 01 ff', // never valid
      '00 01 80', // lone continuation octet
      '00 02 c3 28', // bad continuation
      '00 01 c3', // truncated sequence
      '00 02 c0 af', // overlong "/"
      '00 03 ed a0 80', // UTF-16 surrogate D800
      '00 04 f4 90 80 80', // above U+10FFFF
    ];
    for (const text of bad) {
      expect(unpackRecord({ s: str() }, fromHex(text)), text).toEqual({
        ok: false,
        error: 's: string at octet 0 is not valid UTF-8',
      });
    }
    // The same octets are fine as bytes.
    expect(unpackRecord({ b: bytes() }, fromHex('00 01 ff')).ok).toBe(true);
  });
});

/** Every kind with an arbitrary covering its natural range. */
const KINDS: ReadonlyArray<readonly [string, DataType, fc.Arbitrary<unknown>]> = [
  ['u8', u8(), fc.integer({ min: 0, max: 0xff })],
  ['u16', u16(), fc.integer({ min: 0, max: 0xffff })],
  ['u32', u32(), fc.integer({ min: 0, max: 0xffffffff })],
  ['i8', i8(), fc.integer({ min: -0x80, max: 0x7f })],
  ['i16', i16(), fc.integer({ min: -0x8000, max: 0x7fff })],
  ['i32', i32(), fc.integer({ min: -0x80000000, max: 0x7fffffff })],
  ['u64', u64(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })],
  ['i64', i64(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })],
  [
    'f32',
    f32(),
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .map(Math.fround)
      .filter((v) => Number.isFinite(v)),
  ],
  ['f64', f64(), fc.double({ noNaN: true, noDefaultInfinity: true })],
  ['bool', bool(), fc.boolean()],
  ['enum', MODE, fc.constantFrom('SAFE', 'NOMINAL', 'SCIENCE')],
  ['string', str({ maxLength: 65535 }), fc.string({ unit: 'binary', maxLength: 40 })],
  ['bytes', bytes({ maxLength: 65535 }), fc.uint8Array({ maxLength: 80 })],
];

describe('round trips (properties)', () => {
  it.each(KINDS)('%s: unpack(pack(v)) === v, at any offset', (_kind, type, arb) => {
    fc.assert(
      fc.property(arb, fc.nat({ max: 7 }), (value, pad) => {
        const size = packedSize(type, value);
        const out = new Uint8Array(pad + size + 3);
        const view = new DataView(out.buffer);
        expect(packValue(view, pad, type, value)).toBe(pad + size);
        const r = unpackValue(view, pad, type);
        expect(r).toEqual({ ok: true, value, offset: pad + size });
        // Object.is keeps -0 apart from 0.
        if (r.ok && typeof value === 'number') expect(Object.is(r.value, value)).toBe(true);
      }),
    );
  });

  it('f32 and f64 keep NaN as NaN', () => {
    expect(Number.isNaN(unpackOne(f32(), packOne(f32(), Number.NaN)))).toBe(true);
    expect(Number.isNaN(unpackOne(f64(), packOne(f64(), Number.NaN)))).toBe(true);
  });

  // One field per kind, named after it, in the order of KINDS.
  const all: Record<string, DataType> = Object.fromEntries(KINDS.map(([kind, type]) => [kind, type]));
  const allValues = fc.record(Object.fromEntries(KINDS.map(([kind, , arb]) => [kind, arb])));

  it('a record of every kind round-trips and its length is the sum of packedSize', () => {
    fc.assert(
      fc.property(allValues, (values) => {
        const packed = packRecord(all, values);
        const expectedSize = Object.entries(all).reduce(
          (sum, [name, t]) => sum + packedSize(t, values[name]),
          0,
        );
        expect(packed.length).toBe(expectedSize);
        expect(unpackRecord(all, packed)).toEqual({ ok: true, value: values, offset: packed.length });
      }),
    );
  });

  it('every strict prefix of a packed record is refused', () => {
    fc.assert(
      fc.property(allValues, fc.nat(), (values, cut) => {
        const packed = packRecord(all, values);
        const prefix = packed.slice(0, cut % packed.length);
        const r = unpackRecord(all, prefix);
        expect(r.ok).toBe(false);
      }),
    );
  });
});

describe('unpackRecord on random bytes (properties)', () => {
  const everything = {
    a: u8(),
    b: bool(),
    c: MODE,
    d: i16(),
    e: str({ maxLength: 20 }),
    f: f32(),
    g: u64(),
    h: bytes({ maxLength: 20 }),
    i: i64(),
    j: f64(),
    k: u32(),
  };

  it('never throws, whatever the bytes and the (in-range) offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(), (data, n) => {
        const offset = n % (data.length + 2);
        const r = unpackRecord(everything, data, offset);
        if (r.ok) {
          expect(r.offset).toBeGreaterThan(offset);
          expect(r.offset).toBeLessThanOrEqual(data.length);
        } else {
          expect(r.error).toMatch(/^[a-k]: (truncated|bool|enum|string|bytes)/);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws for any single kind on short random input', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KINDS.map(([, t]) => t)),
        fc.uint8Array({ maxLength: 12 }),
        (type, data) => {
          const r = unpackValue(new DataView(data.buffer, data.byteOffset, data.byteLength), 0, type);
          if (r.ok) expect(r.offset).toBeLessThanOrEqual(data.length);
          else expect(typeof r.error).toBe('string');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('whatever it accepts (without floats) packs back to the same octets', () => {
    const exact = { a: u8(), b: bool(), c: MODE, d: i16(), e: str({ maxLength: 3 }), g: u64() };
    fc.assert(
      fc.property(
        fc.tuple(
          fc.uint8Array({ minLength: 1, maxLength: 1 }),
          fc.constantFrom(0, 1, 2, 7),
          fc.integer({ min: 0, max: 4 }),
          fc.uint8Array({ maxLength: 20 }),
        ),
        ([first, boolOctet, enumOctet, rest]) => {
          const data = Uint8Array.from([...first, boolOctet, enumOctet, ...rest]);
          const r = unpackRecord(exact, data);
          if (boolOctet > 1 || enumOctet > 2) expect(r.ok).toBe(false);
          if (r.ok) expect(packRecord(exact, r.value)).toEqual(data.subarray(0, r.offset));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
