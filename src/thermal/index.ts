/** Thermal control of the AI accelerator: governors, trip points and sensor plausibility, all pure. */
export * from './bang-bang.js';
export * from './governor.js';
export * from './power-allocator.js';
export * from './sensor-check.js';
export * from './skynode.js';
export * from './step-wise.js';
export * from './trips.js';
