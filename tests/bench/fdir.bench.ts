/**
 * Fault protection (issue 8): the cost of limit monitoring for 500 monitored parameters sampled at 10 Hz
 * (target: under 1 % of one core), measured through the engine the fdir component runs on every bus sample.
 */
import { type MonitorDefinition, MonitoringEngine } from '../../src/services/fdir/monitoring.js';
import { type Benchmark, type Figure, rate } from './harness.js';

function monitoringFigures(): Figure[] {
  const count = 500;
  const definitions: MonitorDefinition[] = Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    name: `bench.M${i}`,
    parameter: `bench.p${i}`,
    check:
      i % 3 === 0
        ? { kind: 'limit', low: -50, high: 50 }
        : i % 3 === 1
          ? { kind: 'delta', minDelta: 1e-6, maxDelta: 10 }
          : { kind: 'limit', low: 0, high: 100 },
    persistence: 5,
    enabled: true,
  }));
  const engine = new MonitoringEngine(definitions);
  const names = definitions.map((d) => d.parameter);
  let t = 0;
  // One round: every parameter sampled once (what 500 parameters at 10 Hz give every 100 ms), values drifting
  // with an occasional excursion so that transitions happen too.
  const round = () => {
    t += 1;
    for (let i = 0; i < count; i++) {
      const value = 20 + 10 * Math.sin(t / 50 + i) + (t % 997 === i % 997 ? 80 : 0);
      engine.sample(names[i] as string, value);
    }
  };
  const { msPerRun } = rate(round, 1000);
  const percentOfCore = ((msPerRun * 10) / 1000) * 100;
  return [
    {
      name: '500 monitored parameters at 10 Hz: share of one core',
      value: percentOfCore,
      unit: '%',
      target: { kind: 'max', value: 1, source: 'issue 8 (limit checks under 1 % of one core)' },
      details: { nanosecondsPerSample: Number(((msPerRun * 1e6) / count).toFixed(1)), checks: engine.checks },
    },
  ];
}

export const benchmarks: readonly Benchmark[] = [{ name: 'fdir limit monitoring', run: monitoringFigures }];
