/**
 * Hardware abstraction: the device interfaces a board provides to the components. Adding a device kind here
 * (declaration merging into the core's HalDevices) makes it visible as `ctx.hal.<name>` in every component; a
 * board that lacks it leaves it undefined, and the component must cope.
 */
import type { ProcessMonitor } from './process.js';

export type { BoardDefinition, BoardEnvironment } from './board.js';
export { defineBoard } from './board.js';
export type { ProcessMonitor, ProcessReading } from './process.js';
export { nodeProcessMonitor } from './process.js';

declare module '../core/component.js' {
  interface HalDevices {
    /** The flight software's own process: memory, event-loop lag, CPU. */
    readonly process?: ProcessMonitor;
  }
}
