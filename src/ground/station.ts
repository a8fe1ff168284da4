/**
 * The ground station: talks to a skynode flight stack over any byte pipe (serial, TCP, UDP) in either profile.
 * Up: dictionary command -> TC(8,1) -> SDLS -> TC frame (FOP-1 numbers and retransmits it) -> KISS or CLTU.
 * Down: KISS or CADU -> TM frames (CLCW to FOP-1) -> packets -> records (verification, events, housekeeping).
 * It is also the scripting API a HIL test or a tester's script uses: send, sendAndVerify, awaitTelemetry,
 * awaitEvent.
 */
import { type Observable, type SchedulerLike, Subject, type Subscription } from 'rxjs';
import { housekeepingStructures, type MissionDictionary } from '../core/dictionary.js';
import { packedSize, packValue } from '../core/pack.js';
import { CUC_LENGTH, unixMsToCuc, writeCuc } from '../core/time.js';
import { checkValue } from '../core/types.js';
import { type ClcwReport, Fop1, FopAlertError, type FopFrame, type FopState } from '../link/fop.js';
import { downlinkDeframer, frameUplink, type LinkProfile, tmFrameLengthOf } from '../link/profile.js';
import { AckFlags, decodeTmPacket, encodeTcPacket } from '../link/pus.js';
import { encodeIdList, encodeScheduleInsert, Service } from '../link/pus-services.js';
import { type SdlsKeys, SPI_AES_256_GCM, SPI_HMAC_SHA256, type Spi, secureTcFrame } from '../link/sdls.js';
import { encodeTcFrame } from '../link/tc-frame.js';
import { decodeTmFrame, TmPacketExtractor } from '../link/tm-frame.js';
import type { BytePipe } from '../transport/pipe.js';
import { buildCommand, type DecodedTm, decodeTm } from './codec.js';
import { parseArguments, tokenize } from './command-line.js';

export interface StationOptions {
  readonly pipe: BytePipe;
  readonly profile: LinkProfile;
  readonly dictionary: MissionDictionary;
  /** Schedules timeouts and FOP-1's timer: the real clock's scheduler, or a virtual one in tests. */
  readonly scheduler: SchedulerLike;
  /** SDLS keys; omit with `insecure` to talk to a node started with --insecure-no-auth. */
  readonly keys?: SdlsKeys;
  readonly insecure?: boolean;
  /** Which SPI to secure frames with; default 1 (HMAC-SHA-256) if its key is there, else 2. */
  readonly spi?: Spi;
  /** ARSN source: the next anti-replay sequence number to use, persisted by the caller (see ArsnFile). */
  readonly nextArsn: (spi: Spi) => number;
  /** TC packet sequence counts; default: from 0 at every start. ArsnFile.takeSequenceCount keeps them going. */
  readonly nextSequenceCount?: () => number;
  /** This station's ID: reports come back addressed to it. */
  readonly sourceId?: number;
  /** FOP-1 T1 and transmission limit. */
  readonly timerMs?: number;
  readonly transmissionLimit?: number;
}

/** The outcome of one command, stage by stage. */
export interface CommandOutcome {
  readonly name: string;
  readonly requestId: number;
  readonly ok: boolean;
  readonly stages: ReadonlyArray<{ stage: string; success: boolean; code?: number; reason?: string }>;
  /** The failure, when not ok. */
  readonly failure?: { stage: string; code?: number; reason: string };
}

export class CommandFailedError extends Error {
  constructor(readonly outcome: CommandOutcome) {
    super(
      `${outcome.name} failed at ${outcome.failure?.stage}${outcome.failure?.code !== undefined ? ` (code ${outcome.failure.code})` : ''}: ${outcome.failure?.reason}`,
    );
    this.name = 'CommandFailedError';
  }
}

export interface TelemetryValue {
  readonly name: string;
  readonly value: unknown;
  /** Spacecraft time of the report, as UTC ms. */
  readonly time: number;
}

