/** What a benchmark file exports, and small helpers for measuring. Benchmarks report; they never assert. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface Target {
  /** 'min': the figure must be at least `value`; 'max': at most. */
  readonly kind: 'min' | 'max';
  readonly value: number;
  /** Where the target comes from (an issue, a standard). */
  readonly source: string;
}

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly target?: Target;
  readonly details?: Readonly<Record<string, number | string>>;
}

export interface Benchmark {
  readonly name: string;
  run(): Promise<readonly Figure[]> | readonly Figure[];
}

export function nowMs(): number {
  return performance.now();
}

/** Runs `work` repeatedly for about `minMs` (after one warm-up run) and returns runs per second and per-run ms. */
export function rate(work: () => void, minMs = 500): { perSecond: number; msPerRun: number; runs: number } {
  work();
  let runs = 0;
  const start = nowMs();
  let elapsed = 0;
  do {
    work();
    runs++;
    elapsed = nowMs() - start;
  } while (elapsed < minMs);
  return { perSecond: (runs * 1000) / elapsed, msPerRun: elapsed / runs, runs };
}

export function met(figure: Figure): boolean | undefined {
  if (!figure.target) return undefined;
  return figure.target.kind === 'min'
    ? figure.value >= figure.target.value
    : figure.value <= figure.target.value;
}

export type Gc = () => void;

/**
 * A garbage collection to call before memory samples: global.gc when the process runs with --expose-gc,
 * otherwise enabled at run time through V8's flags; `how` says which, for the figures' details.
 */
export function findGc(): { gc: Gc | undefined; how: string } {
  const exposed = (globalThis as { gc?: Gc }).gc;
  if (exposed) return { gc: exposed, how: 'global.gc (--expose-gc)' };
  try {
    setFlagsFromString('--expose-gc');
    return {
      gc: runInNewContext('gc') as Gc,
      how: "gc enabled at run time (v8.setFlagsFromString('--expose-gc'))",
    };
  } catch {
    return { gc: undefined, how: 'no gc available: samples are taken without a collection first' };
  }
}
