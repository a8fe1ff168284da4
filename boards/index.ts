/**
 * The boards `--board NAME` can name. Add a board: write `boards/NAME.ts` (`defineLinuxBoard` for a Linux
 * machine) and list it here, or pass its path: `--board ./boards/my-board.ts`.
 */
import type { BoardDefinition } from '../src/hal/board.js';
import { genericLinux } from './generic-linux.js';
import { jetsonOrinNano } from './jetson-orin-nano.js';
import { nvidiaDatacenter } from './nvidia-datacenter.js';
import { raspberryPi5 } from './raspberry-pi-5.js';
import { sim } from './sim.js';
import { simSerial } from './sim-serial.js';

export const boards: Readonly<Record<string, BoardDefinition>> = {
  sim,
  'sim-serial': simSerial,
  'generic-linux': genericLinux,
  'raspberry-pi-5': raspberryPi5,
  'jetson-orin-nano': jetsonOrinNano,
  'nvidia-datacenter': nvidiaDatacenter,
};
