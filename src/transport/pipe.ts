/**
 * Byte pipes: the transport under the link layer. A pipe carries chunks of bytes both ways over serial, TCP, UDP
 * or an in-memory impaired link, and keeps itself connected: when the far end goes away it reports
 * 'reconnecting' and tries again with exponential back-off, scheduled on the caller's scheduler.
 *
 * Contract of every pipe:
 * - `data$` emits received chunks; it stays alive across reconnects and completes only on `close()`.
 * - `state$` replays the current state, then each change; it completes after 'closed'.
 * - `write()` never throws: it returns false (and counts the refused bytes) while the pipe is not open.
 * - I/O errors never escape: they are counted in `stats` and show as a state change.
 */
import type { Observable, SchedulerLike } from 'rxjs';
import { SerialPipe } from './serial.js';
import { TcpClientPipe, TcpServerPipe } from './tcp.js';
import { UdpPipe } from './udp.js';

export type PipeState =
  /** Opening for the first time (a TCP server: listening, no client yet). */
  | { readonly kind: 'connecting'; readonly detail?: string }
  /** Bytes flow. `peer` names the far end where there is one to name. */
  | { readonly kind: 'open'; readonly peer?: string }
  /** Lost or never reached; attempt `attempt` (1, 2, ...) is due in `delayMs`. */
  | {
      readonly kind: 'reconnecting';
      readonly attempt: number;
      readonly delayMs: number;
      readonly reason: string;
    }
  /** Closed by `close()`; final. */
  | { readonly kind: 'closed' };

export type PipeStateKind = PipeState['kind'];

export interface PipeStats {
  /** Bytes and chunks received (emitted on data$). */
  readonly bytesIn: number;
  readonly chunksIn: number;
  /** Bytes and chunks accepted by write(). */
  readonly bytesOut: number;
  readonly chunksOut: number;
  /** write() calls refused (pipe not open, or its send buffer full) and their bytes. */
  readonly writesRefused: number;
  readonly bytesRefused: number;
  /** Times the pipe opened again after having been open (a TCP server: clients accepted after the first). */
  readonly reconnects: number;
  /** Retries scheduled after a failure to open or a loss of the far end. */
  readonly reconnectAttempts: number;
  /** I/O errors seen (open failures, socket errors, write errors). */
  readonly errors: number;
  /** The message of the latest error, if any. */
  readonly lastError?: string;
}

export interface BytePipe {
  /** A short human-readable name, e.g. `serial:/dev/ttyUSB0@115200`. */
  readonly name: string;
  readonly data$: Observable<Uint8Array>;
  readonly state$: Observable<PipeState>;
  /** The current state. */
  readonly state: PipeState;
  /** Queues `bytes` for sending; false (and counted) if refused. Never throws. The bytes are copied. */
  write(bytes: Uint8Array): boolean;
  /** Stops reconnecting, releases the port or socket, completes data$ and state$. Idempotent. */
  close(): Promise<void>;
  /** A snapshot of the counters. */
  readonly stats: PipeStats;
}

/** Exponential back-off between reconnect attempts: `initialDelayMs`, times `factor` each attempt, at most `maxDelayMs`. */
export interface BackoffOptions {
  /** Default 100 ms. */
  readonly initialDelayMs?: number;
  /** Default 5000 ms. */
  readonly maxDelayMs?: number;
  /** Default 2. */
  readonly factor?: number;
}

export interface PipeOptions {
  /** Where every delay (reconnect back-off, timeouts) is scheduled: the mission clock's scheduler. */
  readonly scheduler: SchedulerLike;
  readonly backoff?: BackoffOptions;
  /** Overrides the pipe's name. */
  readonly name?: string;
  /** write() refuses while more than this many bytes wait in the OS-facing send buffer; default 1 MiB. */
  readonly maxBufferedBytes?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Link specs, as the CLI takes them (--link).

export const DEFAULT_BAUD_RATE = 115200;

export type LinkSpec =
  | { readonly kind: 'serial'; readonly path: string; readonly baudRate: number }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'tcp-listen'; readonly host: string; readonly port: number }
  | {
      readonly kind: 'udp';
      readonly host: string;
      readonly port: number;
      readonly bindHost: string;
      readonly bindPort: number;
    }
  | { readonly kind: 'udp-listen'; readonly host: string; readonly port: number };

