/**
 * `npm run bench`: runs every `tests/bench/*.bench.ts` and prints its figures against their targets.
 * `npm run bench -- --json` prints one JSON document instead; `--filter TEXT` runs the benchmarks whose name
 * contains TEXT. Targets are reported, never asserted: a missed target shows as MISSED and the run still ends 0.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type Benchmark, type Figure, met } from './harness.js';

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, filter: { type: 'string' } },
  strict: true,
});

const dir = import.meta.dirname;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();
const results: Array<{ file: string; benchmark: string; figures: readonly Figure[]; error?: string }> = [];

for (const file of files) {
  const module = (await import(pathToFileURL(join(dir, file)).href)) as { benchmarks: readonly Benchmark[] };
  for (const benchmark of module.benchmarks) {
    if (values.filter && !benchmark.name.includes(values.filter)) continue;
    if (!values.json) process.stdout.write(`running ${benchmark.name} ...\n`);
    try {
      results.push({ file, benchmark: benchmark.name, figures: await benchmark.run() });
    } catch (error) {
      results.push({ file, benchmark: benchmark.name, figures: [], error: String(error) });
    }
  }
}

const format = (v: number) =>
  Math.abs(v) >= 1e6 ? v.toExponential(3) : Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3);

if (values.json) {
  const doc = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    results: results.map((r) => ({
      ...r,
      figures: r.figures.map((f) => ({ ...f, met: met(f) })),
    })),
  };
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
} else {
  const rows: string[][] = [['benchmark', 'figure', 'value', 'unit', 'target', '']];
  for (const r of results) {
    if (r.error) rows.push([r.benchmark, 'ERROR', r.error, '', '', '']);
    for (const f of r.figures) {
      const ok = met(f);
      const target = f.target ? `${f.target.kind === 'min' ? '>=' : '<='} ${format(f.target.value)}` : '';
      rows.push([
        r.benchmark,
        f.name,
        format(f.value),
        f.unit,
        target,
        ok === undefined ? '' : ok ? 'ok' : 'MISSED',
      ]);
    }
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  process.stdout.write('\n');
  for (const row of rows) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')}\n`);
}
