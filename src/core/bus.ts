/**
 * The software bus: typed rxjs streams of telemetry samples, events, command requests and command results.
 * Components publish through their context; services (housekeeping, downlink, FDIR) and displays subscribe.
 */
import { filter, map, type Observable, Subject } from 'rxjs';
import type { CommandFailure, FailureCode, Severity, TelemetryRef } from './component.js';
import type { DataType, ValueOf } from './types.js';

export interface TelemetrySample<V = unknown> {
  readonly id: number;
  /** Qualified name, `component.parameter`. */
  readonly name: string;
  readonly value: V;
  /** Mission time of the sample (UTC ms). */
  readonly time: number;
}

export interface EventRecord {
  readonly id: number;
  readonly name: string;
  readonly component: string;
  readonly severity: Severity;
  readonly args: Readonly<Record<string, unknown>>;
  readonly message: string;
  readonly time: number;
}

export interface CommandRequest {
  readonly requestId: number;
  /** Qualified name, `component.COMMAND`. */
  readonly name: string;
  readonly opcode: number;
  /** Validated argument values. */
  readonly args: Readonly<Record<string, unknown>>;
  readonly source: string;
  readonly time: number;
}

export type CommandResult =
  | {
      readonly requestId: number;
      readonly name: string;
      readonly ok: true;
      readonly time: number;
    }
  | {
      readonly requestId: number;
      /** Qualified name, or what was asked for when it names no command. */
      readonly name: string;
      readonly ok: false;
      readonly code: FailureCode;
      readonly reason: string;
      readonly time: number;
    };

export type { CommandFailure };

/** A space packet received from the ground and accepted by the link (frame, security and COP-1 checks passed). */
export interface UplinkPacket {
  readonly bytes: Uint8Array;
  /** TC virtual channel it came on. */
  readonly vcid: number;
  readonly time: number;
}

/** A TM space packet for the downlink, complete with its packet error control. */
export interface DownlinkPacket {
  readonly bytes: Uint8Array;
  /** TM virtual channel: 0 real-time, 1 playback (PROTOCOL.md). */
  readonly vcid: number;
  /** Higher goes first when the link is the bottleneck: verification and high-severity events above housekeeping. */
  readonly priority: number;
  readonly time: number;
}

export class SoftwareBus {
  private readonly telemetrySubject = new Subject<TelemetrySample>();
  private readonly byId = new Map<number, Subject<TelemetrySample>>();
  private readonly eventSubject = new Subject<EventRecord>();
  private readonly requestSubject = new Subject<CommandRequest>();
  private readonly resultSubject = new Subject<CommandResult>();
  private readonly uplinkSubject = new Subject<UplinkPacket>();
  private readonly downlinkSubject = new Subject<DownlinkPacket>();

  /** Every telemetry sample of every component. */
  readonly telemetry$: Observable<TelemetrySample> = this.telemetrySubject.asObservable();
  readonly events$: Observable<EventRecord> = this.eventSubject.asObservable();
  /** Commands that passed validation and are about to run. */
  readonly commands$: Observable<CommandRequest> = this.requestSubject.asObservable();
  /** The outcome of every command request, accepted or not. */
  readonly results$: Observable<CommandResult> = this.resultSubject.asObservable();
  /** Packets from the ground, after the link's checks: what the commanding service reads. */
  readonly uplink$: Observable<UplinkPacket> = this.uplinkSubject.asObservable();
  /** Packets for the ground: what the downlink reads. */
  readonly downlink$: Observable<DownlinkPacket> = this.downlinkSubject.asObservable();

  publishTelemetry(sample: TelemetrySample): void {
    this.telemetrySubject.next(sample);
    const subject = this.byId.get(sample.id);
    if (subject !== undefined) subject.next(sample);
  }

  publishEvent(event: EventRecord): void {
    this.eventSubject.next(event);
  }

  publishCommand(request: CommandRequest): void {
    this.requestSubject.next(request);
  }

  publishResult(result: CommandResult): void {
    this.resultSubject.next(result);
  }

  publishUplink(packet: UplinkPacket): void {
    this.uplinkSubject.next(packet);
  }

  publishDownlink(packet: DownlinkPacket): void {
    this.downlinkSubject.next(packet);
  }

  /** Samples of one telemetry parameter, typed by its declaration. Dispatch is by ID, not a filter per sample. */
  samplesOf<T extends DataType>(ref: TelemetryRef<T>): Observable<TelemetrySample<ValueOf<T>>> {
    let subject = this.byId.get(ref.id);
    if (subject === undefined) {
      subject = new Subject<TelemetrySample>();
      this.byId.set(ref.id, subject);
    }
    return subject.asObservable() as Observable<TelemetrySample<ValueOf<T>>>;
  }

  /** Values of one telemetry parameter, typed by its declaration. */
  valuesOf<T extends DataType>(ref: TelemetryRef<T>): Observable<ValueOf<T>> {
    return this.samplesOf(ref).pipe(map((sample) => sample.value));
  }

  /** Events of one qualified name (`health.BOOT`). */
  eventsNamed(name: string): Observable<EventRecord> {
    return this.events$.pipe(filter((event) => event.name === name));
  }

  /** Ends every stream; subscribers see `complete`. */
  close(): void {
    this.telemetrySubject.complete();
    this.eventSubject.complete();
    this.requestSubject.complete();
    this.resultSubject.complete();
    this.uplinkSubject.complete();
    this.downlinkSubject.complete();
    for (const subject of this.byId.values()) subject.complete();
  }
}
