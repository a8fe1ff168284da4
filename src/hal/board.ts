/**
 * A board definition: which drivers a physical (or simulated) board uses, on which paths, for which roles. One
 * file per board in `boards/`; `skynode fsw --board NAME` picks one.
 */
import type { HalDevices } from '../core/component.js';

export interface BoardEnvironment {
  /** The state directory of this run, for drivers that keep files. */
  readonly stateDir: string;
}

export interface BoardDefinition {
  /** The name given to `--board`. */
  readonly name: string;
  readonly description: string;
  /** Opens the board's devices. Called once at start-up; `close` releases them. */
  open(env: BoardEnvironment): { readonly devices: HalDevices; close(): void };
}

export function defineBoard(board: BoardDefinition): BoardDefinition {
  return board;
}
