import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { CloseloopError } from '@core/shared/errors';
import type { SinkRef } from '@core/tickets/model';
import type { CreateResult, TicketDraft, TicketSink, TicketUpdate } from '@core/tickets/ports';
import type { Severity } from '@core/finding/model';
import { DEFAULT_RETRY_POLICY, requestWithRetry, type RetryPolicy } from '../../http/retrying-http';
import type { ServiceNowConfig } from './config';

/** ServiceNow urgency/impact per severity (1 high … 3 low). */
const URGENCY: Record<Severity, string> = { critical: '1', high: '1', medium: '2', low: '3', info: '3' };
const IMPACT: Record<Severity, string> = { critical: '1', high: '2', medium: '2', low: '3', info: '3' };

const RecordSchema = z.object({
  sys_id: z.string(),
  number: z.string().optional(),
  correlation_id: z.string().optional(),
  state: z.string().optional(),
});
const OneSchema = z.object({ result: RecordSchema });
const ManySchema = z.object({ result: z.array(RecordSchema) });

export class ServiceNowResponseError extends CloseloopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ServiceNowResponseError';
  }
}

/** `YYYY-MM-DD HH:mm:ss` (ServiceNow's glide_date_time, UTC). */
const glideDate = (iso: string) => `${iso.slice(0, 10)} ${iso.length > 11 ? iso.slice(11, 19) : '00:00:00'}`;

/**
 * ServiceNow Table API: one record per finding with `correlation_id` = finding id (found again by
 * it, strongly consistent), work notes for updates (tagged with the work id so a retry does not
 * repeat one), states from configuration.
 */
export class ServiceNowSink implements TicketSink {
  readonly kind = 'servicenow' as const;
  readonly lookupLagMs = 0;
  readonly maxBatch = 10;

  constructor(
    private readonly config: ServiceNowConfig,
    private readonly http: AxiosInstance,
    private readonly retry: RetryPolicy = DEFAULT_RETRY_POLICY,
  ) {}

  private get path() {
    return `/api/now/table/${this.config.table}`;
  }

  recordUrl(sysId: string): string {
    return `${this.config.url}/nav_to.do?uri=${this.config.table}.do?sys_id=${sysId}`;
  }

  async create(drafts: TicketDraft[], sink: SinkRef): Promise<CreateResult[]> {
    const out: CreateResult[] = [];
    for (const d of drafts) {
      const body = {
        short_description: d.summary.slice(0, 160),
        description: this.sectionsWithHowTo(d)
          .map((s) => `${s.heading}\n${s.lines.map((l) => `- ${l}`).join('\n')}`)
          .join('\n\n')
          .slice(0, 30_000),
        correlation_id: d.findingId,
        correlation_display: 'closeloop',
        // Escalated before the record existed (overdue at its first sync): created most urgent.
        urgency: d.escalated ? '1' : URGENCY[d.finding.severity],
        impact: IMPACT[d.finding.severity],
        ...(d.dueDate ? { due_date: glideDate(d.finding.dueAt ?? d.dueDate) } : {}),
        ...(sink.kind === 'servicenow' && sink.assignmentGroup ? { assignment_group: sink.assignmentGroup } : {}),
      };
      const response = await requestWithRetry<unknown>(
        this.http,
        { method: 'POST', url: this.path, data: body, params: { sysparm_fields: 'sys_id,number,correlation_id' } },
        this.retry,
        { idempotent: false },
      );
      const parsed = OneSchema.safeParse(response.data);
      if (!parsed.success)
        throw new ServiceNowResponseError(`ServiceNow answered the create of ${d.findingId} without a record`);
      out.push({
        findingId: d.findingId,
        status: 'created',
        key: parsed.data.result.number ?? parsed.data.result.sys_id,
        url: this.recordUrl(parsed.data.result.sys_id),
      });
      // Best effort: a failure here must not lose the answer for the records created; the
      // decision can still be taken through a decision state or closeloop itself.
      if (this.config.approvalRecords && d.awaiting.role)
        await this.askApprovers(parsed.data.result.sys_id, d.awaiting).catch(() => undefined);
    }
    return out;
  }

