import { InputError } from './errors';

/** The hub's clock. Locally it honours CLOSELOOP_NOW so months can be simulated in seconds. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock fixed at the given instant. */
export function fixedClock(at: string | Date): Clock {
  const date = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(date.getTime())) throw new InputError(`not an ISO-8601 instant: ${String(at)}`);
  return { now: () => new Date(date.getTime()) };
}

/** One day in milliseconds (SLA days, exception lengths, report periods). */
export const DAY_MS = 24 * 60 * 60 * 1000;
