/**
 * How the learning rate of one unit's reconstruction moves over its iterations, as a factor of the base rate.
 * 'cosine' decays from 1 to 0 (½(1 + cos(π·t/T))): large steps early let the roundings travel, small steps late let
 * them settle instead of flipping back and forth across a rounding boundary at the last iterations.
 */
export type LrSchedule = 'constant' | 'cosine';
export const LR_SCHEDULES: readonly LrSchedule[] = ['constant', 'cosine'];

/** The factor of the base learning rate at iteration `t` (0-based) of `iterations`. */
export function lrFactor(schedule: LrSchedule, t: number, iterations: number): number {
  return schedule === 'cosine' ? 0.5 * (1 + Math.cos((Math.PI * t) / iterations)) : 1;
}
