/**
 * FOP-1, the sending end of COP-1 (CCSDS 232.1-B), in the ground station. It numbers type-AD frames, keeps them
 * until a CLCW acknowledges them, retransmits on the CLCW's Retransmit flag or when timer T1 runs out, and
 * raises an alert (and gives up the queue) when the link cannot be recovered: transmission limit reached, FARM-1
 * in lockout, or a CLCW that makes no sense. With FARM-1 on board, each command runs exactly once, in order.
 *
 * Time comes from the scheduler it is given (the mission clock's, or a virtual one in tests).
 */
import { type Observable, type SchedulerLike, Subject, type Subscription } from 'rxjs';
import type { ControlCommand } from './tc-frame.js';

export type FopState =
  | 'active' // S1
  | 'retransmit-without-wait' // S2
  | 'retransmit-with-wait' // S3
  | 'initialising-without-bc' // S4
  | 'initialising-with-bc' // S5
  | 'initial'; // S6

/** The CLCW fields FOP-1 reads. */
export interface ClcwReport {
  readonly lockout: boolean;
  readonly wait: boolean;
  readonly retransmit: boolean;
  readonly nr: number;
  readonly farmBCounter: number;
}

/**
 * A frame FOP-1 asks the caller to send: a TcFrame without SCID and VCID (`encodeTcFrame({ ...frame, scid,
 * vcid })`, after securing `data`).
 */
export type FopFrame =
  | {
      readonly type: 'AD';
      readonly sequenceNumber: number;
      readonly data: Uint8Array;
      readonly retransmission: boolean;
    }
  | {
      readonly type: 'BD';
      readonly sequenceNumber: 0;
      readonly data: Uint8Array;
      readonly retransmission: false;
    }
  | {
      readonly type: 'BC';
      readonly sequenceNumber: 0;
      readonly command: ControlCommand;
      readonly retransmission: boolean;
    };

export type FopAlertReason = 'limit' | 'lockout' | 'nnr' | 'synch' | 'terminated';

export interface FopAlert {
  readonly reason: FopAlertReason;
  readonly detail: string;
  /** Frames given up (sent but not acknowledged, and waiting). */
  readonly lost: number;
}

export interface FopOptions {
  /**
   * K: how many AD frames may be outstanding. At most half FARM-1's window width W (its positive window PW),
   * or a lost frame followed by K-1 others locks FARM-1 out. Default 5, for PROTOCOL.md's W of 10.
   */
  readonly windowWidth?: number;
  /** T1: ms without acknowledgement before the outstanding frames are sent again. */
  readonly timerMs?: number;
  /** How many times a frame is sent (first time included) before FOP-1 gives up with a 'limit' alert. */
  readonly transmissionLimit?: number;
  /** Frames that may wait for room in the window; more are refused. */
  readonly maxWaiting?: number;
}

export interface FopStats {
  readonly sent: number;
  readonly retransmitted: number;
  readonly acknowledged: number;
  readonly alerts: number;
  readonly timerExpiries: number;
}

interface Pending {
  readonly data: Uint8Array;
  ns: number;
  resolve: (ns: number) => void;
  reject: (error: FopAlertError) => void;
}

export class FopAlertError extends Error {
  constructor(readonly alert: FopAlert) {
    super(`COP-1 alert (${alert.reason}): ${alert.detail}`);
    this.name = 'FopAlertError';
  }
}