export const LINK_SPEC_FORMS: readonly string[] = [
  'serial:PATH[@BAUD]            e.g. serial:/dev/ttyUSB0@115200 (baud default 115200; 8N1)',
  'tcp:HOST:PORT                 TCP client, e.g. tcp:127.0.0.1:5000',
  'tcp-listen:[HOST:]PORT        TCP server, one client at a time (host default 0.0.0.0)',
  'udp:HOST:PORT[?bind=[HOST:]PORT]  UDP to HOST:PORT, receiving on the bound port (default: any free port)',
  'udp-listen:[HOST:]PORT        UDP bound to PORT, replying to whoever sent the latest datagram',
];

export type LinkSpecResult =
  | { readonly ok: true; readonly spec: LinkSpec }
  | { readonly ok: false; readonly error: string };

/** A link spec that does not parse; its message names the accepted forms. */
export class LinkSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkSpecError';
  }
}

function fail(text: string, why: string): LinkSpecResult {
  return {
    ok: false,
    error: `invalid link "${text}": ${why}. Accepted forms:\n  ${LINK_SPEC_FORMS.join('\n  ')}`,
  };
}

/** A port number in [min, 65535], or an error message. */
function parsePort(text: string, min: number): number | string {
  if (!/^\d{1,5}$/.test(text)) return `port "${text}" is not a number`;
  const port = Number(text);
  if (port < min || port > 65535) return `port ${port} is out of range (${min}..65535)`;
  return port;
}

function checkHost(host: string): string | undefined {
  if (host.length === 0) return 'the host is empty';
  if (/[\s/?@[\]]/.test(host)) return `host "${host}" is not a host name or address`;
  return undefined;
}

/** Splits `HOST:PORT` (or `[IPv6]:PORT`); `hostOptional` allows a bare `PORT`. */
function splitHostPort(
  text: string,
  options: { hostOptional: boolean; defaultHost: string; minPort: number },
): { host: string; port: number } | string {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return `"${text}" is not [IPV6]:PORT`;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!/^[0-9a-fA-F:.]+$/.test(host)) return `"${host}" is not an IPv6 address`;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) {
      if (!options.hostOptional) return `"${text}" has no port (HOST:PORT)`;
      host = options.defaultHost;
      portText = text;
    } else {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
      if (host.includes(':')) return `"${text}": write an IPv6 address in brackets, e.g. [::1]:5000`;
      const bad = checkHost(host);
      if (bad) return bad;
    }
  }
  const port = parsePort(portText, options.minPort);
  if (typeof port === 'string') return port;
  return { host, port };
}

/**
 * Parses a link spec (see LINK_SPEC_FORMS). Never throws: an invalid spec gives `{ ok: false, error }` with a
 * message that says what is wrong and lists the accepted forms.
 */
