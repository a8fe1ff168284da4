/**
 * A self-contained HTML report of a scored scenario: the scores against the optimum, any violation, and plots
 * over the orbits (inline SVG, no scripts, no external files) of the junction and radiator temperatures with the
 * limit, the power cap and the accelerator's draw, the state of charge with its floor, the solar input, and what
 * bound the controller (thermal, energy, ...) with the power mode.
 */
import type { ScenarioScore, TracePoint } from './score.js';

const WIDTH = 900;
const HEIGHT = 180;
const MARGIN = { left: 56, right: 16, top: 12, bottom: 24 };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Series {
  readonly label: string;
  readonly color: string;
  readonly values: readonly number[];
  readonly dashed?: boolean;
}

/** A line chart over the trace's time axis, with eclipse periods shaded. */
function chart(
  title: string,
  unit: string,
  trace: readonly TracePoint[],
  series: readonly Series[],
  options: { min?: number; max?: number } = {},
): string {
  if (trace.length < 2) return '';
  const t0 = trace[0]?.timeS ?? 0;
  const t1 = trace.at(-1)?.timeS ?? 1;
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  let lo = options.min ?? Math.min(...all);
  let hi = options.max ?? Math.max(...all);
  if (!(hi > lo)) {
    hi = lo + 1;
    lo -= 1;
  }
  const pad = (hi - lo) * 0.05;
  lo -= options.min === undefined ? pad : 0;
  hi += options.max === undefined ? pad : 0;
  const w = WIDTH - MARGIN.left - MARGIN.right;
  const h = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (t: number) => MARGIN.left + ((t - t0) / (t1 - t0)) * w;
  const y = (v: number) => MARGIN.top + (1 - (v - lo) / (hi - lo)) * h;
  const parts: string[] = [];
  // Eclipse shading.
  let start: number | undefined;
  for (const p of trace) {
    if (!p.sunlit && start === undefined) start = p.timeS;
    if (p.sunlit && start !== undefined) {
      parts.push(
        `<rect x="${x(start).toFixed(1)}" y="${MARGIN.top}" width="${(x(p.timeS) - x(start)).toFixed(1)}" height="${h}" fill="#e8e8f4"/>`,
      );
      start = undefined;
    }
  }
  if (start !== undefined) {
    parts.push(
      `<rect x="${x(start).toFixed(1)}" y="${MARGIN.top}" width="${(x(t1) - x(start)).toFixed(1)}" height="${h}" fill="#e8e8f4"/>`,
    );
  }
  // Axes and grid.
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${Number(v.toPrecision(3))}</text>`,
    );
  }
  const hours = (t1 - t0) / 3600;
  const stepH = hours > 6 ? 2 : hours > 2 ? 1 : 0.25;
  for (let hh = 0; hh <= hours + 1e-9; hh += stepH) {
    const t = t0 + hh * 3600;
    parts.push(
      `<text x="${x(t).toFixed(1)}" y="${HEIGHT - 6}" text-anchor="middle" font-size="11">${Number(hh.toFixed(2))} h</text>`,
    );
  }
  for (const s of series) {
    const points = s.values
      .map((v, i) => (Number.isFinite(v) ? `${x(trace[i]?.timeS ?? 0).toFixed(1)},${y(v).toFixed(1)}` : ''))
      .filter(Boolean)
      .join(' ');
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5 4"' : ''} points="${points}"/>`,
    );
  }
  const legend = series
    .map((s) => `<span style="color:${s.color}">&#9632; ${escapeHtml(s.label)}</span>`)
    .join(' &nbsp; ');
  return `<h3>${escapeHtml(title)} <small>(${escapeHtml(unit)}; shaded: eclipse)</small></h3>
<div class="legend">${legend}</div>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">${parts.join('')}</svg>`;
}

const BINDING_COLORS: Readonly<Record<string, string>> = {
  thermal: '#d9534f',
  energy: '#f0ad4e',
  none: '#5cb85c',
  'critical-trip': '#000',
  'sensor-fallback': '#9b59b6',
  survival: '#555',
  'ground-off': '#999',
};

