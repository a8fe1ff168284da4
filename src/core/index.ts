/** The kernel of skynode: everything a component, a service or a ground tool builds on. */
export * from './bus.js';
export * from './clock.js';
export * from './component.js';
export * from './crc32.js';
export * from './dictionary.js';
export * from './executive.js';
export * from './log.js';
export * from './pack.js';
export * from './params.js';
export * from './persistence.js';
export * from './rate-group.js';
export * from './time.js';
export * from './types.js';