/** A TM packet as the station received it: decoded, with its raw octets and the TM VC it came on. */
export interface ReceivedTm extends DecodedTm {
  readonly bytes: Uint8Array;
  readonly vcid: number;
}

/** Link statistics for a watch view (GroundStation.linkStats). */
export interface LinkStats {
  readonly framesIn: number;
  readonly framesRejected: number;
  /** Breaks in the TM VC frame counts, and the frames they lost (summed over the VCs). */
  readonly frameGaps: number;
  readonly framesLost: number;
  readonly packetsIn: number;
  readonly packetsRejected: number;
  readonly staleClcws: number;
  readonly commandsSent: number;
  /** The CLCW of the newest TM frame (the line shows all but the FARM-B counter); undefined before the first. */
  readonly clcw: ClcwReport | undefined;
  /** FOP-1: state, V(S), NN(R), frames sent and not yet acknowledged, frames waiting for room in the window. */
  readonly cop: {
    readonly state: FopState;
    readonly vs: number;
    readonly nnr: number;
    readonly outstanding: number;
    readonly waiting: number;
  };
}

/** The on-board packet store that playback requests name (PROTOCOL.md, service 15). */
export const PLAYBACK_STORE_ID = 1;
/** The TM VC that played-back packets come down on (PROTOCOL.md, "Downlink"). */
export const PLAYBACK_VCID = 1;

/**
 * Application data of TC(15,9), downlink by time range (PROTOCOL.md): store ID 16b, then the start and the end
 * of the span as CUC (6 octets each).
 */
export function encodePlaybackRequest(storeId: number, fromMs: number, toMs: number): Uint8Array {
  if (!Number.isInteger(storeId) || storeId < 0 || storeId > 0xffff)
    throw new RangeError(`store ID ${storeId} not in [0, 65535]`);
  if (!(fromMs <= toMs)) throw new RangeError(`playback span from ${fromMs} to ${toMs}: start after end`);
  const data = new Uint8Array(2 + 2 * CUC_LENGTH);
  data[0] = storeId >>> 8;
  data[1] = storeId & 0xff;
  writeCuc(data, 2, unixMsToCuc(fromMs));
  writeCuc(data, 2 + CUC_LENGTH, unixMsToCuc(toMs));
  return data;
}

/** `link: frames 120 in, 0 rejected, 0 gaps; packets 340; CLCW N(R)=12 ...; COP-1 active V(S)=12 outstanding=0`. */
export function formatLinkStats(stats: LinkStats): string {
  const frames = `frames ${stats.framesIn} in, ${stats.framesRejected} rejected, ${stats.frameGaps} gaps${stats.framesLost > 0 ? ` (${stats.framesLost} lost)` : ''}`;
  const packets = `packets ${stats.packetsIn}${stats.packetsRejected > 0 ? ` (${stats.packetsRejected} rejected)` : ''}`;
  const c = stats.clcw;
  const clcw = c
    ? `CLCW N(R)=${c.nr} lockout=${Number(c.lockout)} wait=${Number(c.wait)} retransmit=${Number(c.retransmit)}`
    : 'CLCW none yet';
  const cop = `COP-1 ${stats.cop.state} V(S)=${stats.cop.vs} outstanding=${stats.cop.outstanding}${stats.cop.waiting > 0 ? ` waiting=${stats.cop.waiting}` : ''}`;
  return `link: ${frames}; ${packets}; ${clcw}; ${cop}`;
}

export interface StationStats {
  framesIn: number;
  framesRejected: number;
  packetsIn: number;
  packetsRejected: number;
  staleClcws: number;
  commandsSent: number;
}

