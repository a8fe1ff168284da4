import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crcMatches,
  decodeRequest,
  decodeResponse,
  EXCEPTION_NAMES,
  encodeRequest,
  encodeResponse,
  exceptionFor,
  exceptionText,
  type ModbusRequest,
  type ModbusResponse,
  modbusCrc,
  RequestExtractor,
  ResponseExtractor,
  responseLength,
  withCrc,
} from '../../../src/link/modbus.js';
import { concat, fromHex, toHex } from './support.js';

function flip(data: Uint8Array, index: number, mask: number): void {
  data[index] = (data[index] as number) ^ mask;
}

/** Bit-by-bit CRC-16/MODBUS, independent of the table-driven one under test. */
function referenceCrc(data: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

const unit = fc.integer({ min: 1, max: 247 });
const register = fc.integer({ min: 0, max: 0xffff });

function span(max: number) {
  return fc
    .tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 1, max }))
    .filter(([address, count]) => address + count <= 0x10000);
}

const request: fc.Arbitrary<ModbusRequest> = fc.oneof(
  fc
    .tuple(unit, fc.constantFrom('readCoils' as const), span(2000))
    .map(([u, kind, [address, count]]) => ({ kind, unit: u, address, count })),
  fc
    .tuple(unit, fc.constantFrom('readHolding' as const, 'readInput' as const), span(125))
    .map(([u, kind, [address, count]]) => ({ kind, unit: u, address, count })),
  fc.record({ kind: fc.constant('writeCoil' as const), unit, address: register, on: fc.boolean() }),
  fc.record({ kind: fc.constant('writeRegister' as const), unit, address: register, value: register }),
  fc
    .tuple(
      unit,
      fc.integer({ min: 0, max: 0xffff - 123 }),
      fc.array(register, { minLength: 1, maxLength: 123 }),
    )
    .map(([u, address, values]) => ({ kind: 'writeRegisters' as const, unit: u, address, values })),
);

/** A request and a normal answer to it. */
const exchange: fc.Arbitrary<[ModbusRequest, ModbusResponse]> = request.chain(
  (req): fc.Arbitrary<[ModbusRequest, ModbusResponse]> => {
    switch (req.kind) {
      case 'readCoils':
        return fc
          .array(fc.boolean(), { minLength: req.count, maxLength: req.count })
          .map((values) => [req, { kind: 'readCoils', unit: req.unit, values }]);
      case 'readHolding':
      case 'readInput': {
        const kind = req.kind as 'readHolding' | 'readInput';
        return fc
          .array(register, { minLength: req.count, maxLength: req.count })
          .map((values) => [req, { kind, unit: req.unit, values }]);
      }
      case 'writeRegisters':
        return fc.constant([
          req,
          { kind: 'writeRegisters', unit: req.unit, address: req.address, count: req.values.length },
        ]);
      default:
        return fc.constant([req, req]);
    }
  },
);

describe('CRC-16/MODBUS', () => {
  it('has the check value 0x4B37 for ASCII "123456789"', () => {
    expect(modbusCrc(new TextEncoder().encode('123456789'))).toBe(0x4b37);
  });

  it('agrees with a bit-by-bit implementation and goes low byte first on the wire', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        const crc = referenceCrc(data);
        expect(modbusCrc(data)).toBe(crc);
        const frame = withCrc(data);
        expect(frame[data.length]).toBe(crc & 0xff);
        expect(frame[data.length + 1]).toBe(crc >>> 8);
        if (data.length >= 2) expect(crcMatches(frame)).toBe(true);
      }),
    );
  });
});

