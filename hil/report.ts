/**
 * A self-contained HTML report of a scored scenario: the scores against the optimum, any violation, and plots
 * over the orbits (inline SVG, no scripts, no external files) of the junction and radiator temperatures with the
 * limit, the power cap and the accelerator's draw, the state of charge with its floor, the solar input, and what
 * bound the controller (thermal, energy, ...) with the power mode.
 */
import type { RigResult } from './rig.js';
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

/** The plots over the run: temperatures, accelerator power, state of charge, solar input, what bound it. */
function traceCharts(
  trace: readonly TracePoint[],
  limits: { readonly junctionMaxC: number; readonly batteryFloorSoc: number },
): string {
  const junctionLimit = limits.junctionMaxC;
  const floor = limits.batteryFloorSoc;
  return `${chart('Temperatures', 'degC', trace, [
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
${strip(trace)}`;
}

const STYLE =
  'body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.legend{font-size:12px}.pass{color:#2a7}.fail{color:#c33}h3{margin:18px 0 4px;font-size:15px}td.text{text-align:left}';

export function htmlReport(result: ScenarioScore, description = ''): string {
  const run = result.runs.skynode;
  const trace = run.trace;
  const peak = result.runs.skynode.violations.junctionMaxC;
  const row = (name: string, score: number, watts: number, v: ScenarioScore['violations']) =>
    `<tr><td>${escapeHtml(name)}</td><td>${score.toFixed(3)}</td><td>${watts.toFixed(0)} W</td><td>${v.junctionMaxC.toFixed(2)} &deg;C</td><td>${(v.batteryMinSoc * 100).toFixed(1)} %</td><td>${v.junctionKelvinSeconds > 0 || v.batteryDeficitWh > 0 ? `<b>${v.junctionKelvinSeconds.toFixed(2)} K&middot;s over, ${v.batteryDeficitWh.toFixed(2)} Wh under</b>` : 'none'}</td></tr>`;
  const b = result.baselines;
  const junctionLimit = result.limits.junctionMaxC;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>skynode HIL: ${escapeHtml(result.scenario)}</title>
<style>${STYLE}</style>
</head><body>
<h1>${escapeHtml(result.scenario)} <span class="${result.passed ? 'pass' : 'fail'}">${result.passed ? 'PASS' : 'FAIL'}</span></h1>
<p>${escapeHtml(description)}</p>
${result.failures.length > 0 ? `<p class="fail">${result.failures.map(escapeHtml).join('<br>')}</p>` : ''}
<p>Optimum (linear program, ${escapeHtml(result.optimum.status)}): ${result.optimum.compute.toExponential(4)} compute, ${result.optimum.averagePowerW.toFixed(0)} W average. A score is delivered / optimum, 0 on any violation.</p>
<table><tr><th>controller</th><th>score</th><th>average power</th><th>junction max</th><th>battery min</th><th>violations</th></tr>
${row('skynode', result.score, result.skynode.averageAcceleratorW, result.skynode.violations)}
${row('bang_bang', b.bang_bang.score, b.bang_bang.averageAcceleratorW, b.bang_bang.violations)}
${row('step_wise', b.step_wise.score, b.step_wise.averageAcceleratorW, b.step_wise.violations)}
${row('power_allocator (kernel defaults)', b.power_allocator.score, b.power_allocator.averageAcceleratorW, b.power_allocator.violations)}
${row('power_allocator as Linux runs it', result.powerAllocatorAlone.score, result.powerAllocatorAlone.averageAcceleratorW, result.powerAllocatorAlone.violations)}
</table>
<p>skynode's controller step: ${(result.skynode.controllerCpuMsPerStep * 1000).toFixed(1)} &micro;s. Junction peak ${peak.toFixed(2)} &deg;C against a ${junctionLimit} &deg;C limit.</p>
${traceCharts(trace, result.limits)}
</body></html>
`;
}

const SEVERITY_COLORS: Readonly<Record<string, string>> = {
  info: '#5bc0de',
  low: '#5cb85c',
  medium: '#f0ad4e',
  high: '#d9534f',
};

/** Events as ticks along the time axis, coloured by severity. */
function eventStrip(result: RigResult): string {
  const t0 = 0;
  const t1 = Math.max(1, result.missionS);
  const w = WIDTH - MARGIN.left - MARGIN.right;
  const x = (t: number) => MARGIN.left + ((Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0)) * w;
  const ticks = result.events.map(
    (e) =>
      `<line x1="${x(e.timeS).toFixed(1)}" x2="${x(e.timeS).toFixed(1)}" y1="4" y2="28" stroke="${SEVERITY_COLORS[e.severity] ?? '#999'}" stroke-width="1.5"><title>${escapeHtml(`t=${e.timeS.toFixed(1)} s ${e.name}: ${e.message}`)}</title></line>`,
  );
  const faults = result.faults.map(
    (f) =>
      `<polygon points="${x(f.atS).toFixed(1)},30 ${(x(f.atS) - 4).toFixed(1)},38 ${(x(f.atS) + 4).toFixed(1)},38" fill="#000"><title>${escapeHtml(`t=${f.atS} s ${f.what}`)}</title></polygon>`,
  );
  const legend = Object.entries(SEVERITY_COLORS)
    .map(([name, color]) => `<span style="color:${color}">&#9632; ${name}</span>`)
    .join(' &nbsp; ');
  return `<h3>Events <small>(ticks by severity; triangles: injected faults; hover for details)</small></h3>
<div class="legend">${legend}</div>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="40" viewBox="0 0 ${WIDTH} 40">${ticks.join('')}${faults.join('')}</svg>`;
}