export class GroundStation {
  readonly dictionary: MissionDictionary;
  private readonly fop: Fop1;
  private readonly options: StationOptions;
  private readonly spi: Spi | undefined;
  private readonly deframer;
  private readonly extractors = new Map<number, TmPacketExtractor>();
  private readonly structures;
  private readonly recordsSubject = new Subject<ReceivedTm>();
  private readonly telemetrySubject = new Subject<TelemetryValue>();
  private readonly subscriptions: Subscription[] = [];
  private readonly latest = new Map<string, TelemetryValue>();
  private readonly pending = new Map<number, (record: DecodedTm) => void>();
  private sequenceCount = 0;
  /** Events of the last while, with when they arrived (scheduler time), for awaitEvent. */
  private readonly recentEvents: Array<{ receivedAt: number; decoded: DecodedTm }> = [];
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private lastMc = -1;
  private clcwSeen: ((nr: number, lockout: boolean) => void) | undefined;
  private lastClcw: ClcwReport | undefined;
  readonly stats: StationStats = {
    framesIn: 0,
    framesRejected: 0,
    packetsIn: 0,
    packetsRejected: 0,
    staleClcws: 0,
    commandsSent: 0,
  };
  /** Every TM packet received, decoded (with its raw octets and VC). */
  readonly records$: Observable<ReceivedTm> = this.recordsSubject.asObservable();
  /** Telemetry values from housekeeping reports, one per parameter. */
  readonly telemetry$: Observable<TelemetryValue> = this.telemetrySubject.asObservable();

  constructor(options: StationOptions) {
    if (!options.keys && !options.insecure) throw new Error('ground station: SDLS keys needed (--keys FILE)');
    this.options = options;
    this.dictionary = options.dictionary;
    this.structures = housekeepingStructures(options.dictionary);
    this.spi = options.keys
      ? (options.spi ?? (options.keys.has(SPI_HMAC_SHA256) ? SPI_HMAC_SHA256 : SPI_AES_256_GCM))
      : undefined;
    this.deframer = downlinkDeframer(options.profile);
    this.fop = new Fop1(options.scheduler, (frame) => this.transmitFrame(frame), {
      ...(options.timerMs !== undefined ? { timerMs: options.timerMs } : {}),
      ...(options.transmissionLimit !== undefined ? { transmissionLimit: options.transmissionLimit } : {}),
    });
    this.subscriptions.push(options.pipe.data$.subscribe((chunk) => this.receive(chunk)));
  }

  get alerts$() {
    return this.fop.alerts$;
  }

  get cop() {
    return this.fop.status;
  }

  /** Frame, packet and COP-1 statistics of the link so far, and the last CLCW: for a watch view. */
  linkStats(): LinkStats {
    let frameGaps = 0;
    let framesLost = 0;
    for (const extractor of this.extractors.values()) {
      frameGaps += extractor.stats.gaps;
      framesLost += extractor.stats.lostFrames;
    }
    const { state, vs, nnr, outstanding, waiting } = this.fop.status;
    return {
      ...this.stats,
      frameGaps,
      framesLost,
      clcw: this.lastClcw,
      cop: { state, vs, nnr, outstanding, waiting },
    };
  }

  /**
   * TC(15,9): asks the on-board recorder (store PLAYBACK_STORE_ID) to downlink the TM it stored with spacecraft
   * time in [fromMs, toMs] (UTC ms); the packets come down on VC 1. Resolves with the command's outcome.
   */
  requestPlayback(fromMs: number, toMs: number, timeoutMs?: number): Promise<CommandOutcome> {
    return this.sendPus(
      Service.storage,
      9,
      encodePlaybackRequest(PLAYBACK_STORE_ID, fromMs, toMs),
      timeoutMs,
    );
  }

