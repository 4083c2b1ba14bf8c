import {
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  type SecurityHubClient,
  type WorkflowStatus,
} from '@aws-sdk/client-securityhub';
import type { SourceRef } from '@core/finding/model';
import { CloseloopError } from '@core/shared/errors';
import { WRITEBACK_AUTHOR, type WritebackOp } from '@core/writeback/model';
import type { SourceWriter, WritebackOutcome, WritebackRequest } from '@core/writeback/ports';

/** Security Hub refused to update a finding (BatchUpdateFindings' UnprocessedFindings). */
export class SecurityHubUpdateError extends CloseloopError {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`Security Hub did not update the finding: ${code}${message ? ` (${message})` : ''}`, options);
    this.name = 'SecurityHubUpdateError';
  }
}

/**
 * ASFF `Workflow.Status` (Security Hub CSPM). A ticket makes it NOTIFIED; a closing on evidence
 * RESOLVED; a false positive and an accepted risk SUPPRESSED (reviewed, no action: the note says
 * why and, for a risk, until when); a reopening NOTIFIED again when a ticket tracks it, else NEW.
 */
function workflowStatus(op: WritebackOp, ticketed: boolean): WorkflowStatus {
  switch (op) {
    case 'notify':
      return 'NOTIFIED';
    case 'resolve':
      return 'RESOLVED';
    case 'false_positive':
    case 'accept_risk':
      return 'SUPPRESSED';
    case 'reopen':
      return ticketed ? 'NOTIFIED' : 'NEW';
  }
}

/** OCSF `status_id` of the new Security Hub: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved. */
function ocsfStatusId(op: WritebackOp, ticketed: boolean): number {
  switch (op) {
    case 'notify':
      return 2;
    case 'resolve':
      return 4;
    case 'false_positive':
    case 'accept_risk':
      return 3;
    case 'reopen':
      return ticketed ? 2 : 1;
  }
}

/** Unprocessed because the finding is not in Security Hub (an ASFF file that was never imported). */
const notFound = (code: string | undefined) => /not\s*found/i.test(code ?? '');

/**
 * Security Hub findings: `BatchUpdateFindings` (ASFF, Security Hub CSPM) with `Workflow.Status` and
 * a `Note` by `closeloop`, or `BatchUpdateFindingsV2` (OCSF, the new Security Hub) with `StatusId`
 * and a `Comment`. Both set a target value, so a repeat changes nothing. The import event each
 * update causes comes back to the hub's ingest, which recognises its own note.
 */
export class SecurityHubWriter implements SourceWriter {
  constructor(private readonly client: SecurityHubClient) {}

  async write(ref: SourceRef, request: WritebackRequest): Promise<WritebackOutcome> {
    const ticketed = request.finding.ticket !== undefined;
    if (ref.system === 'securityhub') {
      const status = workflowStatus(request.op, ticketed);
      const out = await this.client.send(
        new BatchUpdateFindingsCommand({
          FindingIdentifiers: [{ Id: ref.id, ProductArn: ref.productArn }],
          Workflow: { Status: status },
          Note: { Text: request.text, UpdatedBy: WRITEBACK_AUTHOR },
        }),
      );
      const unprocessed = out.UnprocessedFindings?.[0];
      if (unprocessed) {
        if (notFound(unprocessed.ErrorCode))
          return { outcome: 'skipped', reason: `Security Hub has no finding ${ref.id} (never imported, or deleted)` };
        throw new SecurityHubUpdateError(unprocessed.ErrorCode ?? 'unknown', unprocessed.ErrorMessage ?? '');
      }
      return { outcome: 'written', detail: `Security Hub finding ${ref.id} set to ${status}` };
    }
    if (ref.system === 'securityhub_v2') {
      const statusId = ocsfStatusId(request.op, ticketed);
      const out = await this.client.send(
        new BatchUpdateFindingsV2Command({
          FindingIdentifiers: [
            { CloudAccountUid: ref.accountUid, FindingInfoUid: ref.findingUid, MetadataProductUid: ref.productUid },
          ],
          StatusId: statusId,
          Comment: request.text,
        }),
      );
      const unprocessed = out.UnprocessedFindings?.[0];
      if (unprocessed) {
        if (notFound(unprocessed.ErrorCode))
          return { outcome: 'skipped', reason: `Security Hub has no finding ${ref.findingUid}` };
        throw new SecurityHubUpdateError(String(unprocessed.ErrorCode ?? 'unknown'), unprocessed.ErrorMessage ?? '');
      }
      return { outcome: 'written', detail: `Security Hub finding ${ref.findingUid} set to status ${statusId}` };
    }
    throw new CloseloopError(`Security Hub cannot update a ${ref.system} record`);
  }
}
