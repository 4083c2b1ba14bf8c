import type { Severity } from '@core/finding/model';
import { ConfigurationError } from '@core/shared/errors';
import { SEVERITIES } from '@core/finding/model';

/** Ticket priority names from most to least urgent, and the one each severity starts at. */
export interface PriorityScheme {
  /** Most urgent first, e.g. Highest, High, Medium, Low, Lowest. */
  ladder: string[];
  bySeverity: Record<Severity, string>;
}

export const JIRA_DEFAULT_PRIORITIES: PriorityScheme = {
  ladder: ['Highest', 'High', 'Medium', 'Low', 'Lowest'],
  bySeverity: { critical: 'Highest', high: 'High', medium: 'Medium', low: 'Low', info: 'Lowest' },
};

/** One step more urgent than `current` (an escalation); the top stays the top. */
export function raisedPriority(scheme: PriorityScheme, current: string): string {
  const at = scheme.ladder.indexOf(current);
  return at <= 0 ? (scheme.ladder[0] ?? current) : scheme.ladder[at - 1]!;
}

/**
 * A severity → priority mapping from `critical=Highest,high=High,…` (JIRA_PRIORITIES); names
 * not listed keep the default. The ladder follows the order of the severities.
 */
export function parsePriorities(text: string | undefined, defaults: PriorityScheme, variable: string): PriorityScheme {
  if (!text?.trim()) return defaults;
  const bySeverity = { ...defaults.bySeverity };
  for (const pair of text.split(',')) {
    const [severity, name] = pair.split('=').map((s) => s.trim());
    if (!severity || !name || !(SEVERITIES as readonly string[]).includes(severity)) {
      throw new ConfigurationError(
        `${variable}: expected severity=Priority pairs (severities ${SEVERITIES.join(', ')}), got ${JSON.stringify(pair.slice(0, 40))}`,
      );
    }
    bySeverity[severity as Severity] = name;
  }
  const ladder = [...new Set([...SEVERITIES.map((s) => bySeverity[s]), ...defaults.ladder])];
  return { ladder, bySeverity };
}
