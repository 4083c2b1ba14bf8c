import type { Severity } from '../finding/model';

/** Ticket priority names from most to least urgent, and the one each severity starts at. */
export interface PriorityScheme {
  /** Most urgent first, e.g. Highest, High, Medium, Low, Lowest. */
  ladder: string[];
  bySeverity: Record<Severity, string>;
}

/** One step more urgent than `current` (an escalation); the top stays the top. */
export function raisedPriority(scheme: PriorityScheme, current: string): string {
  const at = scheme.ladder.indexOf(current);
  return at <= 0 ? (scheme.ladder[0] ?? current) : scheme.ladder[at - 1]!;
}
