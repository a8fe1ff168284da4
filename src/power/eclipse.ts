/**
 * Eclipse forecasting: when the next eclipses come, from the orbit model until the solar input has shown a full
 * cycle, then from the observed transitions.
 *
 * Each step the forecaster takes the solar input's power. It learns the typical sunlit power (the mean of the
 * sunlit samples over the last orbit), calls a sample dark when it falls to sunsetFraction of that (and not above
 * minSunlitW), and timestamps sunsets and sunrises at the midpoint of the two samples either side. Once it has seen
 * a sunset and the sunrise after it, it re-phases: eclipses start at the last sunset plus whole periods and last as
 * long as the last eclipse did, the period being the orbit model's or, once two sunsets have been seen, theirs.
 * The state it observes now (when fresh) overrides the prediction for the present moment. Pure: no clocks.
 */
import { eclipseFraction, orbitPeriodS } from './orbit.js';

export interface EclipseWindow {
  readonly startS: number;
  readonly endS: number;
}

export interface EclipseForecast {
  /** The learned typical sunlit solar power, W (0 before any sunlit sample). */
  readonly sunlitW: number;
  /** Eclipse windows within [timeS, timeS + horizonS], clipped to it, in time order. */
  readonly windows: readonly EclipseWindow[];
  readonly inEclipse: boolean;
  /** When the light next changes (sunset when sunlit, sunrise in eclipse), s; Infinity when never. */
  readonly nextChangeS: number;
  readonly source: 'orbit' | 'observed';
}

export interface EclipseForecasterOptions {
  readonly altitudeKm: number;
  readonly betaDeg: number;
  /** The orbit phase (0: noon, 0.5: midnight) at epochS. Default 0. */
  readonly startPhase?: number;
  /** The time at which the phase is startPhase, s. Default 0. */
  readonly epochS?: number;
  /** A sample is dark below this fraction of the learned sunlit power. Default 0.5. */
  readonly sunsetFraction?: number;
  /** A sample is dark at or below this power whatever was learned, W. Default 1. */
  readonly minSunlitW?: number;
  /** The last sample speaks for the present for this long, s. Default 300. */
  readonly staleS?: number;
  /** How far an observed period may stray from the model's and still be used, fraction. Default 0.05. */
  readonly periodTolerance?: number;
  /** An observed eclipse that should have ended this long ago is assumed to end this much later, s. Default 60. */
  readonly overdueS?: number;
}

export class EclipseForecaster {
  private readonly sunsetFraction: number;
  private readonly minSunlitW: number;
  private readonly staleS: number;
  private readonly periodTolerance: number;
  private readonly overdueS: number;
  private startPhase: number;
  private epochS: number;
  private modelPeriodS = 0;
  private modelFraction = 0;

  /** Sunlit samples over the last period: a queue with a head index, and their running sum. */
  private litTimes: number[] = [];
  private litWatts: number[] = [];
  private head = 0;
  private litSum = 0;

  private lit: boolean | undefined;
  private lastSampleS: number | undefined;
  /** The last two sunsets, oldest first. */
  private sunsets: number[] = [];
  private lastSunriseS: number | undefined;
  /** Duration of the last complete observed eclipse, s. */
  private observedEclipseS: number | undefined;

  constructor(options: EclipseForecasterOptions) {
    this.sunsetFraction = options.sunsetFraction ?? 0.5;
    this.minSunlitW = options.minSunlitW ?? 1;
    this.staleS = options.staleS ?? 300;
    this.periodTolerance = options.periodTolerance ?? 0.05;
    this.overdueS = options.overdueS ?? 60;
    this.startPhase = options.startPhase ?? 0;
    this.epochS = options.epochS ?? 0;
    this.setOrbit(options.altitudeKm, options.betaDeg);
  }

