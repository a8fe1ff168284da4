/**
 * A board definition: which drivers a physical (or simulated) board uses, on which paths, for which roles. One
 * file per board in `boards/`; `skynode fsw --board NAME` picks one (or `--board FILE` for a board file of your own).
 */
import type { MissionClock } from '../core/clock.js';
import type { HalDevices } from '../core/component.js';
import type { SerialPortRole } from './types.js';

export interface BoardEnvironment {
  /** The state directory of this run, for drivers that keep files. */
  readonly stateDir: string;
  /** Mission time (UTC ms): drivers stamp readings with it. */
  now(): number;
  /** Where the device tree is: `/` on the board; a captured or fake tree for `board probe --root` and tests. */
  readonly root?: string;
  /** Environment for the tools drivers run (PATH for nvidia-smi, gpioset, systemd-notify; NOTIFY_SOCKET). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The mission clock, for boards whose devices need its scheduler: the sim board steps its physics plant on it
   * (and refuses to open without it). Linux boards read hardware and need only `now()`.
   */
  readonly clock?: MissionClock;
}

export interface OpenBoard {
  readonly devices: HalDevices;
  /**
   * I/O the board's drivers have in flight (requests sent and not yet answered, or queued): 0 when the drivers
   * are idle. Optional; a board without it is taken as never busy. A follower of a virtual clock
   * (`skynode fsw --clock-follow`) waits for 0 before it reports a step done.
   */
  pendingIo?(): number;
  /**
   * Resolves when `pendingIo` next reaches 0 (at once if it is 0): lets the follower wait for the answers without
   * spinning. Optional, with `pendingIo`.
   */
  ioIdle?(): Promise<void>;
  /** Releases the devices: stops GPIO holders, disarms the watchdog (magic close) on an orderly stop. */
  close(): void | Promise<void>;
}

export interface BoardDefinition {
  /** The name given to `--board`. */
  readonly name: string;
  readonly description: string;
  /** The board's uplink/downlink serial port, used when `skynode fsw` is given no `--link`. */
  readonly link?: SerialPortRole;
  /** Opens the board's devices. Called once at start-up; `close` releases them. */
  open(env: BoardEnvironment): OpenBoard;
}

export function defineBoard(board: BoardDefinition): BoardDefinition {
  return board;
}
