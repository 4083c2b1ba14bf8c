import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { decideException, requestException, type DecisionDeps } from '@core/lifecycle/decisions';
import { NhiTypeSchema } from '@core/finding/model';
import type { FindingStore } from '@core/finding/ports';
import { ConfigurationError } from '@core/shared/errors';
import { parseRecord } from '@core/shared/problems';

/** samples/scenario.json: what people did in the sample scenario. */
const ScenarioSchema = z.object({
  description: z.string().optional(),
  exceptions: z
    .array(
      z.object({
        nhiType: NhiTypeSchema,
        requestedBy: z.string().min(1),
        days: z.number().int().positive(),
        reason: z.string().min(1),
        compensatingControl: z.string().optional(),
        approvedBy: z.string().min(1),
      }),
    )
    .default([]),
});

/**
 * Applies the sample scenario's decisions (an owner asks to accept a risk, an approver agrees)
 * to the findings waiting for their owner, through the same decision functions as the CLI.
 * Findings that already carry an exception are left alone, so a second run changes nothing.
 */
export async function applyScenario(file: string, deps: DecisionDeps & { store: FindingStore }): Promise<string[]> {
  const parsed = parseRecord(ScenarioSchema, JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.ok) throw new ConfigurationError(`${file}: ${parsed.problems.join('; ')}`);
  const lines: string[] = [];
  for (const exception of parsed.value.exceptions) {
    const candidates = [
      ...(await deps.store.list({ status: 'open' })),
      ...(await deps.store.list({ status: 'reopened' })),
    ];
    const finding = candidates.find(
      (f) =>
        f.nhiType === exception.nhiType &&
        f.lifecycle?.waitingAt === 'AwaitOwnerFix' &&
        !f.exception &&
        f.owner === exception.requestedBy,
    );
    if (!finding) continue;
    const until = new Date(deps.clock.now().getTime() + exception.days * 24 * 60 * 60 * 1000);
    await requestException(deps, {
      id: finding.id,
      by: exception.requestedBy,
      until,
      reason: exception.reason,
      ...(exception.compensatingControl ? { compensatingControl: exception.compensatingControl } : {}),
    });
    await decideException(deps, { id: finding.id, by: exception.approvedBy, decision: 'approved' });
    lines.push(
      `${exception.requestedBy} asked to accept the risk of ${finding.id} (${finding.nhiType.replace(/_/g, ' ')}) until ${until.toISOString().slice(0, 10)}; ${exception.approvedBy} approved`,
    );
  }
  return lines;
}