  /** The draft's sections, with how to decide in ServiceNow under "Decision awaited". */
  private sectionsWithHowTo(d: TicketDraft): TicketDraft['sections'] {
    const states = Object.entries(this.config.decisionStates).map(([state, decision]) => `${state} (${decision})`);
    const how = [
      ...(this.config.approvalRecords && d.awaiting.role
        ? ['Decide in ServiceNow: approve or reject the approval record closeloop put on this task.']
        : []),
      ...(states.length > 0 && d.awaiting.kind !== 'none' ? [`Or set the state to one of ${states.join(', ')}.`] : []),
      ...(d.awaiting.role
        ? [
            `closeloop checks that you hold the "${d.awaiting.role}" role; a refusal is noted here and the task goes back.`,
          ]
        : []),
    ];
    return d.sections.map((s) => (s.heading === 'Decision awaited' ? { ...s, lines: [...s.lines, ...how] } : s));
  }

  async find(findingIds: string[]): Promise<Map<string, { key: string; url?: string }>> {
    const found = new Map<string, { key: string; url?: string }>();
    for (let i = 0; i < findingIds.length; i += 50) {
      const chunk = findingIds.slice(i, i + 50);
      const response = await requestWithRetry<unknown>(
        this.http,
        {
          method: 'GET',
          url: this.path,
          params: {
            sysparm_query: `correlation_idIN${chunk.join(',')}^ORDERBYsys_created_on`,
            sysparm_fields: 'sys_id,number,correlation_id',
            sysparm_limit: 200,
          },
        },
        this.retry,
      );
      const parsed = ManySchema.safeParse(response.data);
      if (!parsed.success) throw new ServiceNowResponseError('ServiceNow answered a lookup without a result list');
      for (const r of parsed.data.result) {
        if (r.correlation_id && !found.has(r.correlation_id))
          found.set(r.correlation_id, { key: r.number ?? r.sys_id, url: this.recordUrl(r.sys_id) });
      }
    }
    return found;
  }

  private async sysId(key: string): Promise<string> {
    return (await this.task(key)).sysId;
  }

  /** The record behind a task number, with its state. */
  private async task(key: string): Promise<{ sysId: string; state?: string }> {
    const response = await requestWithRetry<unknown>(
      this.http,
      {
        method: 'GET',
        url: this.path,
        params: { sysparm_query: `number=${key}`, sysparm_fields: 'sys_id,number,state', sysparm_limit: 1 },
      },
      this.retry,
    );
    const parsed = ManySchema.safeParse(response.data);
    const found = parsed.success ? parsed.data.result[0] : undefined;
    if (!found) throw new ServiceNowResponseError(`ServiceNow has no ${this.config.table} record ${key}`);
    return { sysId: found.sys_id, ...(found.state !== undefined ? { state: found.state } : {}) };
  }

  /** Whether a work note tagged with this work id is already on the record (a retried update). */
  private async hasNote(sysId: string, tag: string): Promise<boolean> {
    const response = await requestWithRetry<unknown>(
      this.http,
      {
        method: 'GET',
        url: '/api/now/table/sys_journal_field',
        params: {
          sysparm_query: `element_id=${sysId}^element=work_notes^valueLIKE${tag}`,
          sysparm_fields: 'sys_id',
          sysparm_limit: 1,
        },
      },
      this.retry,
    );
    const parsed = z.object({ result: z.array(z.object({ sys_id: z.string() })) }).safeParse(response.data);
    return parsed.success && parsed.data.result.length > 0;
  }