/** A strip: which constraint bound the controller, and the power mode, along the time axis. */
function strip(trace: readonly TracePoint[]): string {
  if (trace.length < 2) return '';
  const t0 = trace[0]?.timeS ?? 0;
  const t1 = trace.at(-1)?.timeS ?? 1;
  const w = WIDTH - MARGIN.left - MARGIN.right;
  const x = (t: number) => MARGIN.left + ((t - t0) / (t1 - t0)) * w;
  const parts: string[] = [];
  for (let i = 0; i < trace.length - 1; i++) {
    const p = trace[i] as TracePoint;
    const next = trace[i + 1] as TracePoint;
    const color = BINDING_COLORS[p.binding] ?? '#ccc';
    parts.push(
      `<rect x="${x(p.timeS).toFixed(1)}" y="4" width="${Math.max(0.5, x(next.timeS) - x(p.timeS)).toFixed(1)}" height="16" fill="${color}"/>`,
    );
    if (p.mode !== 'NOMINAL') {
      parts.push(
        `<rect x="${x(p.timeS).toFixed(1)}" y="24" width="${Math.max(0.5, x(next.timeS) - x(p.timeS)).toFixed(1)}" height="8" fill="${p.mode === 'SURVIVAL' ? '#333' : '#f0ad4e'}"/>`,
      );
    }
  }
  const legend = Object.entries(BINDING_COLORS)
    .map(([name, color]) => `<span style="color:${color}">&#9632; ${name}</span>`)
    .join(' &nbsp; ');
  return `<h3>What bound the accelerator <small>(lower strip: power mode other than NOMINAL)</small></h3>
<div class="legend">${legend}</div>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="40" viewBox="0 0 ${WIDTH} 40">${parts.join('')}</svg>`;
}

export function htmlReport(result: ScenarioScore, description = ''): string {
  const run = result.runs.skynode;
  const trace = run.trace;
  const peak = result.runs.skynode.violations.junctionMaxC;
  const row = (name: string, score: number, watts: number, v: ScenarioScore['violations']) =>
    `<tr><td>${escapeHtml(name)}</td><td>${score.toFixed(3)}</td><td>${watts.toFixed(0)} W</td><td>${v.junctionMaxC.toFixed(2)} &deg;C</td><td>${(v.batteryMinSoc * 100).toFixed(1)} %</td><td>${v.junctionKelvinSeconds > 0 || v.batteryDeficitWh > 0 ? `<b>${v.junctionKelvinSeconds.toFixed(2)} K&middot;s over, ${v.batteryDeficitWh.toFixed(2)} Wh under</b>` : 'none'}</td></tr>`;
  const b = result.baselines;
  const junctionLimit = result.limits.junctionMaxC;
  const floor = result.limits.batteryFloorSoc;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>skynode HIL: ${escapeHtml(result.scenario)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.legend{font-size:12px}.pass{color:#2a7}.fail{color:#c33}h3{margin:18px 0 4px;font-size:15px}</style>
</head><body>
<h1>${escapeHtml(result.scenario)} <span class="${result.passed ? 'pass' : 'fail'}">${result.passed ? 'PASS' : 'FAIL'}</span></h1>
<p>${escapeHtml(description)}</p>
${result.failures.length > 0 ? `<p class="fail">${result.failures.map(escape).join('<br>')}</p>` : ''}
<p>Optimum (linear program, ${escapeHtml(result.optimum.status)}): ${result.optimum.compute.toExponential(4)} compute, ${result.optimum.averagePowerW.toFixed(0)} W average. A score is delivered / optimum, 0 on any violation.</p>
<table><tr><th>controller</th><th>score</th><th>average power</th><th>junction max</th><th>battery min</th><th>violations</th></tr>
${row('skynode', result.score, result.skynode.averageAcceleratorW, result.skynode.violations)}
${row('bang_bang', b.bang_bang.score, b.bang_bang.averageAcceleratorW, b.bang_bang.violations)}
${row('step_wise', b.step_wise.score, b.step_wise.averageAcceleratorW, b.step_wise.violations)}
${row('power_allocator (kernel defaults)', b.power_allocator.score, b.power_allocator.averageAcceleratorW, b.power_allocator.violations)}
${row('power_allocator as Linux runs it', result.powerAllocatorAlone.score, result.powerAllocatorAlone.averageAcceleratorW, result.powerAllocatorAlone.violations)}
</table>
<p>skynode's controller step: ${(result.skynode.controllerCpuMsPerStep * 1000).toFixed(1)} &micro;s. Junction peak ${peak.toFixed(2)} &deg;C against a ${junctionLimit} &deg;C limit.</p>
${chart('Temperatures', 'degC', trace, [
  { label: 'junction', color: '#d9534f', values: trace.map((p) => p.junctionC) },
  { label: 'radiator', color: '#337ab7', values: trace.map((p) => p.radiatorC) },
  { label: 'junction limit', color: '#000', values: trace.map(() => junctionLimit), dashed: true },
])}
${chart(
  'Accelerator power',
  'W',
  trace,
  [
    { label: 'power cap', color: '#f0ad4e', values: trace.map((p) => p.capW) },
    { label: 'drawn', color: '#d9534f', values: trace.map((p) => p.acceleratorW) },
  ],
  { min: 0 },
)}
${chart(
  'Battery state of charge',
  '%',
  trace,
  [
    { label: 'state of charge', color: '#5cb85c', values: trace.map((p) => p.soc * 100) },
    { label: 'floor', color: '#000', values: trace.map(() => floor * 100), dashed: true },
  ],
  { min: 0, max: 100 },
)}
${chart('Solar input', 'W', trace, [{ label: 'solar array', color: '#e6b800', values: trace.map((p) => p.solarW) }], { min: 0 })}
${strip(trace)}
</body></html>
`;
}
