import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, tempDir } from '../support/cli.js';

/** Strips terminal control sequences, leaving the text a person sees. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is exactly what is being stripped
const plain = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

describe('skynode demo on a terminal', () => {
  it('draws the live view and runs a command typed at the prompt, then quits', async () => {
    const stateDir = tempDir();
    // `script` gives the demo a real pseudo-terminal, as a person's terminal would.
    const child = spawn(
      'script',
      [
        '-qfec',
        `stty cols 100 rows 40; ${process.execPath} ${BIN} demo --state-dir ${stateDir}`,
        '/dev/null',
      ],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      screen += chunk;
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const until = async (pattern: RegExp) => {
      for (let i = 0; i < 300 && !pattern.test(plain(screen)); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(plain(screen)).toMatch(pattern);
    };
    await until(/health\.uptimeS\s+\d+\s+s/);
    child.stdin.write('health.NOOP\r');
    await until(/LAST COMMAND health\.NOOP \(request [0-9a-f]{8}\): ok/);
    await until(/health\.noopCount\s+1\s/);
    child.stdin.write('health.SET x=1\r');
    await until(/not sent: unknown command health\.SET/);
    child.stdin.write('quit\r');
    expect(await exited).toBe(0);
    expect(plain(screen)).toMatch(/INFO health\.NOOP: no-op 1/);
  });
});