  /** A new orbit model (a beta angle update, a manoeuvre); observations already made are kept. */
  setOrbit(
    altitudeKm: number,
    betaDeg: number,
    phase?: { readonly startPhase: number; readonly epochS: number },
  ): void {
    this.modelPeriodS = orbitPeriodS(altitudeKm);
    this.modelFraction = eclipseFraction(altitudeKm, betaDeg);
    if (phase !== undefined) {
      this.startPhase = phase.startPhase;
      this.epochS = phase.epochS;
    }
  }

  /** The learned typical sunlit power, W. */
  get sunlitW(): number {
    const n = this.litTimes.length - this.head;
    return n > 0 ? this.litSum / n : 0;
  }

  /** The period in use: from two observed sunsets when they agree with the model, else the model's. */
  get periodS(): number {
    const [a, b] = this.sunsets;
    if (a !== undefined && b !== undefined) {
      const diff = b - a;
      const n = Math.round(diff / this.modelPeriodS);
      if (n >= 1) {
        const period = diff / n;
        if (Math.abs(period - this.modelPeriodS) <= this.periodTolerance * this.modelPeriodS) return period;
      }
    }
    return this.modelPeriodS;
  }

  /** The observed transitions so far (for telemetry and tests). */
  observed(): { readonly sunsetS?: number; readonly sunriseS?: number; readonly eclipseS?: number } {
    return {
      sunsetS: this.sunsets[this.sunsets.length - 1],
      sunriseS: this.lastSunriseS,
      eclipseS: this.observedEclipseS,
    };
  }

  /** Takes the solar input's power at timeS. Samples out of time order, or not numbers, are ignored. */
  update(timeS: number, solarW: number): void {
    if (!Number.isFinite(timeS) || !Number.isFinite(solarW)) return;
    if (this.lastSampleS !== undefined && timeS <= this.lastSampleS) return;
    const level = this.sunlitW;
    const threshold = Math.max(this.minSunlitW, level > 0 ? this.sunsetFraction * level : 0);
    let nowLit = solarW > threshold;

    if (this.lit === false && !nowLit && solarW > this.minSunlitW) {
      // Dark by the learned level but not by the floor: a real eclipse, or an array that lost power. An "eclipse"
      // far longer than any expected one is the latter: forget the old level and the sunset that began it.
      const sunset = this.sunsets[this.sunsets.length - 1];
      const expected = this.observedEclipseS ?? this.modelFraction * this.modelPeriodS;
      const longest = expected > 0 ? 1.5 * expected : 0.5 * this.modelPeriodS;
      if (sunset === undefined || timeS - sunset > longest) {
        if (sunset !== undefined && (this.lastSunriseS === undefined || this.lastSunriseS < sunset)) {
          this.sunsets.pop();
        }
        this.clearLevel();
        this.lit = true;
        nowLit = true;
      }
    }

    if (this.lit !== undefined && this.lastSampleS !== undefined && nowLit !== this.lit) {
      const at = (this.lastSampleS + timeS) / 2;
      if (!nowLit) {
        this.sunsets.push(at);
        if (this.sunsets.length > 2) this.sunsets.shift();
      } else {
        const sunset = this.sunsets[this.sunsets.length - 1];
        if (sunset !== undefined && (this.lastSunriseS === undefined || this.lastSunriseS < sunset)) {
          this.observedEclipseS = at - sunset;
        }
        this.lastSunriseS = at;
      }
    }
    this.lit = nowLit;
    this.lastSampleS = timeS;

    if (nowLit) {
      this.litTimes.push(timeS);
      this.litWatts.push(solarW);
      this.litSum += solarW;
    }
    const oldest = timeS - this.periodS;
    while (this.head < this.litTimes.length && (this.litTimes[this.head] ?? 0) < oldest) {
      this.litSum -= this.litWatts[this.head] ?? 0;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.litTimes.length) {
      this.litTimes = this.litTimes.slice(this.head);
      this.litWatts = this.litWatts.slice(this.head);
      this.head = 0;
      this.litSum = this.litWatts.reduce((sum, w) => sum + w, 0);
    }
  }

