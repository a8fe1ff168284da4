/**
 * Running the device tools some drivers need (nvidia-smi, nvpmodel, the libgpiod tools, systemd-notify). The
 * context's environment decides which binary runs (its PATH: that is how tests put a recorded fake first).
 */
import { execFile } from 'node:child_process';
import type { HalContext } from './io.js';

/** The outcome of running a tool: never rejects, so callers grade it like any other device error. */
export type ToolOutcome =
  | { readonly ok: true; readonly stdout: string; readonly stderr: string }
  | {
      readonly ok: false;
      readonly stdout: string;
      readonly stderr: string;
      /** One line for logs: the tool's own first line of complaint, or why it did not run. */
      readonly error: string;
      /** The binary was not found (ENOENT), so retrying will not help until it is installed. */
      readonly missing: boolean;
    };

export const DEFAULT_TOOL_TIMEOUT_MS = 5000;

function firstLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line.length > 0);
}

/**
 * Runs a device tool with the context's environment (its PATH decides which binary runs, which is how tests put a
 * fake first). The timeout is the child's, enforced by Node, so that the flight code needs no timer of its own.
 */
export function runTool(
  ctx: Pick<HalContext, 'env'>,
  binary: string,
  args: readonly string[],
  options: { readonly timeoutMs?: number; readonly missingHint?: string } = {},
): Promise<ToolOutcome> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  return new Promise((resolve) => {
    execFile(
      binary,
      [...args],
      { env: ctx.env ?? process.env, timeout: timeoutMs, maxBuffer: 1 << 20, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ ok: true, stdout, stderr });
          return;
        }
        let why: string;
        const missing = error.code === 'ENOENT';
        if (missing)
          why = `${binary} not found on PATH${options.missingHint ? `: ${options.missingHint}` : ''}`;
        else if (error.killed && error.signal) why = `${binary} timed out after ${timeoutMs} ms`;
        else {
          // nvidia-smi and nvpmodel print most of their errors on stdout, so stderr is only preferred.
          const said = firstLine(stderr) ?? firstLine(stdout);
          const status = typeof error.code === 'number' ? `exited ${error.code}` : (error.signal ?? 'failed');
          why = said ? `${binary} ${status}: ${said}` : `${binary} ${status}`;
        }
        resolve({ ok: false, stdout, stderr, error: why, missing });
      },
    );
  });
}
