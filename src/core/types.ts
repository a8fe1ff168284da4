/**
 * Data types of the dictionary: what a command argument, telemetry parameter, event argument or on-board
 * parameter is, its range and its units. Each type knows its TypeScript value type (for inference), how to
 * validate an untrusted value and how it packs on the wire (PROTOCOL.md, "Packed arguments").
 */

export type IntegerKind = 'u8' | 'u16' | 'u32' | 'i8' | 'i16' | 'i32';
export type BigIntegerKind = 'u64' | 'i64';
export type FloatKind = 'f32' | 'f64';
export type NumericKind = IntegerKind | FloatKind;

interface Described {
  readonly units?: string;
  readonly description?: string;
}

export interface NumberType<K extends NumericKind = NumericKind> extends Described {
  readonly kind: K;
  readonly min?: number;
  readonly max?: number;
}

export interface BigIntType<K extends BigIntegerKind = BigIntegerKind> extends Described {
  readonly kind: K;
  readonly min?: bigint;
  readonly max?: bigint;
}

export interface BoolType extends Described {
  readonly kind: 'bool';
}

export interface EnumType<V extends string = string> extends Described {
  readonly kind: 'enum';
  /** Labels in wire order: the label at index i is sent as the octet i. */
  readonly values: readonly V[];
}

export interface StringType extends Described {
  readonly kind: 'string';
  /** Maximum length in UTF-8 octets (at most 65535, the 16-bit length prefix). */
  readonly maxLength: number;
}

export interface BytesType extends Described {
  readonly kind: 'bytes';
  readonly maxLength: number;
}

export type DataType = NumberType | BigIntType | BoolType | EnumType | StringType | BytesType;

/** The TypeScript type of a value of data type T. */
export type ValueOf<T extends DataType> = T extends NumberType
  ? number
  : T extends BigIntType
    ? bigint
    : T extends BoolType
      ? boolean
      : T extends EnumType<infer V>
        ? V
        : T extends StringType
          ? string
          : T extends BytesType
            ? Uint8Array
            : never;

/** Values of a record of named data types (command arguments, event arguments). */
export type ValuesOf<A extends Readonly<Record<string, DataType>>> = { [K in keyof A]: ValueOf<A[K]> };

export interface NumberOptions extends Described {
  readonly min?: number;
  readonly max?: number;
}

export interface BigIntOptions extends Described {
  readonly min?: bigint;
  readonly max?: bigint;
}

/** Refuses a declared range outside what the kind can carry, or upside down. */
function checkDeclaredRange<V extends number | bigint>(
  kind: string,
  options: { readonly min?: V; readonly max?: V },
  lo: V,
  hi: V,
): void {
  if (options.min !== undefined && options.min < lo)
    throw new RangeError(`${kind}: min ${options.min} < ${lo}`);
  if (options.max !== undefined && options.max > hi)
    throw new RangeError(`${kind}: max ${options.max} > ${hi}`);
  if (options.min !== undefined && options.max !== undefined && options.min > options.max) {
    throw new RangeError(`${kind}: min ${options.min} > max ${options.max}`);
  }
}

function numeric<K extends NumericKind>(kind: K) {
  return (options: NumberOptions = {}): NumberType<K> => {
    const [lo, hi] = NATURAL_RANGE[kind];
    checkDeclaredRange(kind, options, lo, hi);
    return { kind, ...options };
  };
}

export const u8 = numeric('u8');
export const u16 = numeric('u16');
export const u32 = numeric('u32');
export const i8 = numeric('i8');
export const i16 = numeric('i16');
export const i32 = numeric('i32');
export const f32 = numeric('f32');
export const f64 = numeric('f64');

function bigNumeric<K extends BigIntegerKind>(kind: K) {
  return (options: BigIntOptions = {}): BigIntType<K> => {
    const [lo, hi] = BIG_RANGE[kind];
    checkDeclaredRange(kind, options, lo, hi);
    return { kind, ...options };
  };
}

export const u64 = bigNumeric('u64');
export const i64 = bigNumeric('i64');

