/**
 * The hardware-in-the-loop board: the node's EPS and accelerator controller are devices on a serial bus speaking
 * Modbus RTU (`src/hal/serial/modbus-map.ts`), served by the HIL rig's simulated devices on a pseudo-terminal
 * (`hil/devices/`) or, on a bench, by real devices on a USB-serial adapter. The flight build is the one that runs on
 * a dev board; only this file differs.
 *
 * The device bus: `SKYNODE_DEVICE_PORT` in the environment (`/dev/ttyUSB1`, `/dev/pts/7`, `PATH@BAUD`), default
 * `/dev/ttyUSB1` at 115200 baud.
 */
import { defineBoard } from '../src/hal/board.js';
import { nodeProcessMonitor } from '../src/hal/process.js';
import { modbusAccelerator, modbusEps } from '../src/hal/serial/modbus-devices.js';
import { ModbusMaster } from '../src/hal/serial/modbus-master.js';
import { openPipe } from '../src/transport/pipe.js';

export const DEFAULT_DEVICE_PORT = '/dev/ttyUSB1';

export const simSerial = defineBoard({
  name: 'sim-serial',
  description:
    'HIL rig: EPS and accelerator controller as Modbus RTU devices on a serial port (SKYNODE_DEVICE_PORT)',
  open(env) {
    if (!env.clock) {
      throw new Error(
        'the sim-serial board schedules its Modbus timeouts on the mission clock: open it with a clock',
      );
    }
    const port = (env.env ?? globalThis.process.env).SKYNODE_DEVICE_PORT ?? DEFAULT_DEVICE_PORT;
    const spec = /@\d+$/.test(port) ? `serial:${port}` : `serial:${port}@115200`;
    const pipe = openPipe(spec, { scheduler: env.clock.scheduler });
    const master = new ModbusMaster(pipe, { scheduler: env.clock.scheduler });
    const eps = modbusEps(master, env);
    const accelerator = modbusAccelerator(master, env);
    const monitor = nodeProcessMonitor({ stateDir: env.stateDir });
    return {
      devices: {
        accelerator: accelerator.accelerator,
        battery: eps.battery,
        solar: eps.solar,
        busMonitor: eps.busMonitor,
        temperatures: accelerator.temperatures,
        loadSwitches: eps.loadSwitches,
        process: monitor,
      },
      // The master counts the request on the bus among those pending.
      pendingIo: () => master.pending,
      ioIdle: () => master.whenIdle(),
      async close() {
        monitor.close();
        master.close();
        await pipe.close();
      },
    };
  },
});

export default simSerial;
