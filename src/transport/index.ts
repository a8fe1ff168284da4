/** Byte pipes: serial, TCP, UDP and the impaired in-memory link, behind one interface (see pipe.ts). */
export { Backoff, DEFAULT_BACKOFF } from './base.js';
export {
  type Direction,
  flipBits,
  type ImpairedPair,
  type ImpairedPairOptions,
  ImpairedPipe,
  type ImpairedPipeStats,
  type ImpairmentStats,
  type Impairments,
  impairedPair,
} from './impaired.js';
export {
  type BackoffOptions,
  type BytePipe,
  DEFAULT_BAUD_RATE,
  formatLinkSpec,
  LINK_SPEC_FORMS,
  type LinkSpec,
  LinkSpecError,
  type LinkSpecResult,
  openPipe,
  type PipeOptions,
  type PipeState,
  type PipeStateKind,
  type PipeStats,
  parseLinkSpec,
} from './pipe.js';
export { Prng } from './prng.js';
export { SerialPipe, type SerialPipeOptions } from './serial.js';
export { TcpClientPipe, type TcpClientPipeOptions, TcpServerPipe, type TcpServerPipeOptions } from './tcp.js';
export { MAX_DATAGRAM_BYTES, UdpPipe, type UdpPipeOptions } from './udp.js';
