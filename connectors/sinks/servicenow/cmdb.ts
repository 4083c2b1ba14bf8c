import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { isClosed, type Asset, type Finding } from '@core/finding/model';
import type { OwnerDirectory } from '@core/policy/ports';
import { DEFAULT_RETRY_POLICY, requestWithRetry, type RetryPolicy } from '../../http/retrying-http';
import type { ServiceNowConfig } from './config';

/** The IdentifyReconcile payload for one NHI and the application it belongs to. */
export function identifyReconcilePayload(finding: Finding, config: ServiceNowConfig) {
  const lastRotation = [...finding.evidence].reverse().find((e) => e.kind === 'rotation_record' && !e.simulated)?.at;
  return {
    items: [
      { className: config.cmdbAppClass, values: { name: finding.asset.id } },
      {
        className: config.cmdbClass,
        values: {
          [config.cmdbIdAttribute]: finding.id,
          name: `${finding.nhiType}: ${finding.title}`.slice(0, 255),
          short_description: `closeloop ${finding.id} (${finding.severity}, ${finding.status})`,
          ...(finding.owner ? { owned_by: finding.owner } : {}),
          ...(lastRotation ? { u_last_rotated: lastRotation.slice(0, 19).replace('T', ' ') } : {}),
          ...(finding.exception?.until ? { u_expires: finding.exception.until.slice(0, 10) } : {}),
          operational_status: isClosed(finding.status) ? '6' : '1',
        },
      },
    ],
    // The NHI is used by the application: child of the application CI.
    relations: [{ parent: 0, child: 1, type: 'Uses::Used by' }],
  };
}

/**
 * The CMDB in ServiceNow: NHIs upserted as CIs through IdentifyReconcile (idempotent by the
 * identification attribute), and owners read from the application CI for triage.
 */
export class ServiceNowCmdb implements OwnerDirectory {
  constructor(
    private readonly config: ServiceNowConfig,
    private readonly http: AxiosInstance,
    private readonly retry: RetryPolicy = DEFAULT_RETRY_POLICY,
  ) {}

  async upsert(finding: Finding): Promise<void> {
    // IRE identifies the CI by its identification attribute, so a repeated call updates, never duplicates.
    await requestWithRetry(
      this.http,
      {
        method: 'POST',
        url: '/api/now/identifyreconcile',
        params: { sysparm_data_source: 'closeloop' },
        data: identifyReconcilePayload(finding, this.config),
      },
      this.retry,
    );
  }

  /** The owner (email, else user name) of the application CI named after the asset. */
  async ownerOf(asset: Asset): Promise<string | undefined> {
    const response = await requestWithRetry<unknown>(
      this.http,
      {
        method: 'GET',
        url: `/api/now/table/${this.config.cmdbAppClass}`,
        params: {
          sysparm_query: `name=${asset.id}`,
          sysparm_fields: 'owned_by.email,owned_by.user_name',
          sysparm_limit: 1,
        },
      },
      this.retry,
    );
    const parsed = z.object({ result: z.array(z.record(z.string(), z.string())) }).safeParse(response.data);
    const row = parsed.success ? parsed.data.result[0] : undefined;
    return row?.['owned_by.email'] || row?.['owned_by.user_name'] || undefined;
  }
}