  /** The eclipses expected in [timeS, timeS + horizonS], and the light now. */
  forecast(timeS: number, horizonS: number): EclipseForecast {
    const period = this.periodS;
    const sunset = this.sunsets[this.sunsets.length - 1];
    const observedValid =
      this.observedEclipseS !== undefined &&
      sunset !== undefined &&
      this.lastSampleS !== undefined &&
      sunset >= this.lastSampleS - 1.5 * period;

    let anchor: number;
    let duration: number;
    if (observedValid && sunset !== undefined && this.observedEclipseS !== undefined) {
      anchor = sunset;
      duration = this.observedEclipseS;
    } else {
      const fe = this.modelFraction;
      duration = fe * this.modelPeriodS;
      anchor = this.epochS + (0.5 - fe / 2 - this.startPhase) * this.modelPeriodS;
    }
    const stepPeriod = observedValid ? period : this.modelPeriodS;

    // Unclipped windows from just before now to a period past the horizon.
    const windows: { startS: number; endS: number; trueStartS: number }[] = [];
    if (duration > 0) {
      const end = timeS + Math.max(0, horizonS) + stepPeriod;
      for (let k = Math.floor((timeS - anchor) / stepPeriod) - 1; ; k++) {
        const s = anchor + k * stepPeriod;
        if (s >= end) break;
        if (s + duration > timeS) windows.push({ startS: s, endS: s + duration, trueStartS: s });
      }
    }

    let inEclipse = windows[0] !== undefined && windows[0].startS <= timeS;
    const fresh =
      this.lit !== undefined && this.lastSampleS !== undefined && timeS - this.lastSampleS <= this.staleS;
    if (fresh) {
      const observedDark = this.lit === false;
      const expected = duration > 0 ? duration : this.modelFraction * this.modelPeriodS;
      const current = windows[0];
      if (observedDark && !inEclipse) {
        const start = sunset ?? timeS;
        const end = Math.max(start + expected, timeS + this.overdueS);
        windows.unshift({ startS: timeS, endS: end, trueStartS: start });
        // Merge what the new window now overlaps.
        while (windows.length > 1 && windows[1] !== undefined && windows[0] !== undefined) {
          const [a, b] = [windows[0], windows[1]];
          if (b.startS > a.endS) break;
          windows.splice(0, 2, {
            startS: a.startS,
            endS: Math.max(a.endS, b.endS),
            trueStartS: a.trueStartS,
          });
        }
      } else if (!observedDark && inEclipse && current !== undefined) {
        const sunrise = this.lastSunriseS;
        const sawIt =
          sunrise !== undefined &&
          sunset !== undefined &&
          sunrise > sunset &&
          sunrise > current.trueStartS - duration;
        if (sawIt) windows.shift();
        else windows[0] = { startS: timeS, endS: timeS + duration, trueStartS: current.trueStartS };
      }
      inEclipse = observedDark;
    }

    let nextChangeS = Number.POSITIVE_INFINITY;
    const first = windows[0];
    if (first !== undefined) nextChangeS = inEclipse ? first.endS : Math.max(first.startS, timeS);

    const horizonEnd = timeS + Math.max(0, horizonS);
    const clipped: EclipseWindow[] = [];
    for (const w of windows) {
      const startS = Math.max(w.startS, timeS);
      const endS = Math.min(w.endS, horizonEnd);
      if (endS > startS) clipped.push({ startS, endS });
    }
    return {
      sunlitW: this.sunlitW,
      windows: clipped,
      inEclipse,
      nextChangeS,
      source: observedValid ? 'observed' : 'orbit',
    };
  }

  private clearLevel(): void {
    this.litTimes = [];
    this.litWatts = [];
    this.head = 0;
    this.litSum = 0;
  }
}
