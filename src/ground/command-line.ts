/**
 * Commands as a person types them: `thermal.SET_LIMIT celsius=80`. Parsed and checked against the dictionary
 * before anything is sent, so a typo is caught at the prompt with a message that says what is expected.
 */
import type { CommandEntry, MissionDictionary } from '../core/dictionary.js';
import { describeType, parseValue } from '../core/types.js';

export type ParsedCommand =
  | { readonly ok: true; readonly entry: CommandEntry; readonly args: Record<string, unknown> }
  | { readonly ok: false; readonly error: string };

/** Splits on whitespace, keeping "quoted strings" (with \" escapes) together. */
export function tokenize(line: string): string[] {
  const tokens: string[] = [];
  const pattern = /(\S*?)"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const match of line.matchAll(pattern)) {
    if (match[3] !== undefined) tokens.push(match[3]);
    else tokens.push(`${match[1] ?? ''}${(match[2] ?? '').replace(/\\(.)/g, '$1')}`);
  }
  return tokens;
}

export function parseCommandLine(dictionary: MissionDictionary, line: string): ParsedCommand {
  const [name, ...rest] = tokenize(line.trim());
  if (!name) return { ok: false, error: 'empty command' };
  const entry = dictionary.commandByName.get(name);
  if (!entry) {
    const close = suggestions(
      name,
      dictionary.commands.map((c) => c.name),
    );
    const hint = close.length > 0 ? `; did you mean ${close.join(', ')}?` : '';
    return { ok: false, error: `unknown command ${name}${hint}` };
  }
  return parseArguments(entry, rest);
}

/** Parses `name=value` tokens into typed, checked arguments for one command. */
export function parseArguments(entry: CommandEntry, tokens: readonly string[]): ParsedCommand {
  const args: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const token of tokens) {
    const eq = token.indexOf('=');
    if (eq <= 0) {
      problems.push(`'${token}' is not name=value`);
      continue;
    }
    const arg = token.slice(0, eq);
    const type = entry.args[arg];
    if (!type) {
      const known = Object.keys(entry.args);
      problems.push(
        `${entry.name} has no argument '${arg}'${known.length ? ` (it takes ${known.join(', ')})` : ''}`,
      );
      continue;
    }
    const parsed = parseValue(type, token.slice(eq + 1));
    if (parsed.ok) args[arg] = parsed.value;
    else problems.push(`${arg}: ${parsed.error.message}`);
  }
  for (const [arg, type] of Object.entries(entry.args)) {
    if (!(arg in args) && !problems.some((p) => p.startsWith(`${arg}:`))) {
      problems.push(`${arg} is missing (${describeType(type)})`);
    }
  }
  return problems.length > 0 ? { ok: false, error: problems.join('; ') } : { ok: true, entry, args };
}

/** One line of help per command: `health.NOOP`, `thermal.SET_LIMIT celsius=<f32 in [40, 95] degC>`. */
export function commandUsage(entry: CommandEntry): string {
  const args = Object.entries(entry.args).map(([arg, type]) => `${arg}=<${describeType(type)}>`);
  return [entry.name, ...args].join(' ') + (entry.hazardous ? '   (hazardous)' : '');
}

/** Names within a small edit distance of what was typed (case ignored), closest first. */
export function suggestions(typed: string, names: readonly string[], most = 3): string[] {
  const lower = typed.toLowerCase();
  return names
    .map((name) => ({ name, distance: editDistance(lower, name.toLowerCase()) }))
    .filter(({ distance }) => distance <= Math.max(2, Math.floor(lower.length / 4)))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, most)
    .map(({ name }) => name);
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
