/** The link layer: wire protocols as pure functions on Uint8Array. No I/O, no clock reads. */
export * from './cadu.js';
export * from './clcw.js';
export * from './cltu.js';
export * from './crc16.js';
export * from './farm.js';
export * from './fop.js';
export * from './kiss.js';
export * from './operators.js';
export * from './pus.js';
export * from './randomizer.js';
export * from './result.js';
export * from './sdls.js';
export * from './space-packet.js';
export * from './tc-frame.js';
export * from './tm-frame.js';