export function parseLinkSpec(text: string): LinkSpecResult {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  if (colon < 0) return fail(text, 'no kind (serial:, tcp:, tcp-listen:, udp:, udp-listen:)');
  const kind = trimmed.slice(0, colon);
  const rest = trimmed.slice(colon + 1);
  switch (kind) {
    case 'serial': {
      let path = rest;
      let baudRate = DEFAULT_BAUD_RATE;
      const at = rest.lastIndexOf('@');
      if (at >= 0) {
        path = rest.slice(0, at);
        const baudText = rest.slice(at + 1);
        if (!/^\d+$/.test(baudText)) return fail(text, `baud rate "${baudText}" is not a number`);
        baudRate = Number(baudText);
        if (baudRate < 50 || baudRate > 4_000_000) {
          return fail(text, `baud rate ${baudRate} is out of range (50..4000000)`);
        }
      }
      if (path.length === 0) return fail(text, 'the serial device path is empty');
      return { ok: true, spec: { kind: 'serial', path, baudRate } };
    }
    case 'tcp': {
      const hp = splitHostPort(rest, { hostOptional: false, defaultHost: '', minPort: 1 });
      if (typeof hp === 'string') return fail(text, hp);
      return { ok: true, spec: { kind: 'tcp', ...hp } };
    }
    case 'tcp-listen':
    case 'udp-listen': {
      const hp = splitHostPort(rest, { hostOptional: true, defaultHost: '0.0.0.0', minPort: 0 });
      if (typeof hp === 'string') return fail(text, hp);
      return { ok: true, spec: { kind, ...hp } };
    }
    case 'udp': {
      const q = rest.indexOf('?');
      const target = q < 0 ? rest : rest.slice(0, q);
      const hp = splitHostPort(target, { hostOptional: false, defaultHost: '', minPort: 1 });
      if (typeof hp === 'string') return fail(text, hp);
      let bindHost = hp.host.includes(':') ? '::' : '0.0.0.0';
      let bindPort = 0;
      if (q >= 0) {
        for (const param of rest.slice(q + 1).split('&')) {
          const eq = param.indexOf('=');
          const key = eq < 0 ? param : param.slice(0, eq);
          const value = eq < 0 ? '' : param.slice(eq + 1);
          if (key !== 'bind') return fail(text, `unknown option "${key}" (only bind=[HOST:]PORT)`);
          const bind = splitHostPort(value, { hostOptional: true, defaultHost: bindHost, minPort: 0 });
          if (typeof bind === 'string') return fail(text, `bind: ${bind}`);
          bindHost = bind.host;
          bindPort = bind.port;
        }
      }
      return { ok: true, spec: { kind: 'udp', host: hp.host, port: hp.port, bindHost, bindPort } };
    }
    default:
      return fail(text, `unknown kind "${kind}"`);
  }
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The canonical text of a spec; parseLinkSpec(formatLinkSpec(s)) gives s back. */
export function formatLinkSpec(spec: LinkSpec): string {
  switch (spec.kind) {
    case 'serial':
      return `serial:${spec.path}@${spec.baudRate}`;
    case 'tcp':
    case 'tcp-listen':
    case 'udp-listen':
      return `${spec.kind}:${hostPort(spec.host, spec.port)}`;
    case 'udp':
      return `udp:${hostPort(spec.host, spec.port)}?bind=${hostPort(spec.bindHost, spec.bindPort)}`;
  }
}

/**
 * Opens the pipe a spec describes. It starts connecting at once and reconnects by itself; watch `state$`.
 * A string spec that does not parse throws LinkSpecError (a configuration error, not an I/O error).
 */
export function openPipe(spec: LinkSpec | string, options: PipeOptions): BytePipe {
  let parsed: LinkSpec;
  if (typeof spec === 'string') {
    const result = parseLinkSpec(spec);
    if (!result.ok) throw new LinkSpecError(result.error);
    parsed = result.spec;
  } else {
    parsed = spec;
  }
  switch (parsed.kind) {
    case 'serial':
      return new SerialPipe({ ...options, path: parsed.path, baudRate: parsed.baudRate });
    case 'tcp':
      return new TcpClientPipe({ ...options, host: parsed.host, port: parsed.port });
    case 'tcp-listen':
      return new TcpServerPipe({ ...options, host: parsed.host, port: parsed.port });
    case 'udp':
      return new UdpPipe({
        ...options,
        remoteHost: parsed.host,
        remotePort: parsed.port,
        bindHost: parsed.bindHost,
        bindPort: parsed.bindPort,
      });
    case 'udp-listen':
      return new UdpPipe({ ...options, bindHost: parsed.host, bindPort: parsed.port });
  }
}