  /**
   * Waits for the first CLCW from the node, then starts COP-1 from its N(R) (unlocking FARM-1 first if it is in
   * lockout). Call once before sending.
   */
  connect(timeoutMs = 10_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = this.options.scheduler.schedule(() => {
        this.clcwSeen = undefined;
        reject(
          new Error(
            `no telemetry from the node within ${timeoutMs} ms on ${this.options.pipe.name}: is the link right?`,
          ),
        );
      }, timeoutMs);
      this.clcwSeen = (nr, lockout) => {
        this.clcwSeen = undefined;
        timer.unsubscribe();
        if (lockout) this.fop.initiateWithUnlock().then(resolve, reject);
        else {
          this.fop.initiate(nr);
          resolve();
        }
      };
    });
  }

  /** Latest value of a telemetry parameter (qualified name), if one has been received. */
  value(name: string): unknown {
    return this.latest.get(name)?.value;
  }

  /** Parses `name arg=value ...` as typed at a prompt, and sends it. */
  sendLine(line: string, timeoutMs?: number): Promise<CommandOutcome> {
    const [name, ...rest] = tokenize(line.trim());
    const entry = name ? this.dictionary.commandByName.get(name) : undefined;
    if (!entry) return Promise.reject(new Error(`unknown command ${name ?? ''}`));
    const parsed = parseArguments(entry, rest);
    if (!parsed.ok) return Promise.reject(new Error(parsed.error));
    return this.send(entry.name, parsed.args, timeoutMs);
  }

  /**
   * Sends a dictionary command and resolves with its verification outcome (acceptance through completion, or
   * the failure report). Rejects when the arguments are wrong (nothing is sent), when COP-1 gives up, or when the
   * reports do not come within `timeoutMs`.
   */
  async send(
    name: string,
    args: Readonly<Record<string, unknown>> = {},
    timeoutMs = 30_000,
  ): Promise<CommandOutcome> {
    const entry = this.dictionary.commandByName.get(name);
    if (!entry) throw new Error(`unknown command ${name}`);
    const built = buildCommand(this.dictionary, entry, args, {
      sequenceCount: this.nextSequence(),
      ackFlags: AckFlags.all,
      sourceId: this.options.sourceId ?? 1,
    });
    if (!built.ok) throw new Error(built.error);
    return this.sendPacket(name, built.packet, timeoutMs);
  }

  /** Sends any PUS telecommand to the node's APID and resolves with its verification outcome. */
  sendPus(service: number, subtype: number, appData: Uint8Array = new Uint8Array(0), timeoutMs = 30_000) {
    const packet = encodeTcPacket({
      apid: this.dictionary.mission.apid,
      sequenceCount: this.nextSequence(),
      ackFlags: AckFlags.all,
      service,
      subtype,
      sourceId: this.options.sourceId ?? 1,
      appData,
    });
    return this.sendPacket(`TC(${service},${subtype})`, packet, timeoutMs);
  }

  /** TC(17,1), are-you-alive: resolves when TM(17,2) and the completion report are in. */
  async ping(timeoutMs = 30_000): Promise<CommandOutcome> {
    const alive = this.nextRecord((r) => r.record.kind === 'alive', timeoutMs, 'TM(17,2)');
    const outcome = await this.sendPus(Service.test, 1, new Uint8Array(0), timeoutMs);
    if (outcome.ok) await alive;
    else alive.catch(() => {});
    return outcome;
  }

  /** TC(20,3): sets parameters (qualified names), checked against the dictionary first. */
  setParameters(values: Readonly<Record<string, unknown>>, timeoutMs?: number): Promise<CommandOutcome> {
    const entries = Object.entries(values).map(([name, value]) => {
      const entry = this.dictionary.paramByName.get(name);
      if (!entry) throw new Error(`unknown parameter ${name}`);
      const checked = checkValue(entry.type, value);
      if (!checked.ok) throw new Error(`${name}: ${checked.error.message}`);
      return { entry, value: checked.value };
    });
    const size = 2 + entries.reduce((n, e) => n + 2 + packedSize(e.entry.type, e.value), 0);
    const data = new Uint8Array(size);
    const view = new DataView(data.buffer);
    view.setUint16(0, entries.length);
    let at = 2;
    for (const { entry, value } of entries) {
      view.setUint16(at, entry.id);
      at = packValue(view, at + 2, entry.type, value);
    }
    return this.sendPus(Service.parameters, 3, data, timeoutMs);
  }

  /** TC(20,1): resolves with the node's current values of the parameters named. */
  async reportParameters(names: readonly string[], timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const ids = names.map((name) => {
      const entry = this.dictionary.paramByName.get(name);
      if (!entry) throw new Error(`unknown parameter ${name}`);
      return entry.id;
    });
    const report = this.nextRecord((r) => r.record.kind === 'parameters', timeoutMs, 'TM(20,2)');
    const outcome = await this.sendPus(Service.parameters, 1, encodeIdList(ids), timeoutMs);
    if (!outcome.ok) {
      report.catch(() => {});
      throw new CommandFailedError(outcome);
    }
    const { record } = await report;
    return record.kind === 'parameters' ? record.values : {};
  }

  /**
   * TC(11,4): schedules dictionary commands for release on board at the given times (UTC ms); returns the
   * outcome of the insertion and the request IDs of the scheduled commands (their own reports come when they run).
   */
  async schedule(
    entries: ReadonlyArray<{ at: number; name: string; args?: Readonly<Record<string, unknown>> }>,
    timeoutMs?: number,
  ): Promise<{ outcome: CommandOutcome; requestIds: number[] }> {
    const packets = entries.map(({ at, name, args }) => {
      const entry = this.dictionary.commandByName.get(name);
      if (!entry) throw new Error(`unknown command ${name}`);
      const built = buildCommand(this.dictionary, entry, args ?? {}, {
        sequenceCount: this.nextSequence(),
        ackFlags: AckFlags.all,
        sourceId: this.options.sourceId ?? 1,
      });
      if (!built.ok) throw new Error(built.error);
      return { releaseTime: unixMsToCuc(at), packet: built.packet };
    });
    const outcome = await this.sendPus(Service.scheduling, 4, encodeScheduleInsert(packets), timeoutMs);
    return { outcome, requestIds: packets.map((p) => new DataView(p.packet.buffer).getUint32(0)) };
  }

  /** Waits for the verification reports of a command sent earlier (a scheduled one, say) by its request ID. */
  awaitCompletion(requestId: number, label = 'command', timeoutMs = 30_000): Promise<CommandOutcome> {
    return this.track(label, requestId, timeoutMs);
  }

  /**
   * Hands a dictionary command to COP-1 and resolves once the node's CLCW acknowledges its frame (it has been
   * accepted on board); does not wait for verification reports. For high-rate scripted traffic.
   */
  async transmit(name: string, args: Readonly<Record<string, unknown>> = {}): Promise<number> {
    const entry = this.dictionary.commandByName.get(name);
    if (!entry) throw new Error(`unknown command ${name}`);
    const built = buildCommand(this.dictionary, entry, args, {
      sequenceCount: this.nextSequence(),
      ackFlags: AckFlags.none,
      sourceId: this.options.sourceId ?? 1,
    });
    if (!built.ok) throw new Error(built.error);
    this.stats.commandsSent += 1;
    this.lastSentAt = this.options.scheduler.now();
    await this.fop.transmitAd(built.packet);
    return new DataView(built.packet.buffer).getUint32(0);
  }

  private nextSequence(): number {
    if (this.options.nextSequenceCount) return this.options.nextSequenceCount();
    const value = this.sequenceCount;
    this.sequenceCount = (this.sequenceCount + 1) & 0x3fff;
    return value;
  }

  private nextRecord(match: (r: DecodedTm) => boolean, timeoutMs: number, what: string): Promise<DecodedTm> {
    return this.awaitOn(this.records$, match, timeoutMs, what);
  }

  private async sendPacket(label: string, packet: Uint8Array, timeoutMs: number): Promise<CommandOutcome> {
    const requestId = new DataView(packet.buffer, packet.byteOffset).getUint32(0);
    const outcome = this.track(label, requestId, timeoutMs);
    this.stats.commandsSent += 1;
    this.lastSentAt = this.options.scheduler.now();
    try {
      await this.fop.transmitAd(packet);
    } catch (error) {
      this.pending.delete(requestId);
      outcome.catch(() => {});
      throw error instanceof FopAlertError ? new Error(`${label}: ${error.message}`) : error;
    }
    return outcome;
  }

  /** Collects the verification reports of `requestId` until completion or the first failure. */
  private track(label: string, requestId: number, timeoutMs: number): Promise<CommandOutcome> {
    const stages: Array<{ stage: string; success: boolean; code?: number; reason?: string }> = [];
    return new Promise<CommandOutcome>((resolve, reject) => {
      const timer = this.options.scheduler.schedule(() => {
        this.pending.delete(requestId);
        reject(
          new Error(
            `${label}: no completion report within ${timeoutMs} ms (stages seen: ${stages.map((s) => s.stage).join(', ') || 'none'})`,
          ),
        );
      }, timeoutMs);
      this.pending.set(requestId, ({ record }) => {
        if (record.kind !== 'verification') return;
        stages.push({
          stage: record.stage,
          success: record.success,
          ...(record.code !== undefined ? { code: record.code, reason: record.reason ?? '' } : {}),
        });
        if (!record.success || record.stage === 'completion') {
          timer.unsubscribe();
          this.pending.delete(requestId);
          resolve({
            name: label,
            requestId,
            ok: record.success,
            stages: [...stages],
            ...(record.success
              ? {}
              : {
                  failure: {
                    stage: record.stage,
                    ...(record.code !== undefined ? { code: record.code } : {}),
                    reason: record.reason ?? '',
                  },
                }),
          });
        }
      });
    });
  }

  /** `send`, then throw CommandFailedError unless it completed successfully. */
  async sendAndVerify(name: string, args: Readonly<Record<string, unknown>> = {}, timeoutMs?: number) {
    const outcome = await this.send(name, args, timeoutMs);
    if (!outcome.ok) throw new CommandFailedError(outcome);
    return outcome;
  }

  /** Resolves with the first value of `name` (already received or to come) that satisfies `predicate`. */
  awaitTelemetry(name: string, predicate: (value: unknown) => boolean = () => true, timeoutMs = 30_000) {
    if (!this.dictionary.telemetryByName.has(name))
      return Promise.reject(new Error(`unknown telemetry ${name}`));
    const seen = this.latest.get(name);
    if (seen && predicate(seen.value)) return Promise.resolve(seen.value);
    return this.awaitOn(
      this.telemetry$,
      (v) => v.name === name && predicate(v.value),
      timeoutMs,
      `telemetry ${name}`,
    ).then((v) => v.value);
  }

  /**
   * Resolves with an event `name` (qualified) whose arguments satisfy `predicate`: the first one received since
   * the last command this station sent (so `await send(...)` then `awaitEvent(...)` finds an event that came in
   * the same frame as the command's reports), or the next one to come.
   */
  awaitEvent(
    name: string,
    predicate: (args: Record<string, unknown>) => boolean = () => true,
    timeoutMs = 30_000,
  ) {
    if (!this.dictionary.eventByName.has(name)) return Promise.reject(new Error(`unknown event ${name}`));
    const match = (r: DecodedTm) =>
      r.record.kind === 'event' && r.record.name === name && predicate(r.record.args);
    const seen = this.recentEvents.find((e) => e.receivedAt >= this.lastSentAt && match(e.decoded));
    const found = seen
      ? Promise.resolve(seen.decoded)
      : this.awaitOn(this.records$, match, timeoutMs, `event ${name}`);
    return found.then((r) => (r.record.kind === 'event' ? r.record : never()));
  }

  async close(): Promise<void> {
    this.fop.terminate();
    for (const s of this.subscriptions) s.unsubscribe();
    this.recordsSubject.complete();
    this.telemetrySubject.complete();
  }

  private awaitOn<T>(
    source: Observable<T>,
    match: (item: T) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.options.scheduler.schedule(() => {
        sub.unsubscribe();
        reject(new Error(`no ${what} matching within ${timeoutMs} ms`));
      }, timeoutMs);
      const sub = source.subscribe((item) => {
        if (!match(item)) return;
        timer.unsubscribe();
        sub.unsubscribe();
        resolve(item);
      });
    });
  }

  private transmitFrame(frame: FopFrame): void {
    const scid = this.dictionary.mission.spacecraftId;
    let bytes: Uint8Array;
    if (frame.type === 'BC' || !this.options.keys || this.spi === undefined) {
      bytes = encodeTcFrame({ ...frame, scid, vcid: 0 } as Parameters<typeof encodeTcFrame>[0]);
    } else {
      bytes = secureTcFrame(
        {
          scid,
          vcid: 0,
          type: frame.type,
          sequenceNumber: frame.sequenceNumber,
          spi: this.spi,
          arsn: this.options.nextArsn(this.spi),
          payload: frame.data,
        },
        this.options.keys,
      );
    }
    this.options.pipe.write(frameUplink(this.options.profile, bytes));
  }

  private receive(chunk: Uint8Array): void {
    const scid = this.dictionary.mission.spacecraftId;
    const frameLength = tmFrameLengthOf(this.options.profile);
    for (const raw of this.deframer.push(chunk)) {
      const decoded = decodeTmFrame(raw, { frameLength, scid });
      if (!decoded.ok) {
        this.stats.framesRejected += 1;
        continue;
      }
      const frame = decoded.value;
      this.stats.framesIn += 1;
      // A CLCW older than the newest seen would move N(R) backwards: only newer frames report to FOP-1.
      const ahead = this.lastMc < 0 ? 1 : (frame.mcFrameCount - this.lastMc) & 0xff;
      if (ahead > 0 && ahead < 128) {
        this.lastMc = frame.mcFrameCount;
        const c = frame.clcw;
        this.clcwSeen?.(c.reportValue, c.lockout);
        this.lastClcw = {
          lockout: c.lockout,
          wait: c.wait,
          retransmit: c.retransmit,
          nr: c.reportValue,
          farmBCounter: c.farmBCounter,
        };
        this.fop.receiveClcw(this.lastClcw);
      } else {
        this.stats.staleClcws += 1;
      }
      if (frame.vcid === 7) continue;
      let extractor = this.extractors.get(frame.vcid);
      if (!extractor) {
        extractor = new TmPacketExtractor();
        this.extractors.set(frame.vcid, extractor);
      }
      for (const packetBytes of extractor.push(frame)) this.onPacket(packetBytes, frame.vcid);
    }
  }

  private onPacket(bytes: Uint8Array, vcid: number): void {
    const packet = decodeTmPacket(bytes);
    if (!packet.ok) {
      this.stats.packetsRejected += 1;
      return;
    }
    this.stats.packetsIn += 1;
    const decoded: ReceivedTm = { ...decodeTm(this.dictionary, packet.value, this.structures), bytes, vcid };
    const { record } = decoded;
    if (record.kind === 'verification') this.pending.get(record.requestId)?.(decoded);
    if (record.kind === 'event') {
      this.recentEvents.push({ receivedAt: this.options.scheduler.now(), decoded });
      if (this.recentEvents.length > 256) this.recentEvents.shift();
    }
    if (record.kind === 'housekeeping') {
      for (const [name, value] of Object.entries(record.values)) {
        const item = { name, value, time: decoded.time };
        this.latest.set(name, item);
        this.telemetrySubject.next(item);
      }
    }
    this.recordsSubject.next(decoded);
  }
}

function never(): never {
  throw new Error('unreachable');
}
