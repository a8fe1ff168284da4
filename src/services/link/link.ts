/**
 * The space link on board. Uplink: transport bytes -> KISS or CLTU -> TC frame (FECF, SCID) -> SDLS (MAC, ARSN)
 * -> FARM-1 -> the anti-replay counter and FARM state stored durably -> the packet on the bus for the
 * commanding service. Downlink: TM packets from the bus -> TM frames per virtual channel (packets spanning
 * frames, a CLCW in every frame, a partial frame completed with an idle packet when its latency bound runs
 * out) -> KISS or CADU -> transport. Every rejection is counted by reason in telemetry.
 */
import type { DownlinkPacket } from '../../core/bus.js';
import { defineComponent } from '../../core/component.js';
import { bool, enumOf, f32, str, u8, u32 } from '../../core/types.js';
import type { ClcwInit } from '../../link/clcw.js';
import { Farm1, type FarmDiscard, type FarmSnapshot } from '../../link/farm.js';
import { type Deframer, type LinkProfile, uplinkDeframer } from '../../link/profile.js';
import { AntiReplayWindow, type SdlsKeys, verifyDecodedTcFrame } from '../../link/sdls.js';
import { SPACE_PACKET_MIN_LENGTH, spacePacketLength } from '../../link/space-packet.js';
import { decodeTcFrame } from '../../link/tc-frame.js';
import type { BytePipe, PipeState } from '../../transport/pipe.js';
import { Priority } from '../tm-source.js';
import { DownlinkScheduler } from './downlink.js';

export interface LinkConfig {
  /** The transport to the ground; none: the component reports 'none' and does nothing. */
  readonly pipe?: BytePipe;
  readonly profile: LinkProfile;
  /** SDLS keys; undefined only with `insecure` (development: frames carry no security fields). */
  readonly keys?: SdlsKeys;
  readonly insecure?: boolean;
  /** TC virtual channel of commands and FARM-1 (PROTOCOL.md: 0). */
  readonly tcVcid?: number;
}

/** Downlink packets at or above this priority (verification reports, replies) use the urgent latency bound. */
const URGENT_PRIORITY = Priority.reply;

const PIPE_STATES = ['none', 'connecting', 'open', 'reconnecting', 'closed'] as const;
const FARM_STATES = ['open', 'wait', 'lockout'] as const;

/** Telemetry counters of rejected uplink frames, by reason (the names are the telemetry items). */
const REJECTION_COUNTERS = [
  'rejectedFraming',
  'rejectedCrc',
  'rejectedFrame',
  'rejectedScid',
  'rejectedVcid',
  'rejectedSpi',
  'rejectedMac',
  'rejectedReplay',
  'rejectedSecurity',
  'farmPositiveWindow',
  'farmNegativeWindow',
  'farmLockout',
  'farmOther',
] as const;
type RejectionCounter = (typeof REJECTION_COUNTERS)[number];

const FARM_COUNTER: Readonly<Record<FarmDiscard, RejectionCounter>> = {
  'positive-window': 'farmPositiveWindow',
  'negative-window': 'farmNegativeWindow',
  'outside-window': 'farmLockout',
  lockout: 'farmLockout',
  'no-buffer': 'farmOther',
  'set-vr-in-lockout': 'farmOther',
};

const counterTlm = (id: number, description: string) => ({ id, type: u32(), description });

