#!/usr/bin/env node
// The `skynode` command. In a checkout with its dev dependencies it runs the TypeScript sources through tsx, so
// what you edit is what runs; on a board (a `dist/` copied without `src/` or tsx) it runs the built JavaScript.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/src/cli/main.js', import.meta.url);

async function sourceRunner() {
  if (process.env.SKYNODE_USE_DIST === '1' || !existsSync(fileURLToPath(source))) return false;
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch {
    return false;
  }
}

if (await sourceRunner()) {
  await import(source.href);
} else if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  process.stderr.write(
    'skynode: no build found. Run `npm ci` (development) or `npm run build` (deployment).\n',
  );
  process.exit(2);
}
