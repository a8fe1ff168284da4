/** `skynode dict --format xtce|cosmos` through the real command. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir as makeTempDir, runToEnd } from '../support/cli.js';
import { attr, child, descendants, hasCommand, parseXml, pythonXml, xmllint } from '../support/xml.js';

interface DictionaryJson {
  readonly crc32: string;
  readonly mission: { readonly name: string; readonly apid: number };
  readonly commands: ReadonlyArray<{
    readonly opcode: number;
    readonly name: string;
    readonly hazardous: boolean;
  }>;
  readonly telemetry: ReadonlyArray<{ readonly id: number; readonly name: string }>;
  readonly housekeeping: ReadonlyArray<{ readonly id: number; readonly name: string }>;
}

const made: string[] = [];
function tempDir(prefix?: string): string {
  const dir = makeTempDir(prefix);
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

async function dictionaryJson(): Promise<DictionaryJson> {
  const { code, stdout } = await runToEnd(['dict', '--format', 'json']);
  expect(code).toBe(0);
  return JSON.parse(stdout) as DictionaryJson;
}

describe('skynode dict exports', () => {
  it('--format json is unchanged: the dictionary with its CRC-32', async () => {
    const json = await dictionaryJson();
    expect(json.crc32).toMatch(/^0x[0-9a-f]{8}$/);
    expect(json.commands.length).toBeGreaterThan(0);
    expect(json.housekeeping.length).toBeGreaterThan(0);
  });

  it('--format xtce prints well-formed XTCE with every command, parameter and structure and the same CRC', async () => {
    const json = await dictionaryJson();
    const { code, stdout, stderr } = await runToEnd(['dict', '--format', 'xtce']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const { root } = parseXml(stdout);
    if (hasCommand('xmllint')) expect(xmllint(stdout)).toBeNull();
    if (hasCommand('python3')) expect(pythonXml(stdout)).toBeNull();
    expect(attr(root, 'name')).toBe(json.mission.name);
    expect(attr(child(root, 'Header'), 'version')).toBe(json.crc32);
    const aliases = new Set(descendants(root, 'Alias').map((a) => attr(a, 'alias')));
    for (const entry of [...json.commands, ...json.telemetry, ...json.housekeeping]) {
      expect(aliases.has(entry.name), entry.name).toBe(true);
    }
    const assignments = descendants(root, 'ArgumentAssignment')
      .filter((a) => attr(a, 'argumentName') === 'function_id')
      .map((a) => Number(attr(a, 'argumentValue')));
    expect(assignments).toEqual(json.commands.map((c) => c.opcode));
    const structureIds = descendants(root, 'Comparison')
      .filter((c) => attr(c, 'parameterRef') === 'hk_structure_id')
      .map((c) => Number(attr(c, 'value')));
    expect(structureIds).toEqual(json.housekeeping.map((s) => s.id));
  });

  it('--format cosmos without --out says what to add', async () => {
    const { code, stdout, stderr } = await runToEnd(['dict', '--format', 'cosmos']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('add --out DIR');
  });

  it('--format cosmos --out DIR writes the target layout and prints the paths', async () => {
    const json = await dictionaryJson();
    const dir = join(tempDir('skynode-cosmos-'), 'SKYNODE');
    const { code, stdout, stderr } = await runToEnd(['dict', '--format', 'cosmos', '--out', dir]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const cmdPath = join(dir, 'cmd_tlm', 'cmd.txt');
    const tlmPath = join(dir, 'cmd_tlm', 'tlm.txt');
    expect(stdout.split('\n')).toEqual([cmdPath, tlmPath]);
    expect(existsSync(cmdPath) && existsSync(tlmPath)).toBe(true);
    const cmd = readFileSync(cmdPath, 'utf8');
    const tlm = readFileSync(tlmPath, 'utf8');
    expect(cmd).toContain(`Dictionary CRC-32: ${json.crc32}`);
    const target = json.mission.name.toUpperCase();
    expect(cmd.match(new RegExp(`^COMMAND ${target} `, 'gm'))).toHaveLength(json.commands.length);
    const functionIds = [...cmd.matchAll(/^ {2}ID_PARAMETER FUNCTIONID 88 16 UINT (\d+) \1 \1 /gm)].map((m) =>
      Number(m[1]),
    );
    expect(functionIds).toEqual(json.commands.map((c) => c.opcode));
    expect(cmd.match(/^ {2}HAZARDOUS /gm)?.length ?? 0).toBe(json.commands.filter((c) => c.hazardous).length);
    const structureIds = [...tlm.matchAll(/^ {2}ID_ITEM STRUCTUREID 152 16 UINT (\d+) /gm)].map((m) =>
      Number(m[1]),
    );
    expect(structureIds).toEqual(json.housekeeping.map((s) => s.id));
  });

  it('refuses an unknown format and --out without --format cosmos', async () => {
    const unknown = await runToEnd(['dict', '--format', 'yaml']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('json, xtce or cosmos');
    const misplaced = await runToEnd(['dict', '--format', 'xtce', '--out', tempDir()]);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain('--out goes with --format cosmos');
  });
});
