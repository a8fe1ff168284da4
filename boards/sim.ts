/**
 * The simulated board: the example node's physics (orbit, solar array, battery, accelerator, radiator;
 * `hil/plant/`) behind the HAL's device interfaces (`hil/sim-devices.ts`), plus the flight software's own process
 * as its one real device. Runs on any machine (a laptop, CI). The plant steps on the mission clock's scheduler, so
 * the board needs the clock: in real time an orbit takes 95 minutes; under a virtual clock, as long as it takes
 * to compute.
 */

import { exampleNode } from '../hil/plant/defaults.js';
import { Plant } from '../hil/plant/plant.js';
import { simulatedNode } from '../hil/sim-devices.js';
import { defineBoard } from '../src/hal/board.js';
import { nodeProcessMonitor } from '../src/hal/index.js';

export const sim = defineBoard({
  name: 'sim',
  description: 'Simulated node: runs anywhere, no hardware needed',
  open(env) {
    if (!env.clock) {
      throw new Error(
        "the sim board steps its physics plant on the mission clock's scheduler: open it with a clock (BoardEnvironment.clock)",
      );
    }
    const node = simulatedNode(new Plant(exampleNode()), env.clock);
    const process = nodeProcessMonitor({ stateDir: env.stateDir });
    return {
      devices: { ...node.devices, process },
      close: () => {
        node.close();
        process.close();
      },
    };
  },
});