describe('Modbus RTU frames', () => {
  it.each<[string, ModbusRequest]>([
    ['01 03 00 00 00 02 c4 0b', { kind: 'readHolding', unit: 1, address: 0, count: 2 }],
    ['11 01 00 13 00 25 0e 84', { kind: 'readCoils', unit: 0x11, address: 0x13, count: 0x25 }],
    ['11 03 00 6b 00 03 76 87', { kind: 'readHolding', unit: 0x11, address: 0x6b, count: 3 }],
    ['11 04 00 08 00 01 b2 98', { kind: 'readInput', unit: 0x11, address: 8, count: 1 }],
    ['01 05 00 00 ff 00 8c 3a', { kind: 'writeCoil', unit: 1, address: 0, on: true }],
    ['11 06 00 01 00 03 9a 9b', { kind: 'writeRegister', unit: 0x11, address: 1, value: 3 }],
    [
      '11 10 00 01 00 02 04 00 0a 01 02 c6 f0',
      { kind: 'writeRegisters', unit: 0x11, address: 1, values: [10, 258] },
    ],
  ])('encodes and decodes the request %s', (hex, req) => {
    expect(toHex(encodeRequest(req))).toBe(hex);
    expect(decodeRequest(fromHex(hex))).toEqual({ ok: true, value: req });
    const bytes = fromHex(hex);
    expect(modbusCrc(bytes, 0, bytes.length - 2)).toBe(referenceCrc(bytes.subarray(0, bytes.length - 2)));
  });

  it('encodes a coil off as 0x0000', () => {
    expect(toHex(encodeRequest({ kind: 'writeCoil', unit: 1, address: 3, on: false }).subarray(0, 6))).toBe(
      '01 05 00 03 00 00',
    );
  });

  it('decodes known responses', () => {
    const holding: ModbusRequest = { kind: 'readHolding', unit: 1, address: 0, count: 2 };
    const answer = withCrc(fromHex('01 03 04 00 0a 80 01'));
    expect(decodeResponse(answer, holding)).toEqual({
      ok: true,
      value: { kind: 'readHolding', unit: 1, values: [10, 0x8001] },
    });
    const coils: ModbusRequest = { kind: 'readCoils', unit: 0x11, address: 0x13, count: 0x25 };
    const coilAnswer = withCrc(fromHex('11 01 05 cd 6b b2 0e 1b'));
    const decoded = decodeResponse(coilAnswer, coils);
    expect(decoded.ok && decoded.value.kind === 'readCoils' && decoded.value.values.length).toBe(37);
    expect(decoded.ok && decoded.value.kind === 'readCoils' && decoded.value.values.slice(0, 8)).toEqual([
      true,
      false,
      true,
      true,
      false,
      false,
      true,
      true,
    ]);
    expect(toHex(encodeResponse({ kind: 'writeRegisters', unit: 0x11, address: 1, count: 2 }))).toBe(
      '11 10 00 01 00 02 12 98',
    );
  });

  it('decodes exception responses with their names', () => {
    const frame = fromHex('01 83 02 c0 f1');
    expect(decodeResponse(frame, { kind: 'readHolding', unit: 1, address: 9, count: 1 })).toEqual({
      ok: true,
      value: { kind: 'exception', unit: 1, function: 3, code: 2, name: 'illegal data address' },
    });
    expect(toHex(encodeResponse(exceptionFor({ unit: 1, kind: 'readHolding' }, 2)))).toBe('01 83 02 c0 f1');
    expect([1, 2, 3, 4].map((code) => EXCEPTION_NAMES[code])).toEqual([
      'illegal function',
      'illegal data address',
      'illegal data value',
      'slave device failure',
    ]);
    expect(exceptionText(2)).toBe('exception 02 illegal data address');
    expect(exceptionText(0x42)).toBe('exception 42 unknown exception');
  });

  it('rejects bad CRCs, wrong answers and out-of-range values', () => {
    const req: ModbusRequest = { kind: 'readInput', unit: 1, address: 0, count: 2 };
    const good = encodeResponse({ kind: 'readInput', unit: 1, values: [1, 2] });
    const bad = good.slice();
    flip(bad, 3, 0x40);
    expect(decodeResponse(bad, req)).toEqual({ ok: false, reason: 'bad-crc' });
    expect(decodeResponse(good, { ...req, unit: 2 })).toEqual({ ok: false, reason: 'mismatch' });
    expect(decodeResponse(good, { ...req, count: 3 })).toEqual({ ok: false, reason: 'mismatch' });
    expect(decodeResponse(good.subarray(0, 4))).toEqual({ ok: false, reason: 'truncated' });
    const echo = encodeResponse({ kind: 'writeRegister', unit: 1, address: 0, value: 5 });
    expect(decodeResponse(echo, { kind: 'writeRegister', unit: 1, address: 0, value: 6 })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(decodeRequest(withCrc(fromHex('01 05 00 00 12 34')))).toEqual({ ok: false, reason: 'bad-value' });
    expect(decodeRequest(withCrc(fromHex('01 03 00 00 00 7e')))).toEqual({ ok: false, reason: 'bad-value' });
    expect(decodeRequest(withCrc(fromHex('01 2b 0e 01 00')))).toEqual({ ok: false, reason: 'bad-function' });
    expect(() => encodeRequest({ kind: 'readInput', unit: 1, address: 0, count: 126 })).toThrow(RangeError);
    expect(() => encodeRequest({ kind: 'readInput', unit: 1, address: 0xffff, count: 2 })).toThrow(
      RangeError,
    );
    expect(() => encodeRequest({ kind: 'writeRegister', unit: 248, address: 0, value: 1 })).toThrow(
      RangeError,
    );
    expect(() => encodeRequest({ kind: 'writeRegister', unit: 1, address: 0, value: 65536 })).toThrow(
      RangeError,
    );
    expect(() => encodeRequest({ kind: 'writeRegisters', unit: 1, address: 0, values: [] })).toThrow(
      RangeError,
    );
  });

  it('round-trips every request and every answer', () => {
    fc.assert(
      fc.property(exchange, ([req, res]) => {
        const frame = encodeRequest(req);
        expect(decodeRequest(frame)).toEqual({ ok: true, value: req });
        const answer = encodeResponse(res);
        expect(answer.length).toBe(responseLength(req));
        expect(decodeResponse(answer, req)).toEqual({ ok: true, value: res });
      }),
    );
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), request, (data, req) => {
        decodeRequest(data);
        decodeResponse(data);
        decodeResponse(data, req);
        decodeRequest(withCrc(data));
        decodeResponse(withCrc(data), req);
      }),
    );
  });
});

