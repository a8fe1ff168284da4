/** Runs `skynode link` in a process of its own, for tests (src/cli/main.ts wires the same function in). */
import { linkCommand } from '../../src/cli/link.js';

process.exit(await linkCommand(process.argv.slice(2)));
