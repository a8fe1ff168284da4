/** Power management: pure classes (no I/O, no clocks); time comes in as inputs, in seconds. */

export * from './eclipse.js';
export * from './manager.js';
export * from './modes.js';
export * from './orbit.js';
export * from './phased-budget.js';
export * from './shedding.js';
export * from './soc.js';