/** Splits `data` into chunks at the given cut points. */
function chunks(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const point of [...points, data.length]) {
    out.push(data.subarray(at, point));
    at = point;
  }
  return out;
}

describe('ResponseExtractor (master side)', () => {
  const req: ModbusRequest = { kind: 'readInput', unit: 1, address: 0, count: 3 };
  const answer = encodeResponse({ kind: 'readInput', unit: 1, values: [100, 200, 300] });

  it('finds the awaited answer behind noise, split anywhere', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.array(fc.nat(), { maxLength: 6 }), (noise, cuts) => {
        const x = new ResponseExtractor();
        x.expect(req);
        const events = chunks(concat([noise, answer]), cuts).flatMap((c) => x.push(c));
        expect(events.filter((e) => e.kind !== 'crc-error')).toEqual([
          { kind: 'response', response: { kind: 'readInput', unit: 1, values: [100, 200, 300] } },
        ]);
      }),
    );
  });

  it('counts a corrupted frame as a CRC error and resynchronises on the next one', () => {
    const x = new ResponseExtractor();
    x.expect(req);
    const corrupt = answer.slice();
    flip(corrupt, 4, 0x01);
    const events = x.push(concat([fromHex('ff 00'), corrupt, answer]));
    expect(events[0]).toEqual({ kind: 'crc-error', unit: 1 });
    expect(events.at(-1)).toEqual({
      kind: 'response',
      response: { kind: 'readInput', unit: 1, values: [100, 200, 300] },
    });
    expect(x.stats.crcErrors).toBeGreaterThanOrEqual(1);
    expect(x.stats.frames).toBe(1);
  });

  it('takes an exception answer, and nothing until the next expect', () => {
    const x = new ResponseExtractor();
    x.expect(req);
    const exception = encodeResponse(exceptionFor(req, 2));
    expect(x.push(exception.subarray(0, 2))).toEqual([]);
    expect(x.push(exception.subarray(2))).toEqual([
      {
        kind: 'response',
        response: { kind: 'exception', unit: 1, function: 4, code: 2, name: 'illegal data address' },
      },
    ]);
    expect(x.push(answer)).toEqual([]);
    expect(x.stats.bytesDropped).toBe(answer.length);
  });

  it('ignores answers from other units', () => {
    const x = new ResponseExtractor();
    x.expect(req);
    const other = encodeResponse({ kind: 'readInput', unit: 2, values: [1, 2, 3] });
    expect(x.push(other)).toEqual([]);
    expect(x.push(answer)).toHaveLength(1);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(request, fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (r, parts) => {
        const x = new ResponseExtractor();
        x.expect(r);
        for (const part of parts) x.push(part);
        x.push(encodeResponse(exceptionFor(r, 4)));
      }),
    );
  });
});

describe('RequestExtractor (slave side)', () => {
  it('extracts every request from a stream with noise between them, split anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(request, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (reqs, cuts) => {
          const x = new RequestExtractor();
          const stream = concat(reqs.map(encodeRequest));
          const events = chunks(stream, cuts).flatMap((c) => x.push(c));
          expect(events).toEqual(reqs.map((r) => ({ kind: 'request', request: r })));
        },
      ),
    );
  });

  it('drops garbage and a corrupted request, then finds the next', () => {
    const x = new RequestExtractor();
    const good = encodeRequest({ kind: 'readHolding', unit: 2, address: 0, count: 2 });
    const corrupt = good.slice();
    flip(corrupt, 5, 0xff);
    const events = x.push(concat([fromHex('00 ff 13 37'), corrupt, good]));
    expect(events).toEqual([
      { kind: 'request', request: { kind: 'readHolding', unit: 2, address: 0, count: 2 } },
    ]);
    expect(x.stats.crcErrors).toBeGreaterThanOrEqual(1);
  });

  it('tells the slave which exception to answer for a function it lacks or a bad value', () => {
    const x = new RequestExtractor();
    expect(x.push(withCrc(fromHex('01 2b 0e 01 00')))).toEqual([
      { kind: 'invalid', unit: 1, function: 0x2b, exception: 1 },
    ]);
    expect(x.push(withCrc(fromHex('01 05 00 00 12 34')))).toEqual([
      { kind: 'invalid', unit: 1, function: 5, exception: 3 },
    ]);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (parts) => {
        const x = new RequestExtractor();
        for (const part of parts) x.push(part);
        for (const part of parts) x.push(withCrc(part));
      }),
    );
  });
});
