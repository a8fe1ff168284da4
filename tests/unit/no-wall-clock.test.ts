import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';

/**
 * Flight code takes time from the mission clock only, so that tests and HIL can run it in virtual time. The
 * clock module owns the wall clock and the timers; `src/cli` composes processes and may use them too.
 */
const ALLOWED = [/^src\/core\/clock\.ts$/, /^src\/cli\//];
const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, 'Date.now()'],
  [/\bperformance\.now\s*\(/, 'performance.now()'],
  [/(^|[^.\w])setTimeout\s*\(/, 'setTimeout()'],
  [/(^|[^.\w])setInterval\s*\(/, 'setInterval()'],
  [/(^|[^.\w])setImmediate\s*\(/, 'setImmediate()'],
  [/new Date\(\s*\)/, 'new Date() (the current time)'],
  [/\basyncScheduler\b|\basapScheduler\b|\banimationFrameScheduler\b/, 'an rxjs real-time scheduler'],
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function wallClockUses(root: string): string[] {
  const found: string[] = [];
  for (const file of sources(join(root, 'src'))) {
    const rel = relative(root, file);
    if (ALLOWED.some((pattern) => pattern.test(rel))) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        const code = line.replace(/\/\/.*$/, '');
        for (const [pattern, what] of FORBIDDEN) {
          if (pattern.test(code)) found.push(`${rel}:${index + 1}: ${what}`);
        }
      });
  }
  return found;
}

describe('time discipline', () => {
  it('has no wall-clock reads or timers in src/ outside the clock module', () => {
    expect(wallClockUses(ROOT)).toEqual([]);
  });

  it('catches them when they are there', () => {
    const line = 'const t = Date.now(); setTimeout(() => {}, 5);';
    expect(FORBIDDEN.filter(([p]) => p.test(line)).map(([, w]) => w)).toEqual(['Date.now()', 'setTimeout()']);
    expect(FORBIDDEN.some(([p]) => p.test('scheduler.setTimeout(x)'))).toBe(false);
  });
});
