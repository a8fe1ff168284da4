/**
 * Hardware abstraction: the device interfaces a board provides to the components. Adding a device kind here
 * (declaration merging into the core's HalDevices) makes it visible as `ctx.hal.<name>` in every component; a
 * board that lacks it leaves it undefined, and the component must cope.
 */
import type { ProcessMonitor } from './process.js';
import type {
  AcceleratorControl,
  Battery,
  LoadSwitch,
  PowerMonitor,
  SolarInput,
  TemperatureSensor,
  Watchdog,
} from './types.js';

export type { BoardDefinition, BoardEnvironment, OpenBoard } from './board.js';
export { defineBoard } from './board.js';
export type { ProcessMonitor, ProcessReading } from './process.js';
export { nodeProcessMonitor } from './process.js';
export type * from './types.js';

declare module '../core/component.js' {
  interface HalDevices {
    /** The flight software's own process: memory, event-loop lag, CPU. */
    readonly process?: ProcessMonitor;
    /** The AI accelerator: temperature, power, clocks, throttle reasons; power cap and frequency ceiling. */
    readonly accelerator?: AcceleratorControl;
    readonly battery?: Battery;
    /** The main power bus. */
    readonly busMonitor?: PowerMonitor;
    readonly solar?: SolarInput;
    /** Named temperatures (`soc`, `board`, `radiator`). */
    readonly temperatures?: Readonly<Record<string, TemperatureSensor>>;
    /** Named rails beyond the bus. */
    readonly powerRails?: Readonly<Record<string, PowerMonitor>>;
    /** Switched loads in shedding order: the first is shed first. */
    readonly loadSwitches?: readonly LoadSwitch[];
    /** Kicked by the health component while the rate groups keep their deadlines. */
    readonly watchdog?: Watchdog;
  }
}
