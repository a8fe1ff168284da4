/**
 * The on-board recorder and playback (PUS service 15). Every TM packet that goes down on the real-time virtual
 * channel (VC 0) is also stored, with its mission time and APID, in the packet store (store ID 1) while recording
 * is enabled (15,1 enables, 15,2 disables; kept in the state directory). The store keeps within a size budget by
 * deleting its oldest packets, and says so (RECORDS_DELETED and the `deleted` counter). TC(15,9) asks for the
 * packets of a time range: they go down again, byte for byte as first sent, on the playback channel (VC 1) at the
 * lowest priority, at most `playbackPerTick` per 10 Hz tick so that real-time TM keeps flowing; requests that
 * arrive during a playback wait their turn in a bounded queue.
 *
 * Durability: appends are batched and committed (one SQLite transaction, one fsync) on every 1 Hz tick, or
 * sooner after MAX_BATCH packets. A packet is stored, and counted in `recorded`, once its batch committed; a
 * `kill -9` loses at most the packets of the batch in progress (about one second of TM).
 */
import type { DownlinkPacket } from '../../core/bus.js';
import { defineComponent, FailureCode } from '../../core/component.js';
import type { RecordCursor } from '../../core/persistence.js';
import { CUC_LENGTH, cucToUnixMs, isoTime, readCuc } from '../../core/time.js';
import { bool, f64, u16, u32 } from '../../core/types.js';
import { tcRequestId } from '../../link/pus.js';
import { Service } from '../../link/pus-services.js';
import { registerPusService, type ServiceAcceptance } from '../pus-registry.js';
import { Priority } from '../tm-source.js';

/** The one packet store of this node: every real-time TM packet. */
export const PACKET_STORE_ID = 1;
/** TM virtual channels (PROTOCOL.md, "Downlink"). */
export const REALTIME_VCID = 0;
export const PLAYBACK_VCID = 1;
/** Name of the packet store's series in the component's storage. */
export const PACKET_SERIES = 'packets';
/** Packets queued in memory before they are committed even between 1 Hz ticks (a burst of TM). */
export const MAX_BATCH = 1000;
/** Packets queued in memory at most while commits fail (a failing disk); beyond, packets are not recorded. */
export const MAX_QUEUED = 10 * MAX_BATCH;

/** Application data of TC(15,1)/(15,2): the store ID. */
const ENABLE_LENGTH = 2;
/** Application data of TC(15,9): store ID, start CUC, end CUC. */
const PLAYBACK_LENGTH = 2 + 2 * CUC_LENGTH;

interface Playback {
  readonly requestId: number;
  readonly fromMs: number;
  readonly toMs: number;
  cursor: RecordCursor | undefined;
  sent: number;
}

/** The APID of a space packet (11 bits after the version, type and secondary header flag). */
function apidOf(bytes: Uint8Array): number {
  return bytes.length >= 2 ? (((bytes[0] as number) & 0x07) << 8) | (bytes[1] as number) : 0;
}

