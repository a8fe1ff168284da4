/**
 * Decides whether a junction temperature reading can be controlled on: `sensorOk` for the governors. A reading is
 * not ok when
 * - its quality is not 'ok' ('failed', 'stale', 'out-of-range');
 * - the value has stayed identical for more than `stuckSamples` readings in a row ('stuck': a frozen register, a
 *   driver returning its cache) AND, while it did, either the accelerator's power moved by more than
 *   `stuckPowerSwingW` (the junction would have followed it: 0.06 K/W on the example node) or `stuckAfterMs` of
 *   the readings' own time went by. A real sensor has a resolution (0.01 degC over Modbus, 1 degC from
 *   nvidia-smi): a steady junction under a steady cap reads the same value for seconds, which alone is not a
 *   fault. Sensors with a coarse resolution need a larger swing; Infinity for `stuckSamples` turns the check off;
 * - it moved from the last accepted value faster than `maxRateCPerS` ('implausible-rate'): that sample only. The
 *   rate is taken against the last accepted value and time, so a genuine shift is accepted once enough time has
 *   passed for it to be plausible.
 * Times are the readings' own (mission ms). `check` allocates nothing: it returns one reused verdict.
 */
import type { Reading } from '../hal/types.js';

export type SensorFault = 'failed' | 'stale' | 'out-of-range' | 'stuck' | 'implausible-rate';

export interface SensorVerdict {
  readonly ok: boolean;
  /** Why not, when not ok. */
  readonly reason: SensorFault | undefined;
  /** The value, when the reading has one (also when not ok, for telemetry). */
  readonly value: number | undefined;
}

export interface SensorCheckOptions {
  /** More identical values in a row than this may be stuck; default 50 (5 s at 10 Hz). */
  readonly stuckSamples?: number;
  /** ... and is, when the accelerator's power swung by more than this meanwhile, W; default 10. */
  readonly stuckPowerSwingW?: number;
  /** ... or when it has been identical this long (the readings' times), ms; default 60 000. */
  readonly stuckAfterMs?: number;
  /** A larger change per second than this is implausible, K/s; default 20. */
  readonly maxRateCPerS?: number;
}

export class SensorCheck {
  readonly stuckSamples: number;
  readonly stuckPowerSwingW: number;
  readonly stuckAfterMs: number;
  readonly maxRateCPerS: number;
  /** Since the value froze: its first time and the accelerator power's range. */
  private frozenSinceMs = 0;
  private powerLowW = Number.POSITIVE_INFINITY;
  private powerHighW = Number.NEGATIVE_INFINITY;
  private readonly verdict: { ok: boolean; reason: SensorFault | undefined; value: number | undefined };
  private lastValue: number | undefined;
  private repeats = 0;
  private acceptedValue: number | undefined;
  private acceptedTimeMs = 0;

  constructor(options: SensorCheckOptions = {}) {
    this.stuckSamples = options.stuckSamples ?? 50;
    this.stuckPowerSwingW = options.stuckPowerSwingW ?? 10;
    this.stuckAfterMs = options.stuckAfterMs ?? 60_000;
    if (!(this.stuckPowerSwingW >= 0)) throw new RangeError(`SensorCheck: stuckPowerSwingW must be >= 0`);
    if (!(this.stuckAfterMs >= 0)) throw new RangeError(`SensorCheck: stuckAfterMs must be >= 0`);
    this.maxRateCPerS = options.maxRateCPerS ?? 20;
    if (!(this.stuckSamples >= 1)) throw new RangeError(`SensorCheck: stuckSamples must be >= 1`);
    if (!(this.maxRateCPerS > 0)) throw new RangeError(`SensorCheck: maxRateCPerS must be > 0`);
    this.verdict = { ok: false, reason: 'failed', value: undefined };
  }

  /**
   * Judges one reading, with the accelerator's power at the time when known. The returned verdict is reused:
   * valid until the next `check`.
   */
  check(reading: Reading<number>, powerW?: number): SensorVerdict {
    const v = this.verdict;
    if (reading.quality !== 'ok') {
      v.ok = false;
      v.value = reading.value;
      v.reason = reading.quality === 'outOfRange' ? 'out-of-range' : reading.quality;
      this.lastValue = undefined;
      this.repeats = 0;
      return v;
    }
    const value = reading.value;
    v.value = value;
    if (!Number.isFinite(value)) {
      v.ok = false;
      v.reason = 'failed';
      return v;
    }
    if (value === this.lastValue) this.repeats += 1;
    else {
      this.repeats = 1;
      this.frozenSinceMs = reading.time;
      this.powerLowW = Number.POSITIVE_INFINITY;
      this.powerHighW = Number.NEGATIVE_INFINITY;
    }
    this.lastValue = value;
    if (powerW !== undefined && Number.isFinite(powerW)) {
      if (powerW < this.powerLowW) this.powerLowW = powerW;
      if (powerW > this.powerHighW) this.powerHighW = powerW;
    }
    if (
      this.repeats > this.stuckSamples &&
      (this.powerHighW - this.powerLowW > this.stuckPowerSwingW ||
        reading.time - this.frozenSinceMs >= this.stuckAfterMs)
    ) {
      v.ok = false;
      v.reason = 'stuck';
      return v;
    }
    if (this.acceptedValue !== undefined) {
      const dtS = Math.max(reading.time - this.acceptedTimeMs, 1) / 1000;
      if (Math.abs(value - this.acceptedValue) / dtS > this.maxRateCPerS) {
        v.ok = false;
        v.reason = 'implausible-rate';
        return v;
      }
    }
    this.acceptedValue = value;
    this.acceptedTimeMs = reading.time;
    v.ok = true;
    v.reason = undefined;
    return v;
  }

  reset(): void {
    this.lastValue = undefined;
    this.repeats = 0;
    this.acceptedValue = undefined;
    this.acceptedTimeMs = 0;
  }
}
