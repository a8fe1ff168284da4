/**
 * Watches the junction against the zone's passive, hot and critical trip points, with hysteresis: a trip is entered
 * when the temperature reaches it and left when the temperature falls below it less its hysteresis (the trip's own
 * `hysteresisC`, else the monitor's, default 2 K).
 *
 * Critical means the accelerator's power goes off at once (the caller switches its load switch off) and stays off
 * until the junction is below critical - hysteresis AND below the lowest passive trip (`powerOff`).
 *
 * A temperature of undefined (a failed sensor) changes nothing: trips hold, and a latched critical stays latched.
 * `update` allocates only when a trip is crossed; otherwise it returns one shared empty array.
 */
import type { TripPoint } from '../hal/types.js';
import { passiveTrips } from './common.js';

export type TripKind = 'passive' | 'hot' | 'critical';

export interface TripTransition {
  readonly trip: TripPoint;
  readonly event: 'entered' | 'left';
}

const NONE: readonly TripTransition[] = Object.freeze([]);

export interface TripMonitorOptions {
  /** Hysteresis for trips that give none, K; default 2. */
  readonly hysteresisK?: number;
}

export class TripMonitor {
  /** The trips watched (passive, hot, critical), ascending by temperature. */
  readonly trips: readonly TripPoint[];
  private readonly hysteresis: readonly number[];
  private readonly active: boolean[];
  private readonly lowestPassiveC: number | undefined;

  constructor(trips: readonly TripPoint[], options: TripMonitorOptions = {}) {
    const defaultHyst = options.hysteresisK ?? 2;
    this.trips = trips
      .filter((t) => t.type === 'passive' || t.type === 'hot' || t.type === 'critical')
      .sort((a, b) => a.celsius - b.celsius);
    this.hysteresis = this.trips.map((t) => Math.max(0, t.hysteresisC ?? defaultHyst));
    this.active = this.trips.map(() => false);
    this.lowestPassiveC = passiveTrips(this.trips)[0]?.celsius;
  }

  /** Feeds one temperature; returns the trips entered and left, in ascending order of temperature. */
  update(temperatureC: number | undefined): readonly TripTransition[] {
    if (temperatureC === undefined || !Number.isFinite(temperatureC)) return NONE;
    let changes: TripTransition[] | undefined;
    for (let i = 0; i < this.trips.length; i++) {
      const trip = this.trips[i]!;
      const hyst = this.hysteresis[i]!;
      const was = this.active[i]!;
      let now: boolean;
      if (!was) {
        now = temperatureC >= trip.celsius;
      } else if (trip.type === 'critical') {
        const belowPassive = this.lowestPassiveC === undefined || temperatureC < this.lowestPassiveC;
        now = !(temperatureC < trip.celsius - hyst && belowPassive);
      } else {
        now = temperatureC >= trip.celsius - hyst;
      }
      if (now !== was) {
        this.active[i] = now;
        if (changes === undefined) changes = [];
        changes.push({ trip, event: now ? 'entered' : 'left' });
      }
    }
    return changes ?? NONE;
  }

  /** Whether any trip of this kind is in force. */
  isActive(kind: TripKind): boolean {
    for (let i = 0; i < this.trips.length; i++)
      if (this.active[i] && this.trips[i]!.type === kind) return true;
    return false;
  }

  /** Whether the accelerator's power must be off (a critical trip is latched). */
  get powerOff(): boolean {
    return this.isActive('critical');
  }

  reset(): void {
    this.active.fill(false);
  }
}
