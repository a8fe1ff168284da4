/**
 * FARM-1, the receiving end of COP-1 (CCSDS 232.1-B), on board. Type-AD frames are accepted strictly in N(S)
 * order within the sliding window, so a command is executed exactly once and in order over a lossy link;
 * type-BD frames bypass it; type-BC frames (Unlock, Set V(R)) control it. Its state goes to the ground in the CLCW.
 *
 * A pure state machine: it decides, the caller acts (passes an accepted frame on, reports the CLCW).
 */
import type { ControlCommand } from './tc-frame.js';

export type FarmState = 'open' | 'wait' | 'lockout';

/** What FARM-1 reports in the CLCW. */
export interface FarmStatus {
  readonly state: FarmState;
  /** V(R): the N(S) expected next, reported as N(R). */
  readonly vr: number;
  readonly lockout: boolean;
  readonly wait: boolean;
  readonly retransmit: boolean;
  /** Two-bit count of accepted type-BD and type-BC frames. */
  readonly farmBCounter: number;
}

/** The fields of a TC frame FARM-1 reads (a decoded TcFrame is one). */
export type FarmFrame =
  | { readonly type: 'AD' | 'BD'; readonly sequenceNumber: number }
  | { readonly type: 'BC'; readonly command: ControlCommand };

/** Why a frame was not accepted; counted by the uplink. */
export type FarmDiscard =
  | 'lockout' // FARM-1 is in lockout: only Unlock gets it out
  | 'no-buffer' // N(S) = V(R) but the receiving buffer is full: Wait set
  | 'positive-window' // a frame ahead of V(R) (one went missing): Retransmit set
  | 'negative-window' // a frame already accepted (a retransmission): discarded silently
  | 'outside-window' // N(S) far from V(R): Lockout set
  | 'set-vr-in-lockout'; // Set V(R) is ignored in lockout

export type FarmVerdict =
  | { readonly accepted: true }
  | { readonly accepted: false; readonly reason: FarmDiscard };

/** The durable part of FARM-1: restored after a restart so that no accepted frame is accepted again. */
export interface FarmSnapshot {
  readonly vr: number;
  readonly state: FarmState;
  readonly retransmit: boolean;
  readonly farmBCounter: number;
}

export class Farm1 {
  private vr = 0;
  private state: FarmState = 'open';
  private retransmit = false;
  private farmB = 0;
  /** PW and NW of the standard: half the window each side. */
  private readonly positiveWidth: number;
  private readonly negativeWidth: number;

  /**
   * @param windowWidth FW: an even number from 2 to 254 (PROTOCOL.md: 10).
   * @param bufferAvailable whether the next accepted AD frame has somewhere to go (the command queue has room).
   */
  constructor(
    readonly windowWidth = 10,
    private readonly bufferAvailable: () => boolean = () => true,
    snapshot?: FarmSnapshot,
  ) {
    if (!Number.isInteger(windowWidth) || windowWidth < 2 || windowWidth > 254 || windowWidth % 2 !== 0) {
      throw new RangeError(`FARM-1 window width must be even, 2 to 254: ${windowWidth}`);
    }
    this.positiveWidth = windowWidth / 2;
    this.negativeWidth = windowWidth / 2;
    if (snapshot) {
      this.vr = snapshot.vr & 0xff;
      this.state = snapshot.state;
      this.retransmit = snapshot.retransmit;
      this.farmB = snapshot.farmBCounter & 0b11;
    }
  }

  get status(): FarmStatus {
    return {
      state: this.state,
      vr: this.vr,
      lockout: this.state === 'lockout',
      wait: this.state === 'wait',
      retransmit: this.retransmit,
      farmBCounter: this.farmB,
    };
  }

  snapshot(): FarmSnapshot {
    return { vr: this.vr, state: this.state, retransmit: this.retransmit, farmBCounter: this.farmB };
  }

  /** Decides on one valid frame (its FECF and security already checked). */
  receive(frame: FarmFrame): FarmVerdict {
    if (frame.type === 'BC') return this.control(frame.command);
    if (frame.type === 'BD') {
      this.farmB = (this.farmB + 1) & 0b11;
      return { accepted: true };
    }
    return this.sequenced(frame.sequenceNumber);
  }

  /** The receiving buffer has room again (E10 of the standard): Wait is cleared. */
  bufferReleased(): void {
    if (this.state === 'wait') this.state = 'open';
  }

  private sequenced(sequenceNumber: number): FarmVerdict {
    const ns = sequenceNumber & 0xff;
    if (this.state === 'lockout') return { accepted: false, reason: 'lockout' };
    const ahead = (ns - this.vr) & 0xff; // modulo-256 distance of N(S) ahead of V(R)
    if (ahead === 0) {
      if (this.state === 'wait' || !this.bufferAvailable()) {
        this.retransmit = true;
        this.state = 'wait';
        return { accepted: false, reason: 'no-buffer' };
      }
      this.vr = (this.vr + 1) & 0xff;
      this.retransmit = false;
      return { accepted: true };
    }
    if (ahead <= this.positiveWidth - 1) {
      if (this.state === 'open') this.retransmit = true;
      return { accepted: false, reason: 'positive-window' };
    }
    const behind = (this.vr - ns) & 0xff;
    if (behind <= this.negativeWidth) return { accepted: false, reason: 'negative-window' };
    this.state = 'lockout';
    return { accepted: false, reason: 'outside-window' };
  }

  private control(command: ControlCommand): FarmVerdict {
    if (command.kind === 'unlock') {
      this.farmB = (this.farmB + 1) & 0b11;
      this.retransmit = false;
      this.state = 'open';
      return { accepted: true };
    }
    if (this.state === 'lockout') {
      // The standard counts the frame (it was a valid BC frame) but does not act on it.
      this.farmB = (this.farmB + 1) & 0b11;
      return { accepted: false, reason: 'set-vr-in-lockout' };
    }
    this.farmB = (this.farmB + 1) & 0b11;
    this.retransmit = false;
    this.state = 'open';
    this.vr = command.vr & 0xff;
    return { accepted: true };
  }
}