/** The most events listed in the table (all are in the strip). */
const EVENT_ROWS = 300;

/** A self-contained HTML report of a `hil run`: verdict, score, checks, faults, plots, events, bus and link. */
export function rigReport(result: RigResult): string {
  const v = result.violations;
  const score = result.score;
  const rows = (cells: readonly string[][]) =>
    cells.map((c) => `<tr>${c.map((x) => `<td class="text">${x}</td>`).join('')}</tr>`).join('\n');
  const checks = rows(
    result.checks.map((c) => [
      `${c.atS.toFixed(1)} s`,
      escapeHtml(c.what),
      c.passed ? '<span class="pass">pass</span>' : '<span class="fail">FAIL</span>',
      escapeHtml(c.detail),
    ]),
  );
  const faults = rows(result.faults.map((f) => [`${f.atS.toFixed(1)} s`, escapeHtml(f.what)]));
  const events = rows(
    result.events
      .slice(0, EVENT_ROWS)
      .map((e) => [
        `${e.timeS.toFixed(1)} s`,
        escapeHtml(e.severity),
        escapeHtml(e.name),
        escapeHtml(e.message),
      ]),
  );
  const bus = result.bus;
  const link = result.link;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>skynode HIL run: ${escapeHtml(result.scenario)}</title>
<style>${STYLE}</style>
</head><body>
<h1>${escapeHtml(result.scenario)} <small>hil run</small> <span class="${result.passed ? 'pass' : 'fail'}">${result.passed ? 'PASS' : 'FAIL'}</span></h1>
<p>${escapeHtml(result.description)}</p>
${result.failures.length > 0 ? `<p class="fail">${result.failures.map(escapeHtml).join('<br>')}</p>` : ''}
<table>
<tr><td>mission time</td><td>${result.missionS.toFixed(1)} s in ${result.realS.toFixed(1)} s real (x${result.speedup.toFixed(1)}, ${result.stepMs} ms steps)</td></tr>
<tr><td>score against the optimum</td><td>${score ? `${score.score.toFixed(3)} (delivered ${result.computeTotal.toExponential(4)}, optimum ${score.optimumCompute.toExponential(4)}, LP ${escapeHtml(score.optimumStatus)})` : 'not computed'}</td></tr>
<tr><td>junction max</td><td>${v.junctionMaxC.toFixed(2)} &deg;C (limit ${result.limits.junctionMaxC} &deg;C; ${v.junctionKelvinSeconds.toFixed(2)} K&middot;s over)</td></tr>
<tr><td>battery min</td><td>${(v.batteryMinSoc * 100).toFixed(1)} % (floor ${(result.limits.batteryFloorSoc * 100).toFixed(0)} %; ${v.batteryDeficitWh.toFixed(2)} Wh under)</td></tr>
<tr><td>flight software</td><td>${result.bench ? 'on the board (a bench)' : `exit ${result.fswExitCode}, restarted ${result.restarts} time(s)`}</td></tr>
<tr><td>device bus</td><td>${bus.requests} requests, ${bus.responses} responses, ${bus.crcErrors} CRC errors, ${bus.exceptions} exceptions; line: ${bus.corruptedOctets} octets hit by noise, ${bus.droppedOctets} lost to disconnection</td></tr>
<tr><td>ground link</td><td>${link.framesIn} frames in, ${link.framesRejected} rejected, ${link.framesLost} lost; ${link.packetsIn} packets; ${link.commandsSent} commands sent</td></tr>
</table>
<h3>Ground script and injected faults</h3>
<table><tr><th>t</th><th>check</th><th>verdict</th><th>detail</th></tr>
${checks}
</table>
<h3>Faults injected</h3>
<table><tr><th>t</th><th>fault</th></tr>
${faults}
</table>
${traceCharts(result.trace, result.limits)}
${eventStrip(result)}
<h3>Events received by the ground <small>(${result.events.length}${result.events.length > EVENT_ROWS ? `; the first ${EVENT_ROWS} listed` : ''})</small></h3>
<table><tr><th>t</th><th>severity</th><th>event</th><th>message</th></tr>
${events}
</table>
<h3>Ground log</h3>
<pre>${escapeHtml(result.groundLog.join('\n'))}</pre>
</body></html>
`;
}
