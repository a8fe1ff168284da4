/**
 * A live terminal view of a node's telemetry and events, with a command prompt. It reads streams and a
 * dictionary, nothing else, so the same view works in-process (`skynode demo`) and over the link (ground).
 */
import type { Observable, Subscription } from 'rxjs';
import type { CommandResult, EventRecord, TelemetrySample } from '../core/bus.js';
import { formatValue } from '../core/component.js';
import type { MissionDictionary } from '../core/dictionary.js';

export interface ViewSource {
  readonly telemetry$: Observable<TelemetrySample>;
  readonly events$: Observable<EventRecord>;
  readonly results$: Observable<CommandResult>;
}

export interface ViewState {
  readonly latest: ReadonlyMap<string, TelemetrySample>;
  readonly events: readonly EventRecord[];
  readonly results: readonly CommandResult[];
}

const SEVERITY_LABEL = { info: 'INFO', low: 'LOW ', medium: 'MED ', high: 'HIGH' } as const;
const SEVERITY_COLOUR = { info: '', low: '\x1b[33m', medium: '\x1b[33m', high: '\x1b[31m' } as const;

export interface RenderOptions {
  readonly title: string;
  readonly now: number;
  readonly colour: boolean;
  readonly maxEvents: number;
  readonly prompt?: string;
  readonly status?: string;
  readonly width?: number;
}

/** Keeps the latest value of every parameter and the recent events and command results. */
export class TelemetryTable implements ViewState {
  readonly latest = new Map<string, TelemetrySample>();
  readonly events: EventRecord[] = [];
  readonly results: CommandResult[] = [];
  private readonly subscriptions: Subscription[] = [];

  constructor(
    source: ViewSource,
    private readonly keep = 200,
  ) {
    this.subscriptions.push(
      source.telemetry$.subscribe((sample) => this.latest.set(sample.name, sample)),
      source.events$.subscribe((event) => {
        this.events.push(event);
        if (this.events.length > this.keep) this.events.splice(0, this.events.length - this.keep);
      }),
      source.results$.subscribe((result) => {
        this.results.push(result);
        if (this.results.length > this.keep) this.results.splice(0, this.results.length - this.keep);
      }),
    );
  }

  close(): void {
    for (const s of this.subscriptions) s.unsubscribe();
  }
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text.slice(0, width - 1)} ` : text + ' '.repeat(width - text.length);
}

export function describeResult(result: CommandResult): string {
  const id = `request ${result.requestId.toString(16).padStart(8, '0')}`;
  return result.ok
    ? `${result.name} (${id}): ok`
    : `${result.name} (${id}): FAILED (code ${result.code}) ${result.reason}`;
}

export function formatEvent(event: EventRecord, colour = false): string {
  const on = colour ? SEVERITY_COLOUR[event.severity] : '';
  const off = on ? '\x1b[0m' : '';
  return `${clock(event.time)} ${on}${SEVERITY_LABEL[event.severity]}${off} ${event.name}: ${event.message}`;
}

/** The screen as text: the telemetry table in dictionary order, the latest events, the prompt. */
export function renderView(dictionary: MissionDictionary, state: ViewState, options: RenderOptions): string {
  const lines: string[] = [];
  const bold = (s: string) => (options.colour ? `\x1b[1m${s}\x1b[0m` : s);
  const dim = (s: string) => (options.colour ? `\x1b[2m${s}\x1b[0m` : s);
  lines.push(bold(options.title));
  lines.push('');
  lines.push(bold(`${pad('TELEMETRY', 28)}${pad('VALUE', 14)}${pad('UNITS', 8)}AGE`));
  for (const entry of dictionary.telemetry) {
    const sample = state.latest.get(entry.name);
    const value = sample ? formatValue(sample.value) : '-';
    const age = sample ? `${((options.now - sample.time) / 1000).toFixed(1)}s` : '';
    const units = 'units' in entry.type && entry.type.units ? entry.type.units : '';
    lines.push(`${pad(entry.name, 28)}${pad(value, 14)}${pad(units, 8)}${dim(age)}`);
  }
  lines.push('');
  lines.push(bold('EVENTS'));
  const events = state.events.slice(-options.maxEvents);
  if (events.length === 0) lines.push(dim('(none yet)'));
  for (const event of events) lines.push(formatEvent(event, options.colour));
  lines.push('');
  const last = state.results.at(-1);
  lines.push(`${bold('LAST COMMAND')} ${last ? describeResult(last) : dim('(none)')}`);
  if (options.status) lines.push(options.status);
  if (options.prompt !== undefined) lines.push(`${bold('command>')} ${options.prompt}`);
  const width = options.width;
  return lines.map((line) => (width && !options.colour ? line.slice(0, width) : line)).join('\n');
}
