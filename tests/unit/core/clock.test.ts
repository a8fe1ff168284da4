import { delay, interval, of, take, timer, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { RealClock, VirtualClock, VirtualScheduler } from '../../../src/core/clock.js';
import { RateGroup } from '../../../src/core/rate-group.js';
import { cucToUnixMs } from '../../../src/core/time.js';

describe('VirtualScheduler', () => {
  it('runs rxjs time operators in virtual time, in due order', () => {
    const scheduler = new VirtualScheduler(1000);
    const seen: string[] = [];
    timer(300, scheduler).subscribe(() => seen.push(`timer@${scheduler.now()}`));
    of('x')
      .pipe(delay(100, scheduler))
      .subscribe(() => seen.push(`delay@${scheduler.now()}`));
    interval(250, scheduler)
      .pipe(take(3))
      .subscribe((n) => seen.push(`interval${n}@${scheduler.now()}`));
    scheduler.advanceBy(1000);
    expect(seen).toEqual(['delay@1100', 'interval0@1250', 'timer@1300', 'interval1@1500', 'interval2@1750']);
    expect(scheduler.now()).toBe(2000);
    expect(scheduler.pending()).toBe(0);
  });

  it('runs nothing until time is advanced, and nothing after unsubscribe', () => {
    const scheduler = new VirtualScheduler();
    let fired = 0;
    const sub = timer(10, scheduler).subscribe(() => fired++);
    expect(fired).toBe(0);
    scheduler.advanceBy(9);
    expect(fired).toBe(0);
    sub.unsubscribe();
    scheduler.advanceBy(100);
    expect(fired).toBe(0);
  });

  it('keeps FIFO order for equal due times', () => {
    const scheduler = new VirtualScheduler();
    const order: number[] = [];
    for (let i = 0; i < 20; i++) scheduler.schedule(() => order.push(i), 5);
    scheduler.advanceBy(5);
    expect(order).toEqual([...Array(20).keys()]);
  });

  it('refuses to be advanced from inside an action', () => {
    const scheduler = new VirtualScheduler();
    let error: unknown;
    scheduler.schedule(() => {
      try {
        scheduler.advanceBy(1);
      } catch (e) {
        error = e;
      }
    });
    scheduler.advanceBy(1);
    expect(String(error)).toMatch(/inside a scheduled action/);
  });

  it('does not accumulate finished actions over a long run', () => {
    const scheduler = new VirtualScheduler();
    const values: number[] = [];
    interval(10, scheduler)
      .pipe(take(10_000), toArray())
      .subscribe((all) => values.push(all.length));
    scheduler.advanceBy(200_000);
    expect(values).toEqual([10_000]);
    expect(scheduler.pending()).toBe(0);
  });
});

describe('MissionClock', () => {
  it('virtual clock gives CUC consistent with its UTC time', () => {
    const clock = new VirtualClock({ startMs: Date.UTC(2030, 0, 1, 12) });
    const cuc = clock.cuc();
    expect(cucToUnixMs(cuc)).toBe(Date.UTC(2030, 0, 1, 12));
    expect(clock.taiMs() - clock.now()).toBe((378_691_200 + 37) * 1000);
    clock.advanceBy(1500);
    expect(clock.cuc()).toEqual({ coarse: cuc.coarse + 1, fine: 32768 });
  });

  it('real clock follows the host time', () => {
    const clock = new RealClock();
    const before = Date.now();
    const now = clock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now - before).toBeLessThan(1000);
    expect(clock.kind).toBe('real');
  });
});

describe('RateGroup', () => {
  it('runs a simulated hour of 10 Hz and 1 Hz groups in well under a second of real time', () => {
    const clock = new VirtualClock();
    const fast = new RateGroup('10Hz', 10, clock);
    const slow = new RateGroup('1Hz', 1, clock);
    let fastRuns = 0;
    let slowRuns = 0;
    const slowDue: number[] = [];
    fast.add('count', () => fastRuns++);
    slow.add('count', (tick) => {
      slowRuns++;
      if (tick.index < 3) slowDue.push(tick.dueMs - clock.now());
    });
    const started = performance.now();
    fast.start();
    slow.start();
    clock.advanceBy(3600_000);
    const realMs = performance.now() - started;
    // Tick 0 runs at start, so an hour holds 36,001 and 3,601 ticks.
    expect(fastRuns).toBe(36_001);
    expect(slowRuns).toBe(3_601);
    expect(slowDue).toEqual([0, 0, 0]);
    expect(fast.stats).toMatchObject({ ticks: 36_001, overruns: 0, skipped: 0 });
    expect(realMs).toBeLessThan(1000);
  });

  it('stays on its grid without drift', () => {
    const clock = new VirtualClock({ startMs: 0 });
    const group = new RateGroup('3Hz', 3, clock);
    const starts: number[] = [];
    group.add('t', (tick) => starts.push(tick.startedMs));
    group.start();
    clock.advanceBy(10_000);
    expect(starts.length).toBe(31);
    expect(starts.at(-1)).toBeCloseTo(10_000, 6);
    expect(starts[3]).toBeCloseTo(1000, 6);
  });

  it('reports an overrun when tasks run past the period, and skips slots it cannot make', () => {
    const clock = new VirtualClock({ startMs: 0 });
    const group = new RateGroup('1Hz', 1, clock);
    const overruns: number[] = [];
    group.overruns$.subscribe((o) => overruns.push(o.durationMs));
    const ran: number[] = [];
    group.add('slow', (tick) => {
      ran.push(tick.index);
      if (tick.index === 2) clock.spend(1500); // late: slot 3 runs late, nothing skipped
      if (tick.index === 5) clock.spend(2600); // slots 6 and 7 are gone: 7 runs at once, 6 is skipped
    });
    group.start();
    clock.advanceBy(10_000);
    expect(overruns).toEqual([1500, 2600]);
    expect(group.stats.overruns).toBe(2);
    expect(group.stats.skipped).toBe(1);
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 7, 8, 9, 10]);
  });

  it('survives a task that throws, reports it and runs the next task', () => {
    const clock = new VirtualClock({ startMs: 0 });
    const group = new RateGroup('1Hz', 1, clock);
    const failures: string[] = [];
    let after = 0;
    group.failures$.subscribe((f) => failures.push(`${f.task}: ${String(f.error)}`));
    group.add('broken', () => {
      throw new Error('sensor gone');
    });
    group.add('next', () => after++);
    group.start();
    clock.advanceBy(2000);
    expect(after).toBe(3);
    expect(failures).toEqual([
      'broken: Error: sensor gone',
      'broken: Error: sensor gone',
      'broken: Error: sensor gone',
    ]);
    expect(group.stats.taskFailures).toBe(3);
  });

  it('stops ticking when stopped, and refuses impossible rates', () => {
    const clock = new VirtualClock({ startMs: 0 });
    const group = new RateGroup('10Hz', 10, clock);
    let runs = 0;
    group.add('t', () => runs++);
    group.start();
    clock.advanceBy(1000);
    group.stop();
    clock.advanceBy(1000);
    expect(runs).toBe(11);
    expect(() => new RateGroup('bad', 0, clock)).toThrow(RangeError);
    expect(() => new RateGroup('bad', 5000, clock)).toThrow(RangeError);
  });
});