export const recorder = defineComponent({
  name: 'recorder',
  description:
    'PUS service 15: records real-time TM in the packet store (store 1) within a budget; plays time ranges back on VC 1',
  telemetry: {
    recorded: { id: 0x0901, type: u32(), description: 'Packets stored (committed to disk) since start' },
    deleted: {
      id: 0x0902,
      type: u32(),
      description: 'Stored packets deleted, oldest first, to keep within the budget, since start',
    },
    storedPackets: { id: 0x0903, type: u32(), description: 'Packets in the packet store' },
    storedBytes: { id: 0x0904, type: u32({ units: 'B' }), description: 'Octets of packets in the store' },
    playbackSent: { id: 0x0905, type: u32(), description: 'Packets played back on VC 1 since start' },
    enabled: { id: 0x0906, type: bool(), description: 'Recording enabled (TC 15,1 / 15,2)' },
    playbackQueue: {
      id: 0x0907,
      type: u16(),
      description: 'Playback requests in progress or waiting',
    },
    notRecorded: {
      id: 0x0908,
      type: u32(),
      description: 'Packets not recorded because the store could not be written, since start',
    },
  },
  events: {
    RECORDS_DELETED: {
      id: 0x0901,
      severity: 'low',
      args: { count: u32(), oldestKeptMs: f64({ units: 'ms' }) },
      message: '{count} stored packets deleted to keep within the budget; oldest kept at {oldestKeptMs} ms',
      description:
        'Oldest packets deleted since the last report (at most one report per deletionReportS); oldestKeptMs is the mission time (UTC ms) of the oldest packet still stored, 0 when none is',
    },
    PLAYBACK_DONE: {
      id: 0x0902,
      severity: 'info',
      args: { requestId: u32(), sent: u32() },
      message: 'playback of request {requestId} done: {sent} packets sent on VC 1',
    },
    STORE_FAILED: {
      id: 0x0903,
      severity: 'medium',
      args: { pending: u32() },
      message: 'the packet store could not be written; {pending} packets wait in memory',
    },
  },
  params: {
    budgetBytes: {
      id: 0x0901,
      type: u32({ min: 65_536, units: 'B' }),
      default: 64 * 1024 * 1024,
      description: 'Octets of packets the store keeps at most; the oldest are deleted beyond',
    },
    playbackPerTick: {
      id: 0x0902,
      type: u16({ min: 1, max: 1000 }),
      default: 5,
      description: 'Packets played back per 10 Hz tick at most',
    },
    playbackQueueLimit: {
      id: 0x0903,
      type: u16({ min: 1, max: 64 }),
      default: 4,
      description: 'Playback requests that may wait behind the one in progress',
    },
    deletionReportS: {
      id: 0x0904,
      type: u16({ min: 1, max: 3600, units: 's' }),
      default: 60,
      description: 'RECORDS_DELETED is reported at most once per this many seconds (deletions are summed)',
    },
  },
  setup(ctx) {
    const packets = ctx.storage.series(PACKET_SERIES);
    const storedFlag = ctx.storage.get('enabled');
    let enabled = storedFlag ? storedFlag[0] === 1 : true;
    const counts = { recorded: 0, deleted: 0, playbackSent: 0, notRecorded: 0 };
    const playbacks: Playback[] = [];
    let unreportedDeletions = 0;
    let lastDeletionReport = Number.NEGATIVE_INFINITY;
    let storeFailing = false;

    const reportDeletions = (force: boolean) => {
      if (unreportedDeletions === 0) return;
      const now = ctx.clock.now();
      if (!force && now - lastDeletionReport < ctx.params.get('deletionReportS') * 1000) return;
      const oldest = packets.range(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 1)[0];
      ctx.events.RECORDS_DELETED({ count: unreportedDeletions, oldestKeptMs: oldest?.timeMs ?? 0 });
      unreportedDeletions = 0;
      lastDeletionReport = now;
    };

    /** Commits the batch and keeps the store within its budget, in one transaction. */
    const commit = () => {
      try {
        const result = packets.flush(ctx.params.get('budgetBytes'));
        storeFailing = false;
        counts.recorded += result.stored;
        if (result.deleted > 0) {
          counts.deleted += result.deleted;
          unreportedDeletions += result.deleted;
        }
      } catch (error) {
        // Kept queued (up to MAX_QUEUED) and tried again at the next tick.
        ctx.log.error({ err: error, pending: packets.pending() }, 'packet store commit failed');
        if (!storeFailing) ctx.events.STORE_FAILED({ pending: packets.pending() });
        storeFailing = true;
      }
    };

    const realtime = ctx.bus.downlink$.subscribe((packet: DownlinkPacket) => {
      if (packet.vcid !== REALTIME_VCID || !enabled) return;
      if (packets.pending() >= MAX_QUEUED) {
        counts.notRecorded += 1;
        return;
      }
      packets.append(packet.time, apidOf(packet.bytes), packet.bytes);
      if (packets.pending() >= MAX_BATCH && !storeFailing) commit();
    });

    ctx.every('10Hz', () => {
      const active = playbacks[0];
      if (!active) return;
      const limit = ctx.params.get('playbackPerTick');
      const page = packets.range(active.fromMs, active.toMs, limit, active.cursor);
      for (const record of page) {
        ctx.bus.publishDownlink({
          bytes: record.data,
          vcid: PLAYBACK_VCID,
          priority: Priority.playback,
          time: ctx.clock.now(),
        });
        active.sent += 1;
        counts.playbackSent += 1;
      }
      const last = page.at(-1);
      if (last) active.cursor = { timeMs: last.timeMs, seq: last.seq };
      if (page.length < limit) {
        playbacks.shift();
        ctx.events.PLAYBACK_DONE({ requestId: active.requestId, sent: active.sent });
      }
    });

    ctx.every('1Hz', () => {
      commit();
      reportDeletions(false);
      ctx.tlm.recorded(counts.recorded);
      ctx.tlm.deleted(counts.deleted);
      ctx.tlm.storedPackets(packets.count());
      ctx.tlm.storedBytes(Math.min(packets.sizeBytes(), 0xffff_ffff));
      ctx.tlm.playbackSent(counts.playbackSent);
      ctx.tlm.enabled(enabled);
      ctx.tlm.playbackQueue(playbacks.length);
      ctx.tlm.notRecorded(counts.notRecorded);
    });

    const waiting = () => Math.max(0, playbacks.length - 1);
    const queueFull = () => playbacks.length > 0 && waiting() >= ctx.params.get('playbackQueueLimit');
    const storeId = (data: Uint8Array) => ((data[0] as number) << 8) | (data[1] as number);
    const badStore = (id: number): ServiceAcceptance => ({
      ok: false,
      code: FailureCode.unknownFunction,
      reason: `unknown packet store ID ${id} (this node has store ${PACKET_STORE_ID})`,
    });

    const unregister = registerPusService(ctx.bus, Service.storage, (tc): ServiceAcceptance => {
      const data = tc.appData;
      switch (tc.subtype) {
        case 1:
        case 2: {
          if (data.length !== ENABLE_LENGTH) {
            return {
              ok: false,
              code: FailureCode.badLength,
              reason: `TC(15,${tc.subtype}) takes a store ID (${ENABLE_LENGTH} octets), ${data.length} given`,
            };
          }
          if (storeId(data) !== PACKET_STORE_ID) return badStore(storeId(data));
          return {
            ok: true,
            label: `TC(15,${tc.subtype})`,
            run: () => {
              enabled = tc.subtype === 1;
              ctx.storage.put('enabled', Uint8Array.of(enabled ? 1 : 0));
              ctx.tlm.enabled(enabled);
              return { ok: true };
            },
          };
        }
        case 9: {
          if (data.length !== PLAYBACK_LENGTH) {
            return {
              ok: false,
              code: FailureCode.badLength,
              reason: `TC(15,9) takes a store ID and two CUC times (${PLAYBACK_LENGTH} octets), ${data.length} given`,
            };
          }
          if (storeId(data) !== PACKET_STORE_ID) return badStore(storeId(data));
          const fromMs = cucToUnixMs(readCuc(data, 2) ?? { coarse: 0, fine: 0 });
          const toMs = cucToUnixMs(readCuc(data, 2 + CUC_LENGTH) ?? { coarse: 0, fine: 0 });
          if (fromMs > toMs) {
            return {
              ok: false,
              code: FailureCode.argumentOutOfRange,
              reason: `playback range starts (${isoTime(fromMs)}) after it ends (${isoTime(toMs)})`,
            };
          }
          const full = (): ServiceAcceptance & { ok: false } => ({
            ok: false,
            code: FailureCode.busy,
            reason: `playback queue full (${waiting()} requests wait behind the one in progress)`,
          });
          if (queueFull()) return full();
          const requestId = tcRequestId(tc);
          return {
            ok: true,
            label: 'TC(15,9)',
            run: () => {
              if (queueFull()) {
                const refused = full();
                return { ok: false, code: refused.code, reason: refused.reason };
              }
              playbacks.push({ requestId, fromMs, toMs, cursor: undefined, sent: 0 });
              return { ok: true };
            },
          };
        }
        default:
          return {
            ok: false,
            code: FailureCode.unknownService,
            reason: `storage subtype ${tc.subtype} is not provided`,
          };
      }
    });

    return {
      stop: () => {
        realtime.unsubscribe();
        unregister();
        commit();
        reportDeletions(true);
      },
    };
  },
});
