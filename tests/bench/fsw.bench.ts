/**
 * The flight software as a board runs it: `node dist/src/cli/main.js fsw --board sim` (built by `npm run bench`).
 * Targets: issue 2 (resident memory <= 80 MB, start to first telemetry <= 1 s).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Benchmark, type Figure, nowMs } from './harness.js';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
  return (kb * 1024) / 1e6;
}

async function measure(): Promise<{ firstTelemetryMs: number; maxRssMb: number; settledRssMb: number }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'skynode-bench-'));
  const started = nowMs();
  const child = spawn(process.execPath, [MAIN, 'fsw', '--board', 'sim', '--state-dir', stateDir], {
    stdio: 'pipe',
  });
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  let firstTelemetryMs = Number.NaN;
  const first = new Promise<void>((done) => {
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (Number.isNaN(firstTelemetryMs) && text.includes('"msg":"telemetry"')) {
        firstTelemetryMs = nowMs() - started;
        done();
      }
    });
  });
  await Promise.race([first, exited]);
  let maxRssMb = 0;
  let settledRssMb = 0;
  // Five seconds of running, sampling resident memory every 100 ms.
  for (let i = 0; i < 50 && child.exitCode === null; i++) {
    settledRssMb = rssMb(child.pid as number);
    maxRssMb = Math.max(maxRssMb, settledRssMb);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  await exited;
  return { firstTelemetryMs, maxRssMb, settledRssMb };
}

export const benchmarks: readonly Benchmark[] = [
  {
    name: 'skynode fsw --board sim',
    async run(): Promise<Figure[]> {
      if (!existsSync(MAIN)) throw new Error('no build: run `npm run build` first (npm run bench does)');
      const runs: Array<Awaited<ReturnType<typeof measure>>> = [];
      for (let i = 0; i < 3; i++) runs.push(await measure());
      const worst = (pick: (r: (typeof runs)[number]) => number) => Math.max(...runs.map(pick));
      return [
        {
          name: 'start to first telemetry (worst of 3)',
          value: worst((r) => r.firstTelemetryMs),
          unit: 'ms',
          target: { kind: 'max', value: 1000, source: 'issue 2' },
        },
        {
          name: 'resident memory, peak over 5 s (worst of 3)',
          value: worst((r) => r.maxRssMb),
          unit: 'MB',
          target: { kind: 'max', value: 80, source: 'issue 2' },
          details: { settledMb: worst((r) => r.settledRssMb) },
        },
      ];
    },
  },
];