const linkDeclaration = {
  name: 'link',
  description: 'Space link: TC frames in (SDLS, FARM-1), TM frames out (virtual channels, CLCW)',
  commands: {
    RESET_COUNTERS: { opcode: 0x0501, description: 'Zeroes the link counters' },
  },
  telemetry: {
    pipeState: { id: 0x0501, type: enumOf(PIPE_STATES), description: 'State of the transport to the ground' },
    authenticated: { id: 0x0502, type: bool(), description: 'Whether uplink frames must carry a valid MAC' },
    framesAccepted: counterTlm(0x0503, 'TC frames accepted by FARM-1 (or BD/BC)'),
    bytesIn: counterTlm(0x0504, 'Octets received from the transport'),
    framesOut: counterTlm(0x0505, 'TM frames sent'),
    bytesOut: counterTlm(0x0506, 'Octets written to the transport'),
    farmState: { id: 0x0507, type: enumOf(FARM_STATES), description: 'FARM-1 state' },
    vr: { id: 0x0508, type: u8(), description: 'FARM-1 V(R): N(S) expected next' },
    farmBCounter: { id: 0x0509, type: u8(), description: 'FARM-B counter (BD and BC frames, modulo 4)' },
    rejectedFraming: counterTlm(0x0510, 'Uplink: KISS or CLTU framing errors'),
    rejectedCrc: counterTlm(0x0511, 'Uplink: frames with a bad FECF'),
    rejectedFrame: counterTlm(
      0x0512,
      'Uplink: malformed frames (length, version, type, spare, segment header)',
    ),
    rejectedScid: counterTlm(0x0513, 'Uplink: frames for another spacecraft'),
    rejectedVcid: counterTlm(0x0514, 'Uplink: frames on a virtual channel not served'),
    rejectedSpi: counterTlm(0x0515, 'Uplink: unknown SPI'),
    rejectedMac: counterTlm(0x0516, 'Uplink: bad MAC (authentication failed)'),
    rejectedReplay: counterTlm(0x0517, 'Uplink: ARSN not above the last accepted (replay)'),
    rejectedSecurity: counterTlm(0x0518, 'Uplink: other security errors (length)'),
    farmPositiveWindow: counterTlm(0x0519, 'FARM-1 discards: frame ahead of V(R) (retransmit asked)'),
    farmNegativeWindow: counterTlm(0x051a, 'FARM-1 discards: frame already accepted'),
    farmLockout: counterTlm(0x051b, 'FARM-1 discards: outside the window, or in lockout'),
    farmOther: counterTlm(0x051c, 'FARM-1 discards: no buffer, Set V(R) in lockout'),
    downlinkQueue: { id: 0x051d, type: u32(), description: 'TM packets waiting for the downlink' },
    downlinkDropped: counterTlm(
      0x051e,
      'TM packets dropped from a full downlink queue (oldest of the lowest priority)',
    ),
    idleFrames: counterTlm(0x051f, 'Idle frames sent (radio profile, bandwidth set)'),
  },
  events: {
    PIPE_STATE: {
      id: 0x0501,
      severity: 'info' as const,
      args: { state: str({ maxLength: 16 }), detail: str({ maxLength: 120 }) },
      message: 'link {state} {detail}',
    },
    AUTH_FAILED: {
      id: 0x0502,
      severity: 'medium' as const,
      args: { reason: str({ maxLength: 32 }), detail: str({ maxLength: 120 }) },
      message: 'uplink frame rejected by security: {reason} ({detail})',
    },
    LOCKOUT: {
      id: 0x0503,
      severity: 'medium' as const,
      args: { ns: u8() },
      message: 'FARM-1 lockout at N(S) {ns}',
    },
    INSECURE: {
      id: 0x0504,
      severity: 'high' as const,
      message:
        'UPLINK AUTHENTICATION IS DISABLED (development flag): anyone who can reach the link can command',
    },
  },
  params: {
    frameLatencyMs: {
      id: 0x0501,
      type: f32({ min: 10, max: 60_000, units: 'ms' }),
      default: 250,
      description: 'A TM frame that is not full is completed with an idle packet after this long',
    },
    urgentLatencyMs: {
      id: 0x0503,
      type: f32({ min: 0, max: 60_000, units: 'ms' }),
      default: 0,
      description:
        'Latency bound of frames holding verification reports and replies (0: at the end of the turn)',
    },
    queueLimit: {
      id: 0x0502,
      type: u32({ min: 1, max: 1_000_000 }),
      default: 5000,
      description:
        'TM packets that may wait for the downlink (transport down, bandwidth); past this the oldest of the lowest priority is dropped',
    },
    bandwidthBytesPerS: {
      id: 0x0504,
      type: u32({ units: 'B/s' }),
      default: 0,
      description: 'Octets per second the downlink may use (0: no limit; the transport paces itself)',
    },
  },
};

/** The declarations alone, whatever the configuration: what `skynode dict` lists. */
export const linkDeclarationOnly = () => createLink({ profile: 'serial', insecure: true });

