/**
 * The two link profiles of PROTOCOL.md as stream stages: how frames are delimited on the transport in each
 * direction. `serial`: one KISS data frame per TC or TM frame, TM frames of 256 octets. `radio`: CLTUs up
 * (BCH, TC randomizer), CADUs down (ASM, TM randomizer), TM frames of 1115 octets.
 */
import { ASM_LENGTH, CaduSynchronizer, encodeCadu, writeCadu } from './cadu.js';
import { CltuDecoder, encodeCltu } from './cltu.js';
import { KissDecoder, kissEncode, kissEncodeInto } from './kiss.js';
import { TmFrameLength } from './tm-frame.js';

export type LinkProfile = 'serial' | 'radio';
export const LINK_PROFILES: readonly LinkProfile[] = ['serial', 'radio'];

export function isLinkProfile(text: string): text is LinkProfile {
  return (LINK_PROFILES as readonly string[]).includes(text);
}

/** TM frame length of a profile. */
export function tmFrameLengthOf(profile: LinkProfile): number {
  return TmFrameLength[profile];
}

/** Finds frames in received bytes, in any split; counts what it drops, by reason. */
export interface Deframer {
  push(chunk: Uint8Array): Uint8Array[];
  /** Drops by reason since start (a snapshot). */
  rejections(): Record<string, number>;
  /** Frames found since start. */
  frames(): number;
}

function kissDeframer(maxFrameLength: number): Deframer {
  const decoder = new KissDecoder({ maxFrameLength });
  return {
    push: (chunk) => decoder.push(chunk),
    rejections: () => Object.fromEntries(Object.entries(decoder.rejected).map(([k, v]) => [`kiss-${k}`, v])),
    frames: () => decoder.frames,
  };
}

/** On board: TC frames out of the uplink bytes. */
export function uplinkDeframer(profile: LinkProfile): Deframer {
  if (profile === 'serial') return kissDeframer(2048);
  const decoder = new CltuDecoder();
  return {
    push: (chunk) => decoder.push(chunk),
    rejections: () => ({
      'cltu-aborted': decoder.stats.aborted,
      'cltu-oversize': decoder.stats.oversize,
      'cltu-empty': decoder.stats.empty,
    }),
    frames: () => decoder.stats.frames,
  };
}

/** On the ground: TM frames out of the downlink bytes. */
export function downlinkDeframer(profile: LinkProfile): Deframer {
  if (profile === 'serial') return kissDeframer(2048);
  const sync = new CaduSynchronizer({ frameLength: tmFrameLengthOf(profile) });
  return {
    push: (chunk) => sync.push(chunk),
    rejections: () => ({ 'cadu-resyncs': sync.stats.resyncs, 'cadu-bit-slips': sync.stats.bitSlips }),
    frames: () => sync.stats.frames,
  };
}

/** On the ground: a TC frame as it goes on the transport. */
export function frameUplink(profile: LinkProfile, frame: Uint8Array): Uint8Array {
  return profile === 'serial' ? kissEncode(frame) : encodeCltu(frame);
}

/** On board: a TM frame as it goes on the transport. */
export function frameDownlink(profile: LinkProfile, frame: Uint8Array): Uint8Array {
  return profile === 'serial' ? kissEncode(frame) : encodeCadu(frame);
}

/** Room for any TM frame of the profile as it goes on the transport (KISS can double every octet). */
export function downlinkFramedCapacity(profile: LinkProfile): number {
  const frameLength = tmFrameLengthOf(profile);
  return profile === 'serial' ? 2 * frameLength + 3 : ASM_LENGTH + frameLength;
}

/** `frameDownlink` into `out` (of downlinkFramedCapacity octets at least); returns the octets written. */
export function frameDownlinkInto(profile: LinkProfile, frame: Uint8Array, out: Uint8Array): number {
  return profile === 'serial' ? kissEncodeInto(out, 0, frame) : writeCadu(out, 0, frame);
}
