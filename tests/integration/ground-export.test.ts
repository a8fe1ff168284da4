import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GroundArchive } from '../../src/ground/archive.js';
import { type Running, runToEnd, tempDir } from '../support/cli.js';
import { startLinkedFsw, writeKeyFile } from '../support/link.js';
import { PtyPair } from './transport/helpers.js';

/**
 * The ground's telemetry archive over a real serial line: `skynode fsw` on one end of a pseudo-terminal pair, the
 * ground CLI on the other, as separate processes. What `watch` receives is archived; `export` and `gaps` read the
 * archive without a link; `gaps --request` asks the node to play back what the ground missed.
 */
describe('ground archive, export and gaps over a serial line', () => {
  const pty = new PtyPair();
  const dir = tempDir('skynode-export-');
  const keysFile = join(dir, 'keys.json');
  const groundDir = join(dir, 'ground');
  let fsw: Running;

  const ground = (...args: string[]) =>
    runToEnd([
      'ground',
      '--link',
      `serial:${pty.b}`,
      '--keys',
      keysFile,
      '--state-dir',
      groundDir,
      '--timeout',
      '15',
      ...args,
    ]);
  /** The archive actions need no link. */
  const offline = (...args: string[]) => runToEnd(['ground', '--state-dir', groundDir, ...args]);

  beforeAll(async () => {
    writeKeyFile(keysFile);
    await pty.start();
    fsw = await startLinkedFsw(`serial:${pty.a}`, keysFile, join(dir, 'fsw-state'));
  });

  afterAll(async () => {
    fsw?.child.kill('SIGKILL');
    await pty.dispose();
  });

  it('watch archives what it receives and prints link statistics', async () => {
    const result = await ground('watch', '--duration', '3');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/tlm health.uptimeS=\d+ /);
    expect(result.stdout).toMatch(
      /^link: frames [1-9]\d* in, 0 rejected, 0 gaps; packets [1-9]\d*; CLCW N\(R\)=\d+ lockout=0 wait=0 retransmit=0; COP-1 active V\(S\)=\d+ outstanding=0$/m,
    );
    expect(result.stdout).toContain(`archived in ${join(groundDir, 'archive.db')}`);
  });

  it('exports the archive as CSV and JSON without a link', async () => {
    const csv = await offline('export', '--from', '-5m', '--to', 'now', '--format', 'csv');
    expect(csv.stderr).toBe('');
    expect(csv.code).toBe(0);
    const lines = csv.stdout.split('\n');
    expect(lines[0]).toBe('time,kind,name,value,severity,message');
    const uptime = lines.filter((l) => l.includes(',tlm,health.uptimeS,'));
    expect(uptime.length).toBeGreaterThanOrEqual(2);
    expect(uptime[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z,tlm,health\.uptimeS,\d+,,$/);

    const out = join(dir, 'hk.jsonl');
    const json = await offline(
      'export',
      '--from',
      '-5m',
      '--format',
      'json',
      '--kinds',
      'housekeeping',
      '--out',
      out,
    );
    expect(json.code).toBe(0);
    expect(json.stdout).toMatch(/^\d+ packets exported to /);
    const objects = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { apid: number; service: number; subtype: number; record: { kind: string } },
      );
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects)
      expect(o).toMatchObject({ apid: 0x10, service: 3, subtype: 25, record: { kind: 'housekeeping' } });

    const bad = await offline('export', '--from', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--from takes ISO-8601/);
    const none = await runToEnd(['ground', '--state-dir', join(dir, 'elsewhere'), 'export', '--from', '-5m']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no telemetry archive at/);
  });

  it('finds no gaps on a clean link', async () => {
    const result = await offline('gaps', '--from', '-5m', '--to', 'now');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^no gaps from \S+ to \S+$/);
  });

  it('requests playback of packets the ground missed, and archives them when they come', async () => {
    // Five packets lost on the way down, as far as the ground knows: taken out of its archive.
    const db = new Database(join(groundDir, 'archive.db'));
    const rows = db
      .prepare('SELECT seq FROM tm WHERE apid = 16 AND vcid = 0 ORDER BY time_ms, id')
      .all() as Array<{
      seq: number;
    }>;
    const first = (rows[Math.floor(rows.length / 2)] as { seq: number }).seq;
    const lost = [0, 1, 2, 3, 4].map((i) => (first + i) & 0x3fff);
    db.prepare(`DELETE FROM tm WHERE apid = 16 AND seq IN (${lost.join(', ')})`).run();
    db.close();
    const before = await offline('gaps', '--from', '-5m');
    expect(before.stdout).toMatch(/^1 gap from /);
    expect(before.stdout).toContain(`APID 0x010: 5 packets missing (counts ${lost[0]}..${lost[4]}) between `);

    const result = await ground('gaps', '--from', '-5m', '--request');
    expect(result.stdout).toMatch(
      /^playback \S+ to \S+ \(1 gap\) \(request [0-9a-f]+\): (completed|FAILED)$/m,
    );
    if (result.code === 0) {
      // The recorder is on board: the gap is filled from its packet store, on VC 1.
      expect(result.stdout).toMatch(
        /completion: ok\n {2}playback of request \d+ done: \d+ packets sent on VC 1\n/,
      );
      expect(result.stdout).toContain('recovered 5 of 5 missing packets');
      const after = await offline('gaps', '--from', '-5m');
      expect(after.stdout).not.toContain(`counts ${lost[0]}..`);
      const archive = GroundArchive.inDirectory(groundDir, { mustExist: true });
      const played = archive
        .query({ from: Date.now() - 300_000, to: Date.now() })
        .filter((p) => p.vcid === 1);
      archive.close();
      expect(played.map((p) => p.sequenceCount).sort((a, b) => a - b)).toEqual(
        [...lost].sort((a, b) => a - b),
      );
    } else {
      // A node without the recorder refuses service 15 (failure code 4).
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/acceptance: FAILED \(code 4\)/);
    }
  });
});