  /**
   * One batch as one PATCH: the work note (tagged with the batch id, looked for first on a retry),
   * urgency, and the state the batch ends in; a refused change puts back the state it waited in and
   * asks its approval record again. A batch that starts a decision asks the approvers bound to
   * ServiceNow users through approval records (SERVICENOW_APPROVAL_RECORDS).
   */
  async update(key: string, update: TicketUpdate): Promise<void> {
    const { sysId, state } = await this.task(key);
    const tag = `[closeloop:${update.workId}]`;
    if (!(update.retry && (await this.hasNote(sysId, tag)))) {
      const fields: Record<string, string> = { work_notes: `${tag} ${update.text}` };
      if (update.escalate || update.op === 'escalate') fields.urgency = '1';
      if (update.op === 'close')
        Object.assign(fields, { state: this.config.closeState, close_notes: update.text.slice(0, 4000) });
      // Reopened from a closed state; a task still being worked on keeps its state.
      if (update.op === 'reopen' && !(state !== undefined && this.config.openStates.includes(state)))
        fields.state = this.config.reopenState;
      if (update.op === 'refuse' && update.returnTo?.status) fields.state = update.returnTo.status;
      await requestWithRetry(
        this.http,
        { method: 'PATCH', url: `${this.path}/${sysId}`, data: fields, params: { sysparm_fields: 'sys_id' } },
        this.retry,
        { idempotent: false },
      );
    }
    // Setting a state or asking approvals again is idempotent: they repeat on a retry.
    if (update.op === 'refuse' && update.returnTo?.approval)
      await requestWithRetry(
        this.http,
        {
          method: 'PATCH',
          url: `/api/now/table/sysapproval_approver/${encodeURIComponent(update.returnTo.approval)}`,
          data: { state: 'requested' },
          params: { sysparm_fields: 'sys_id' },
        },
        this.retry,
      );
    if (this.config.approvalRecords && update.decided && !update.decided.role) await this.withdrawApprovals(sysId);
    if (this.config.approvalRecords && update.awaiting?.role) await this.askApprovers(sysId, update.awaiting);
  }

  /**
   * The decision was taken (here by one approver, in Jira or in closeloop): the approval records
   * still requested on the task are no longer required, so nobody is left asked to decide nothing.
   * Setting a state is idempotent: it repeats safely on a retry.
   */
  private async withdrawApprovals(taskSysId: string): Promise<void> {
    const open = z.object({ result: z.array(z.object({ sys_id: z.string() })) }).safeParse(
      (
        await requestWithRetry<unknown>(
          this.http,
          {
            method: 'GET',
            url: '/api/now/table/sysapproval_approver',
            params: { sysparm_query: `sysapproval=${taskSysId}^state=requested`, sysparm_fields: 'sys_id' },
          },
          this.retry,
        )
      ).data,
    );
    for (const approval of open.success ? open.data.result : [])
      await requestWithRetry(
        this.http,
        {
          method: 'PATCH',
          url: `/api/now/table/sysapproval_approver/${encodeURIComponent(approval.sys_id)}`,
          data: {
            state: 'not_required',
            comments: 'closeloop: the decision was taken; this approval is no longer required.',
          },
          params: { sysparm_fields: 'sys_id' },
        },
        this.retry,
      );
  }

  /** An approval record (`sysapproval_approver`, requested) on the task for each bound approver without one. */
  private async askApprovers(taskSysId: string, awaiting: NonNullable<TicketUpdate['awaiting']>): Promise<void> {
    const users = [...new Set((awaiting.deciders ?? []).flatMap((d) => d.servicenow))];
    for (const user of users) {
      const found = await requestWithRetry<unknown>(
        this.http,
        {
          method: 'GET',
          url: '/api/now/table/sys_user',
          params: { sysparm_query: `user_name=${user}`, sysparm_fields: 'sys_id', sysparm_limit: 1 },
        },
        this.retry,
      );
      const approver = z.object({ result: z.array(z.object({ sys_id: z.string() })) }).safeParse(found.data);
      const userSysId = approver.success ? approver.data.result[0]?.sys_id : undefined;
      if (!userSysId) continue; // not a ServiceNow user: they decide in closeloop or Jira instead
      const existing = await requestWithRetry<unknown>(
        this.http,
        {
          method: 'GET',
          url: '/api/now/table/sysapproval_approver',
          params: {
            sysparm_query: `sysapproval=${taskSysId}^approver=${userSysId}^state=requested`,
            sysparm_fields: 'sys_id',
            sysparm_limit: 1,
          },
        },
        this.retry,
      );
      const open = z.object({ result: z.array(z.object({ sys_id: z.string() })) }).safeParse(existing.data);
      if (open.success && open.data.result.length > 0) continue;
      await requestWithRetry(
        this.http,
        {
          method: 'POST',
          url: '/api/now/table/sysapproval_approver',
          data: {
            sysapproval: taskSysId,
            source_table: this.config.table,
            approver: userSysId,
            state: 'requested',
            comments: `closeloop: ${awaiting.text}`.slice(0, 4000),
          },
          params: { sysparm_fields: 'sys_id' },
        },
        this.retry,
        { idempotent: false },
      );
    }
  }
}
