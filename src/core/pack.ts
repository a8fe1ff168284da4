/**
 * Packed binary encoding of dictionary values (PROTOCOL.md, "Packed arguments"): big-endian integers and IEEE 754
 * floats, bool as one octet, enum as its index in one octet, string and bytes as a 16-bit length then the octets.
 * Used for command arguments, housekeeping structures, event arguments and parameter values.
 */
import type { DataType, ValueOf } from './types.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

const FIXED_SIZE: Readonly<Record<string, number>> = {
  u8: 1,
  i8: 1,
  bool: 1,
  enum: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  u64: 8,
  i64: 8,
  f64: 8,
};

/** Octets a value of this type takes when packed (the value matters only for strings and bytes). */
export function packedSize(type: DataType, value: unknown): number {
  if (type.kind === 'string') return 2 + utf8Encoder.encode(value as string).length;
  if (type.kind === 'bytes') return 2 + (value as Uint8Array).length;
  return FIXED_SIZE[type.kind] as number;
}

/** Writes one value at `offset`; returns the offset after it. The value must have passed `checkValue`. */
export function packValue(view: DataView, offset: number, type: DataType, value: unknown): number {
  switch (type.kind) {
    case 'u8':
      view.setUint8(offset, value as number);
      return offset + 1;
    case 'i8':
      view.setInt8(offset, value as number);
      return offset + 1;
    case 'bool':
      view.setUint8(offset, value ? 1 : 0);
      return offset + 1;
    case 'enum':
      view.setUint8(offset, type.values.indexOf(value as string));
      return offset + 1;
    case 'u16':
      view.setUint16(offset, value as number);
      return offset + 2;
    case 'i16':
      view.setInt16(offset, value as number);
      return offset + 2;
    case 'u32':
      view.setUint32(offset, value as number);
      return offset + 4;
    case 'i32':
      view.setInt32(offset, value as number);
      return offset + 4;
    case 'f32':
      view.setFloat32(offset, value as number);
      return offset + 4;
    case 'f64':
      view.setFloat64(offset, value as number);
      return offset + 8;
    case 'u64':
      view.setBigUint64(offset, value as bigint);
      return offset + 8;
    case 'i64':
      view.setBigInt64(offset, value as bigint);
      return offset + 8;
    case 'string':
    case 'bytes': {
      const octets = type.kind === 'string' ? utf8Encoder.encode(value as string) : (value as Uint8Array);
      view.setUint16(offset, octets.length);
      new Uint8Array(view.buffer, view.byteOffset + offset + 2, octets.length).set(octets);
      return offset + 2 + octets.length;
    }
  }
}

export type Unpacked<T> =
  | { readonly ok: true; readonly value: T; readonly offset: number }
  | { readonly ok: false; readonly error: string };

/** Reads one value at `offset`. Never throws: a short buffer or an invalid enum index is an error. */
export function unpackValue<T extends DataType>(
  view: DataView,
  offset: number,
  type: T,
): Unpacked<ValueOf<T>> {
  const need = FIXED_SIZE[type.kind] ?? 2;
  if (offset + need > view.byteLength)
    return { ok: false, error: `truncated ${type.kind} at octet ${offset}` };
  const done = (value: unknown, next: number) => ({
    ok: true as const,
    value: value as ValueOf<T>,
    offset: next,
  });
  switch (type.kind) {
    case 'u8':
      return done(view.getUint8(offset), offset + 1);
    case 'i8':
      return done(view.getInt8(offset), offset + 1);
    case 'bool': {
      const octet = view.getUint8(offset);
      if (octet > 1) return { ok: false, error: `bool octet ${octet} at ${offset} is neither 0 nor 1` };
      return done(octet === 1, offset + 1);
    }
    case 'enum': {
      const index = view.getUint8(offset);
      const label = type.values[index];
      if (label === undefined) return { ok: false, error: `enum index ${index} at ${offset} has no label` };
      return done(label, offset + 1);
    }
    case 'u16':
      return done(view.getUint16(offset), offset + 2);
    case 'i16':
      return done(view.getInt16(offset), offset + 2);
    case 'u32':
      return done(view.getUint32(offset), offset + 4);
    case 'i32':
      return done(view.getInt32(offset), offset + 4);
    case 'f32':
      return done(view.getFloat32(offset), offset + 4);
    case 'f64':
      return done(view.getFloat64(offset), offset + 8);
    case 'u64':
      return done(view.getBigUint64(offset), offset + 8);
    case 'i64':
      return done(view.getBigInt64(offset), offset + 8);
    case 'string':
    case 'bytes': {
      const length = view.getUint16(offset);
      const start = offset + 2;
      if (start + length > view.byteLength)
        return { ok: false, error: `truncated ${type.kind} at octet ${offset}` };
      if (length > type.maxLength)
        return { ok: false, error: `${type.kind} of ${length} octets > ${type.maxLength}` };
      const octets = new Uint8Array(view.buffer, view.byteOffset + start, length);
      if (type.kind === 'bytes') return done(octets.slice(), start + length);
      try {
        return done(utf8Decoder.decode(octets), start + length);
      } catch {
        return { ok: false, error: `string at octet ${offset} is not valid UTF-8` };
      }
    }
  }
}

/** Packs named values in the declaration order of `types`. */
export function packRecord(
  types: Readonly<Record<string, DataType>>,
  values: Readonly<Record<string, unknown>>,
) {
  let size = 0;
  for (const [name, type] of Object.entries(types)) size += packedSize(type, values[name]);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const [name, type] of Object.entries(types)) offset = packValue(view, offset, type, values[name]);
  return out;
}

/** Unpacks named values in declaration order; `offset` is where they start, the result says where they end. */
export function unpackRecord(
  types: Readonly<Record<string, DataType>>,
  data: Uint8Array,
  offset = 0,
): Unpacked<Record<string, unknown>> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const values: Record<string, unknown> = {};
  let at = offset;
  for (const [name, type] of Object.entries(types)) {
    const result = unpackValue(view, at, type);
    if (!result.ok) return { ok: false, error: `${name}: ${result.error}` };
    values[name] = result.value;
    at = result.offset;
  }
  return { ok: true, value: values, offset: at };
}
