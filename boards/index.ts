/** The boards `--board NAME` can name. Add a board: write `boards/NAME.ts` and list it here. */
import type { BoardDefinition } from '../src/hal/board.js';
import { sim } from './sim.js';

export const boards: Readonly<Record<string, BoardDefinition>> = { sim };