export function bool(options: Described = {}): BoolType {
  return { kind: 'bool', ...options };
}

export function enumOf<const V extends string>(values: readonly V[], options: Described = {}): EnumType<V> {
  if (values.length === 0 || values.length > 256) throw new RangeError('enum: 1 to 256 labels');
  if (new Set(values).size !== values.length)
    throw new RangeError(`enum: duplicate label in ${values.join(',')}`);
  return { kind: 'enum', values, ...options };
}

export function str(options: Described & { maxLength?: number } = {}): StringType {
  const maxLength = options.maxLength ?? 255;
  if (maxLength < 0 || maxLength > 0xffff) throw new RangeError('string: maxLength 0 to 65535');
  return { kind: 'string', ...options, maxLength };
}

export function bytes(options: Described & { maxLength?: number } = {}): BytesType {
  const maxLength = options.maxLength ?? 1024;
  if (maxLength < 0 || maxLength > 0xffff) throw new RangeError('bytes: maxLength 0 to 65535');
  return { kind: 'bytes', ...options, maxLength };
}

/** The range a kind can represent on the wire. */
export const NATURAL_RANGE: Readonly<Record<NumericKind, readonly [number, number]>> = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  u32: [0, 0xffffffff],
  i8: [-0x80, 0x7f],
  i16: [-0x8000, 0x7fff],
  i32: [-0x80000000, 0x7fffffff],
  f32: [-3.4028234663852886e38, 3.4028234663852886e38],
  f64: [-Number.MAX_VALUE, Number.MAX_VALUE],
};

const BIG_RANGE: Readonly<Record<BigIntegerKind, readonly [bigint, bigint]>> = {
  u64: [0n, 0xffffffffffffffffn],
  i64: [-0x8000000000000000n, 0x7fffffffffffffffn],
};

/** Why a value was refused. `code` maps onto PUS failure code 6 (out of range) or 2 (bad length). */
export type ValueError =
  | { readonly code: 'missing'; readonly message: string }
  | { readonly code: 'wrong-type'; readonly message: string }
  | { readonly code: 'out-of-range'; readonly message: string };

export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ValueError };

