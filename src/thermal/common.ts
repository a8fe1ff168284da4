/** Small helpers the thermal governors share (kept apart from `governor.ts`, which imports the governors). */
import type { TripPoint } from '../hal/types.js';

/** A mutable output record a governor reuses from step to step (it hands it out as a `GovernorOutput`). */
export interface MutableGovernorOutput {
  allowanceW: number;
  state: string;
}

export function clamp(value: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(value, hi));
}

/** The passive trip points, ascending by temperature. */
export function passiveTrips(trips: readonly TripPoint[]): TripPoint[] {
  return trips.filter((t) => t.type === 'passive').sort((a, b) => a.celsius - b.celsius);
}
