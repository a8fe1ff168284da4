/**
 * The link layer as rxjs operators: received bytes -> frames -> packets, and frames -> bytes, for either profile.
 * Each operator keeps its decoder state per subscription, never throws on bad input, and counts every
 * rejection by reason in the `RejectionCounts` it is given (what housekeeping reports).
 */
import { defer, map, mergeMap, type Observable, type OperatorFunction } from 'rxjs';
import {
  type Deframer,
  downlinkDeframer,
  frameDownlink,
  frameUplink,
  type LinkProfile,
  uplinkDeframer,
} from './profile.js';
import type { Decoded } from './result.js';
import { type TmFrame, TmPacketExtractor } from './tm-frame.js';

/** Rejections by `layer:reason`, counted as they happen. */
export type RejectionCounts = Record<string, number>;

function count(counts: RejectionCounts | undefined, key: string, by = 1): void {
  if (counts) counts[key] = (counts[key] ?? 0) + by;
}

/**
 * Frames out of a byte stream, in any split: KISS or CLTU (`up`, what the node receives), KISS or CADU (`down`,
 * what the ground receives). Framing errors are added to `counts` as `framing:<reason>` when the stream ends or
 * is unsubscribed, and kept current while it runs.
 */
export function deframe(
  profile: LinkProfile,
  direction: 'up' | 'down',
  counts?: RejectionCounts,
): OperatorFunction<Uint8Array, Uint8Array> {
  return (source: Observable<Uint8Array>) =>
    defer(() => {
      const deframer: Deframer = direction === 'up' ? uplinkDeframer(profile) : downlinkDeframer(profile);
      const seen: Record<string, number> = {};
      return source.pipe(
        mergeMap((chunk) => {
          const frames = deframer.push(chunk);
          for (const [reason, total] of Object.entries(deframer.rejections())) {
            const delta = total - (seen[reason] ?? 0);
            if (delta > 0) count(counts, `framing:${reason}`, delta);
            seen[reason] = total;
          }
          return frames;
        }),
      );
    });
}

/** Decodes each frame with `decode` (decodeTcFrame, decodeTmFrame, ...); rejections counted as `layer:reason`. */
export function decodeWith<T>(
  layer: string,
  decode: (bytes: Uint8Array) => Decoded<T>,
  counts?: RejectionCounts,
): OperatorFunction<Uint8Array, T> {
  return mergeMap((bytes: Uint8Array) => {
    const decoded = decode(bytes);
    if (decoded.ok) return [decoded.value];
    count(counts, `${layer}:${decoded.reason}`);
    return [];
  });
}

/**
 * Space packets out of TM frames, one extractor per virtual channel (gaps in a VC's frame count drop the packet
 * they cut, counted as `tm-packets:lost-frames`). Idle frames (VC 7) carry none.
 */
export function tmPackets(
  counts?: RejectionCounts,
): OperatorFunction<TmFrame, { vcid: number; packet: Uint8Array }> {
  return (source) =>
    defer(() => {
      const extractors = new Map<number, TmPacketExtractor>();
      return source.pipe(
        mergeMap((frame) => {
          if (frame.vcid === 7) return [];
          let extractor = extractors.get(frame.vcid);
          if (!extractor) {
            extractor = new TmPacketExtractor();
            extractors.set(frame.vcid, extractor);
          }
          const lostBefore = extractor.stats.lostFrames;
          const packets = extractor.push(frame);
          if (extractor.stats.lostFrames > lostBefore) {
            count(counts, 'tm-packets:lost-frames', extractor.stats.lostFrames - lostBefore);
          }
          return packets.map((packet) => ({ vcid: frame.vcid, packet }));
        }),
      );
    });
}

/** Frames as they go on the transport: KISS or CLTU (`up`), KISS or CADU (`down`). */
export function enframe(
  profile: LinkProfile,
  direction: 'up' | 'down',
): OperatorFunction<Uint8Array, Uint8Array> {
  return map((frame: Uint8Array) =>
    direction === 'up' ? frameUplink(profile, frame) : frameDownlink(profile, frame),
  );
}