/** A short rendering of any value for an error message; never throws (cycles, bigint inside objects). */
function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  try {
    const text =
      JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function wrongType(type: DataType, value: unknown): { ok: false; error: ValueError } {
  const shown = show(value);
  return {
    ok: false,
    error: { code: 'wrong-type', message: `expected ${describeType(type)}, got ${shown}` },
  };
}

function outOfRange(message: string): { ok: false; error: ValueError } {
  return { ok: false, error: { code: 'out-of-range', message } };
}

/** A short human description of a type, as used in error messages and the ground tools' help. */
export function describeType(type: DataType): string {
  switch (type.kind) {
    case 'enum':
      return `one of ${type.values.join('|')}`;
    case 'string':
      return `a string of at most ${type.maxLength} octets`;
    case 'bytes':
      return `bytes (at most ${type.maxLength})`;
    case 'bool':
      return 'a boolean';
    default: {
      const range =
        type.min !== undefined || type.max !== undefined ? ` in [${type.min ?? ''}, ${type.max ?? ''}]` : '';
      return `${type.kind}${range}${type.units ? ` ${type.units}` : ''}`;
    }
  }
}

const utf8 = new TextEncoder();

/**
 * Checks an untrusted value against its type: the type of the value, integer-ness, the declared and the
 * natural range, string length in octets. Never throws.
 */
export function checkValue<T extends DataType>(type: T, value: unknown): Checked<ValueOf<T>> {
  if (value === undefined) return { ok: false, error: { code: 'missing', message: 'missing' } };
  switch (type.kind) {
    case 'bool':
      return typeof value === 'boolean' ? { ok: true, value: value as ValueOf<T> } : wrongType(type, value);
    case 'enum':
      if (typeof value !== 'string') return wrongType(type, value);
      return type.values.includes(value) ? { ok: true, value: value as ValueOf<T> } : wrongType(type, value);
    case 'string': {
      if (typeof value !== 'string') return wrongType(type, value);
      const length = utf8.encode(value).length;
      if (length > type.maxLength) return outOfRange(`${length} octets > maxLength ${type.maxLength}`);
      return { ok: true, value: value as ValueOf<T> };
    }
    case 'bytes':
      if (!(value instanceof Uint8Array)) return wrongType(type, value);
      if (value.length > type.maxLength)
        return outOfRange(`${value.length} octets > maxLength ${type.maxLength}`);
      return { ok: true, value: value as ValueOf<T> };
    case 'u64':
    case 'i64': {
      if (typeof value !== 'bigint') return wrongType(type, value);
      // The declared range narrows the natural one, never widens it (a hand-built type could try).
      const [lo, hi] = BIG_RANGE[type.kind];
      const min = type.min !== undefined && type.min > lo ? type.min : lo;
      const max = type.max !== undefined && type.max < hi ? type.max : hi;
      if (value < min || value > max) return outOfRange(`${value} not in [${min}, ${max}]`);
      return { ok: true, value: value as ValueOf<T> };
    }
    default: {
      if (typeof value !== 'number' || Number.isNaN(value)) return wrongType(type, value);
      const isFloat = type.kind === 'f32' || type.kind === 'f64';
      if (!isFloat && !Number.isInteger(value)) return wrongType(type, value);
      if (isFloat && !Number.isFinite(value)) return outOfRange(`${value} is not finite`);
      const [lo, hi] = NATURAL_RANGE[type.kind];
      const min = Math.max(type.min ?? lo, lo);
      const max = Math.min(type.max ?? hi, hi);
      if (value < min || value > max) {
        return outOfRange(`${value} not in [${min}, ${max}]${type.units ? ` ${type.units}` : ''}`);
      }
      return { ok: true, value: value as ValueOf<T> };
    }
  }
}

/**
 * Parses text typed by a person (`celsius=80`, `mode=SAFE`, `enabled=true`) into a value of the type, then
 * checks it. Used by the ground tools and the demo prompt.
 */
export function parseValue<T extends DataType>(type: T, text: string): Checked<ValueOf<T>> {
  switch (type.kind) {
    case 'bool':
      if (/^(true|1|on|yes)$/i.test(text)) return checkValue(type, true);
      if (/^(false|0|off|no)$/i.test(text)) return checkValue(type, false);
      return wrongType(type, text);
    case 'enum':
    case 'string':
      return checkValue(type, text);
    case 'bytes': {
      const hex = text.replace(/^0x/i, '');
      if (!/^([0-9a-f]{2})*$/i.test(hex)) return wrongType(type, text);
      return checkValue(type, Uint8Array.from(Buffer.from(hex, 'hex')));
    }
    case 'u64':
    case 'i64': {
      // BigInt() takes hex only unsigned, so the sign is applied separately.
      const match = /^([-+]?)(0x[0-9a-f]+|\d+)$/i.exec(text.trim());
      if (!match) return wrongType(type, text);
      const magnitude = BigInt(match[2] as string);
      return checkValue(type, match[1] === '-' ? -magnitude : magnitude);
    }
    default: {
      const match = /^([-+]?)(0x[0-9a-f]+|(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)$/i.exec(text.trim());
      if (!match) return wrongType(type, text);
      const magnitude = Number(match[2]);
      return checkValue(type, match[1] === '-' ? -magnitude : magnitude);
    }
  }
}

/** A JSON-safe description of a type, as it appears in the dictionary. */
export function typeToJson(type: DataType): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: type.kind };
  if ('min' in type && type.min !== undefined)
    out.min = typeof type.min === 'bigint' ? type.min.toString() : type.min;
  if ('max' in type && type.max !== undefined)
    out.max = typeof type.max === 'bigint' ? type.max.toString() : type.max;
  if (type.kind === 'enum') out.values = [...type.values];
  if (type.kind === 'string' || type.kind === 'bytes') out.maxLength = type.maxLength;
  if (type.units) out.units = type.units;
  if (type.description) out.description = type.description;
  return out;
}
