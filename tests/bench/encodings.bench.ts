/**
 * Encodings side by side for a housekeeping sample (DESIGN.md, "Encodings"): packed binary per the dictionary
 * (what goes down in TM(3,25)), CBOR (cbor-x, for structured variable data) and MessagePack (msgpackr, for
 * storage and process-to-process messages): bytes per sample, encodes and decodes per second on one core.
 */
import { decode as cborDecode, encode as cborEncode } from 'cbor-x';
import { pack as msgpack, unpack as msgunpack } from 'msgpackr';
import { flightComponents } from '../../src/cli/fsw.js';
import { buildDictionary } from '../../src/core/dictionary.js';
import { packRecord, unpackRecord } from '../../src/core/pack.js';
import type { DataType } from '../../src/core/types.js';
import { type Benchmark, type Figure, rate } from './harness.js';

const dictionary = buildDictionary(flightComponents());
const structure = dictionary.housekeeping.find((s) => s.name === 'health.DEFAULT');
if (!structure) throw new Error('health.DEFAULT structure missing');
const types: Record<string, DataType> = Object.fromEntries(
  structure.parameters.map((n) => [n, dictionary.telemetryByName.get(n)?.type as DataType]),
);
// A realistic sample: what the health component reports.
const sample: Record<string, unknown> = {
  'health.uptimeS': 86_400,
  'health.bootCount': 12,
  'health.rssMiB': 63.25,
  'health.heapUsedMiB': 11.5,
  'health.eventLoopLagMs': 1.25,
  'health.cpuPercent': 3.5,
  'health.overruns': 0,
  'health.skippedTicks': 0,
  'health.noopCount': 4,
  'health.lagWarnings': 0,
};
// Positional values: the dictionary gives the names, as the packed form assumes.
const values = structure.parameters.map((n) => sample[n]);

const BATCH = 1000;
let sink = 0;

function figures(name: string, encode: () => Uint8Array, decode: (bytes: Uint8Array) => unknown): Figure[] {
  const bytes = encode();
  const enc = rate(() => {
    for (let i = 0; i < BATCH; i++) sink += encode().length;
  }, 300);
  const dec = rate(() => {
    for (let i = 0; i < BATCH; i++) if (decode(bytes)) sink += 1;
  }, 300);
  return [
    { name: `${name}: bytes per sample`, value: bytes.length, unit: 'B' },
    { name: `${name}: encode`, value: enc.perSecond * BATCH, unit: 'samples/s' },
    { name: `${name}: decode`, value: dec.perSecond * BATCH, unit: 'samples/s' },
  ];
}

export const benchmarks: readonly Benchmark[] = [
  {
    name: 'housekeeping sample encodings',
    run(): Figure[] {
      const out = [
        ...figures(
          `packed per dictionary (${structure.parameters.length} parameters)`,
          () => packRecord(types, sample),
          (b) => unpackRecord(types, b).ok,
        ),
        ...figures(
          'CBOR, named (cbor-x)',
          () => cborEncode(sample),
          (b) => cborDecode(b),
        ),
        ...figures(
          'CBOR, positional (cbor-x)',
          () => cborEncode(values),
          (b) => cborDecode(b),
        ),
        ...figures(
          'MessagePack, named (msgpackr)',
          () => msgpack(sample),
          (b) => msgunpack(b),
        ),
        ...figures(
          'MessagePack, positional (msgpackr)',
          () => msgpack(values),
          (b) => msgunpack(b),
        ),
      ];
      if (sink < 0) throw new Error('unreachable');
      return out;
    },
  },
];