export function createLink(config: LinkConfig) {
  return defineComponent({
    ...linkDeclaration,
    setup(ctx) {
      const { dictionary } = ctx.system;
      const scid = dictionary.mission.spacecraftId;
      const tcVcid = config.tcVcid ?? 0;
      const counts: Record<RejectionCounter, number> = Object.fromEntries(
        REJECTION_COUNTERS.map((k) => [k, 0]),
      ) as Record<RejectionCounter, number>;
      const totals = { framesAccepted: 0, bytesIn: 0 };
      const storedFarm = ctx.storage.get('farm');
      const storedReplay = ctx.storage.get('antiReplay');
      const farm = new Farm1(
        10,
        () => true,
        storedFarm ? (JSON.parse(Buffer.from(storedFarm).toString('utf8')) as FarmSnapshot) : undefined,
      );
      const antiReplay = new AntiReplayWindow(
        storedReplay
          ? (JSON.parse(Buffer.from(storedReplay).toString('utf8')) as Record<string, number>)
          : {},
      );
      if (config.pipe && !config.keys && !config.insecure) {
        throw new Error('link: no SDLS keys (--keys FILE) and not insecure');
      }
      const persisted = { farm: '', replay: '' };
      const persist = () => {
        // Before the packet goes on, in one transaction (one disk flush): FARM-1's V(R) and the ARSN.
        const farmState = JSON.stringify(farm.snapshot());
        const replayState = JSON.stringify(antiReplay.snapshot());
        if (farmState === persisted.farm && replayState === persisted.replay) return;
        ctx.storage.transaction(() => {
          ctx.storage.put('farm', Buffer.from(farmState));
          ctx.storage.put('antiReplay', Buffer.from(replayState));
        });
        persisted.farm = farmState;
        persisted.replay = replayState;
      };

      const clcw = (): ClcwInit => {
        const s = farm.status;
        return {
          vcid: tcVcid,
          lockout: s.lockout,
          wait: s.wait,
          retransmit: s.retransmit,
          farmBCounter: s.farmBCounter,
          reportValue: s.vr,
          noRfAvailable: false,
          noBitLock: false,
        };
      };

      // --- uplink -----------------------------------------------------------------------------------------
      const deframer: Deframer = uplinkDeframer(config.profile);
      const onFrame = (bytes: Uint8Array) => {
        const decoded = decodeTcFrame(bytes, { scid, allowTrailing: config.profile === 'radio' });
        if (!decoded.ok) {
          counts[
            decoded.reason === 'bad-crc'
              ? 'rejectedCrc'
              : decoded.reason === 'bad-scid'
                ? 'rejectedScid'
                : 'rejectedFrame'
          ] += 1;
          return;
        }
        const frame = decoded.value;
        if (frame.vcid !== tcVcid) {
          counts.rejectedVcid += 1;
          return;
        }
        let payload: Uint8Array;
        let arsn: { spi: number; arsn: number } | undefined;
        if (frame.type === 'BC') {
          payload = new Uint8Array(0);
        } else if (config.keys) {
          const verified = verifyDecodedTcFrame(bytes, frame, config.keys, antiReplay.last, decoded.length);
          if (!verified.ok) {
            const counter: RejectionCounter =
              verified.reason === 'unknown-spi'
                ? 'rejectedSpi'
                : verified.reason === 'bad-mac'
                  ? 'rejectedMac'
                  : verified.reason === 'replay'
                    ? 'rejectedReplay'
                    : 'rejectedSecurity';
            counts[counter] += 1;
            ctx.events.AUTH_FAILED({ reason: verified.reason, detail: verified.detail.slice(0, 120) });
            return;
          }
          payload = verified.value.payload;
          arsn = { spi: verified.value.spi, arsn: verified.value.arsn };
        } else {
          payload = frame.data;
        }
        const wasLocked = farm.status.lockout;
        const verdict = farm.receive(frame);
        if (!verdict.accepted) {
          counts[FARM_COUNTER[verdict.reason]] += 1;
          if (!wasLocked && farm.status.lockout) ctx.events.LOCKOUT({ ns: frame.sequenceNumber });
          persist();
          return;
        }
        if (arsn) antiReplay.commit(arsn.spi, arsn.arsn);
        persist();
        totals.framesAccepted += 1;
        // The data field holds one or more whole TC packets.
        for (let at = 0; at + SPACE_PACKET_MIN_LENGTH <= payload.length; ) {
          const length = spacePacketLength(payload, at);
          if (length < SPACE_PACKET_MIN_LENGTH || at + length > payload.length) {
            counts.rejectedFrame += 1;
            break;
          }
          ctx.bus.publishUplink({
            bytes: payload.slice(at, at + length),
            vcid: frame.vcid,
            time: ctx.clock.now(),
          });
          at += length;
        }
      };

      // --- downlink ---------------------------------------------------------------------------------------
      const downlink = new DownlinkScheduler(
        config.profile,
        scid,
        clcw,
        ctx.clock,
        {
          bandwidthBytesPerS: () => ctx.params.get('bandwidthBytesPerS'),
          queueLimit: () => ctx.params.get('queueLimit'),
          // Verification reports and replies go at once (with whatever else this turn produced, in one frame);
          // housekeeping and events wait up to the frame latency bound for company.
          latencyMs: (priority) =>
            priority >= URGENT_PRIORITY
              ? ctx.params.get('urgentLatencyMs')
              : ctx.params.get('frameLatencyMs'),
        },
        (bytes) => config.pipe?.write(bytes) ?? false,
      );

      const subscriptions: Array<{ unsubscribe(): void }> = [];
      let pipeState: (typeof PIPE_STATES)[number] = 'none';
      const pipe = config.pipe;
      if (pipe) {
        subscriptions.push(
          pipe.data$.subscribe((chunk) => {
            totals.bytesIn += chunk.length;
            for (const frame of deframer.push(chunk)) onFrame(frame);
          }),
          pipe.state$.subscribe((state: PipeState) => {
            pipeState = state.kind;
            const detail =
              state.kind === 'open'
                ? (state.peer ?? pipe.name)
                : state.kind === 'reconnecting'
                  ? `${state.reason} (retry ${state.attempt} in ${state.delayMs} ms)`
                  : state.kind === 'connecting'
                    ? (state.detail ?? pipe.name)
                    : pipe.name;
            ctx.events.PIPE_STATE({ state: state.kind, detail: detail.slice(0, 120) });
            downlink.setOpen(state.kind === 'open');
          }),
          ctx.bus.downlink$.subscribe((packet: DownlinkPacket) => downlink.enqueue(packet)),
        );
      }

      if (config.pipe && !config.keys) {
        ctx.events.INSECURE();
        ctx.log.warn('UPLINK AUTHENTICATION IS DISABLED: development flag --insecure-no-auth');
      }

      ctx.every('1Hz', () => {
        const s = farm.status;
        ctx.tlm.pipeState(pipeState);
        ctx.tlm.authenticated(Boolean(config.keys));
        ctx.tlm.framesAccepted(totals.framesAccepted);
        ctx.tlm.bytesIn(totals.bytesIn);
        ctx.tlm.farmState(s.state);
        ctx.tlm.vr(s.vr);
        ctx.tlm.farmBCounter(s.farmBCounter);
        const framing = Object.values(deframer.rejections()).reduce((a, b) => a + b, 0);
        ctx.tlm.rejectedFraming(framing);
        for (const key of REJECTION_COUNTERS) if (key !== 'rejectedFraming') ctx.tlm[key](counts[key]);
        ctx.tlm.framesOut(downlink.stats.framesOut);
        ctx.tlm.bytesOut(downlink.stats.bytesOut);
        ctx.tlm.downlinkQueue(downlink.stats.queued);
        ctx.tlm.downlinkDropped(downlink.stats.packetsDropped);
        ctx.tlm.idleFrames(downlink.stats.idleFrames);
      });

      return {
        commands: {
          RESET_COUNTERS: () => {
            for (const key of REJECTION_COUNTERS) counts[key] = 0;
            totals.framesAccepted = 0;
            totals.bytesIn = 0;
            return undefined;
          },
        },
        stop: () => {
          for (const s of subscriptions) s.unsubscribe();
          downlink.stop();
        },
      };
    },
  });
}
