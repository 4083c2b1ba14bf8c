import type { Severity } from '@core/finding/model';
import type { PriorityScheme } from '@core/tickets/priority';
import { ConfigurationError } from '@core/shared/errors';
import { SEVERITIES } from '@core/finding/model';

export const JIRA_DEFAULT_PRIORITIES: PriorityScheme = {
  ladder: ['Highest', 'High', 'Medium', 'Low', 'Lowest'],
  bySeverity: { critical: 'Highest', high: 'High', medium: 'Medium', low: 'Low', info: 'Lowest' },
};

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
