/**
 * The simulated board: the flight software's own process as its only real device. Runs on any machine (a
 * laptop, CI). The physics plant (orbit, battery, accelerator, radiator) joins it with the power and thermal work.
 */
import { defineBoard } from '../src/hal/board.js';
import { nodeProcessMonitor } from '../src/hal/index.js';

export const sim = defineBoard({
  name: 'sim',
  description: 'Simulated node: runs anywhere, no hardware needed',
  open() {
    const process = nodeProcessMonitor();
    return { devices: { process }, close: () => process.close() };
  },
});