export class Fop1 {
  private state: FopState = 'initial';
  private vs = 0; // V(S): N(S) of the next new AD frame
  private nnr = 0; // NN(R): N(R) of the last CLCW; every frame below it is acknowledged
  private readonly sent: Pending[] = []; // Sent_Queue, in N(S) order
  private readonly waiting: Pending[] = []; // Wait_Queue
  private transmissions = 0; // Transmission_Count of the oldest outstanding frame (or BC frame)
  private timer: Subscription | undefined;
  private pendingControl:
    | { command: ControlCommand; resolve: () => void; reject: (e: FopAlertError) => void }
    | undefined;
  private readonly alertSubject = new Subject<FopAlert>();
  private readonly stateSubject = new Subject<FopState>();
  private counters = { sent: 0, retransmitted: 0, acknowledged: 0, alerts: 0, timerExpiries: 0 };
  readonly windowWidth: number;
  readonly timerMs: number;
  readonly transmissionLimit: number;
  readonly maxWaiting: number;
  readonly alerts$: Observable<FopAlert> = this.alertSubject.asObservable();
  readonly states$: Observable<FopState> = this.stateSubject.asObservable();

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly send: (frame: FopFrame) => void,
    options: FopOptions = {},
  ) {
    this.windowWidth = options.windowWidth ?? 5;
    this.timerMs = options.timerMs ?? 2000;
    this.transmissionLimit = options.transmissionLimit ?? 10;
    this.maxWaiting = options.maxWaiting ?? 1000;
    if (this.windowWidth < 1 || this.windowWidth > 255)
      throw new RangeError('FOP-1 window width is 1 to 255');
    if (this.transmissionLimit < 1) throw new RangeError('FOP-1 transmission limit is at least 1');
  }

  get status() {
    return {
      state: this.state,
      vs: this.vs,
      nnr: this.nnr,
      outstanding: this.sent.length,
      waiting: this.waiting.length,
    };
  }

  get stats(): FopStats {
    return { ...this.counters };
  }

  /** Initiate AD service without CLCW check: V(S) and NN(R) are taken as they are. */
  initiate(vs = this.vs): void {
    this.purge('terminated', 'service re-initiated');
    this.vs = vs & 0xff;
    this.nnr = this.vs;
    this.setState('active');
  }

  /** Initiate AD service with a BC Set V(R): FARM-1 and FOP-1 agree on `vr` once a CLCW confirms it. */
  initiateWithSetVr(vr: number): Promise<void> {
    this.purge('terminated', 'service re-initiated');
    this.vs = vr & 0xff;
    this.nnr = this.vs;
    return this.control({ kind: 'set-vr', vr: this.vs });
  }

  /** Initiate AD service with a BC Unlock: takes FARM-1 out of lockout; V(S) follows the next CLCW's N(R). */
  initiateWithUnlock(): Promise<void> {
    this.purge('terminated', 'service re-initiated');
    return this.control({ kind: 'unlock' });
  }

  /** Terminate AD service: everything queued is given up with a 'terminated' alert. */
  terminate(): void {
    this.purge('terminated', 'AD service terminated');
    this.setState('initial');
  }

  /** Sends a type-BD frame: no sequence control, no retransmission. */
  transmitBd(data: Uint8Array): void {
    this.counters.sent += 1;
    this.send({ type: 'BD', sequenceNumber: 0, data, retransmission: false });
  }

  /**
   * Queues a command for type-AD transmission. Resolves with its N(S) once a CLCW acknowledges it; rejects with a
   * FopAlertError when the service gives up (the command may or may not have been executed: the ground must
   * check, e.g. in the verification reports).
   */
  transmitAd(data: Uint8Array): Promise<number> {
    if (this.state === 'initial') {
      return Promise.reject(
        new FopAlertError({ reason: 'terminated', detail: 'AD service is not initiated', lost: 0 }),
      );
    }
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(
        new FopAlertError({
          reason: 'limit',
          detail: `${this.maxWaiting} commands already waiting`,
          lost: 0,
        }),
      );
    }
    return new Promise<number>((resolve, reject) => {
      this.waiting.push({ data, ns: -1, resolve, reject });
      this.pump();
    });
  }

  /** A CLCW arrived (from the OCF of a TM frame on the TC's virtual channel). */
  receiveClcw(clcw: ClcwReport): void {
    const nr = clcw.nr & 0xff;
    if (this.state === 'initial') return;
    if (this.state === 'initialising-with-bc') {
      this.controlAcknowledged(clcw);
      return;
    }
    if (this.state === 'initialising-without-bc') {
      if (!clcw.lockout && nr === this.vs) this.setState('active');
      return;
    }
    if (clcw.lockout) {
      this.alert('lockout', `FARM-1 is in lockout (N(R) ${nr}, V(S) ${this.vs})`);
      return;
    }
    // N(R) must lie between NN(R) and V(S), modulo 256.
    const acked = (nr - this.nnr) & 0xff;
    const outstanding = (this.vs - this.nnr) & 0xff;
    if (acked > outstanding) {
      this.alert('nnr', `CLCW N(R) ${nr} is outside NN(R) ${this.nnr} .. V(S) ${this.vs}`);
      return;
    }
    if (acked > 0) this.acknowledge(acked);
    if (this.sent.length === 0) {
      this.stopTimer();
      this.setState('active');
      if (clcw.retransmit && !clcw.wait) {
        // FARM-1 wants a retransmission but nothing is outstanding: it holds frames we never sent.
        this.alert('synch', `CLCW asks for retransmission with nothing outstanding (N(R) ${nr})`);
        return;
      }
      this.pump();
      return;
    }
    if (clcw.wait) {
      // FARM-1 has no buffer: hold everything until it has.
      this.setState('retransmit-with-wait');
      this.stopTimer();
      return;
    }
    if (clcw.retransmit) {
      if (acked > 0 || this.state !== 'retransmit-without-wait') {
        // New information (some acknowledged, or first request): retransmit now.
        this.retransmitAll();
      }
      return;
    }
    if (this.state === 'retransmit-with-wait') this.retransmitAll();
    else if (acked > 0) this.startTimer();
    this.pump();
  }

  private control(command: ControlCommand): Promise<void> {
    if (this.pendingControl) {
      this.pendingControl.reject(new FopAlertError({ reason: 'terminated', detail: 'superseded', lost: 0 }));
    }
    return new Promise<void>((resolve, reject) => {
      this.pendingControl = { command, resolve, reject };
      this.transmissions = 1;
      this.setState('initialising-with-bc');
      this.counters.sent += 1;
      this.send({ type: 'BC', sequenceNumber: 0, command, retransmission: false });
      this.startTimer();
    });
  }

  private controlAcknowledged(clcw: ClcwReport): void {
    const pending = this.pendingControl;
    if (!pending || clcw.lockout) return;
    if (pending.command.kind === 'set-vr' && (clcw.nr & 0xff) !== this.vs) return;
    if (pending.command.kind === 'unlock') {
      this.vs = clcw.nr & 0xff;
      this.nnr = this.vs;
    }
    this.pendingControl = undefined;
    this.stopTimer();
    this.setState('active');
    pending.resolve();
    this.pump();
  }

  /** Sends waiting frames while the window has room (only in Active: retransmission has priority). */
  private pump(): void {
    while (this.state === 'active' && this.waiting.length > 0 && this.sent.length < this.windowWidth) {
      const next = this.waiting.shift() as Pending;
      next.ns = this.vs;
      this.vs = (this.vs + 1) & 0xff;
      if (this.sent.length === 0) this.transmissions = 1;
      this.sent.push(next);
      this.counters.sent += 1;
      this.send({ type: 'AD', sequenceNumber: next.ns, data: next.data, retransmission: false });
      this.startTimer();
    }
  }

  private acknowledge(count: number): void {
    for (let i = 0; i < count; i++) {
      const done = this.sent.shift();
      if (!done) break;
      this.counters.acknowledged += 1;
      done.resolve(done.ns);
    }
    this.nnr = (this.nnr + count) & 0xff;
    this.transmissions = 1;
    if (this.state === 'retransmit-without-wait' || this.state === 'retransmit-with-wait')
      this.setState('active');
  }

  private retransmitAll(): void {
    if (this.transmissions >= this.transmissionLimit) {
      this.alert('limit', `sent ${this.transmissions} times without acknowledgement`);
      return;
    }
    this.transmissions += 1;
    this.setState('retransmit-without-wait');
    for (const frame of this.sent) {
      this.counters.retransmitted += 1;
      this.send({ type: 'AD', sequenceNumber: frame.ns, data: frame.data, retransmission: true });
    }
    this.startTimer();
  }

  private timerExpired(): void {
    this.timer = undefined;
    this.counters.timerExpiries += 1;
    if (this.state === 'initialising-with-bc' && this.pendingControl) {
      if (this.transmissions >= this.transmissionLimit) {
        this.alert('limit', `BC frame sent ${this.transmissions} times without a confirming CLCW`);
        return;
      }
      this.transmissions += 1;
      this.counters.retransmitted += 1;
      this.send({
        type: 'BC',
        sequenceNumber: 0,
        command: this.pendingControl.command,
        retransmission: true,
      });
      this.startTimer();
      return;
    }
    if (this.state === 'retransmit-with-wait') {
      this.startTimer();
      return;
    }
    if (this.sent.length > 0) this.retransmitAll();
  }

  private startTimer(): void {
    this.stopTimer();
    this.timer = this.scheduler.schedule(() => this.timerExpired(), this.timerMs);
  }

  private stopTimer(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
  }

  private alert(reason: FopAlertReason, detail: string): void {
    const lost = this.purge(reason, detail);
    this.counters.alerts += 1;
    this.setState('initial');
    this.alertSubject.next({ reason, detail, lost });
  }

  /** Gives up every queued frame and pending control command; returns how many. */
  private purge(reason: FopAlertReason, detail: string): number {
    this.stopTimer();
    const given = [...this.sent.splice(0), ...this.waiting.splice(0)];
    const error = new FopAlertError({ reason, detail, lost: given.length });
    for (const frame of given) frame.reject(error);
    if (this.pendingControl) {
      this.pendingControl.reject(error);
      this.pendingControl = undefined;
    }
    return given.length;
  }

  private setState(state: FopState): void {
    if (state === this.state) return;
    this.state = state;
    this.stateSubject.next(state);
  }
}
