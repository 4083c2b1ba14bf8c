import { sha256Of } from '@core/finding/identity';
import type { Asset, Observation, Severity, SourceRef } from '@core/finding/model';
import { redactText } from '@core/shared/redaction';
import { NIST_CSF_BY_KIND, OWASP_NHI_BY_KIND } from '@core/finding/standards';
import { truncate } from '@core/shared/text';
import type { NhiClassification } from './nhi-checks';
import type { ParseContext } from './types';

export interface PostureInput {
  classification: NhiClassification;
  /** Cloud provider (`aws`, `azure`, `gcp`, `kubernetes`…). */
  provider: string;
  /** AWS account, Azure subscription, GCP project, cluster: where the resource lives. */
  account: string;
  /** The resource's id (an ARN for AWS). */
  resource: string;
  title: string;
  detector: string;
  severity: Severity;
  /** The product that reported it (`prowler`, `security-hub`, `guardduty`). */
  scanner: string;
  scannerId: string;
  firstReportedAt: string;
  resolvedAtSource: boolean;
  aliasKey: string;
  /** The Security Hub record, when the finding is one (write-back). */
  ref?: SourceRef;
}

const titles = new Map<string, string>();

/** Redacted and cut to 300 characters; check titles repeat over a report, so each is worked out once. */
function postureTitle(title: string): string {
  let out = titles.get(title);
  if (out === undefined) {
    if (titles.size > 10_000) titles.clear();
    out = truncate(redactText(title), 300);
    titles.set(title, out);
  }
  return out;
}

/** Kinds whose finding means a credential that works right now. */
const ACTIVE_KINDS = new Set(['anomalous_use', 'stale_credential', 'multiple_active_keys', 'root_credential']);

/**
 * The observation of an identity posture finding (ASFF or OCSF). The same issue on the same
 * resource is one finding, whichever product reported it and in which format.
 */
export function postureObservation(input: PostureInput, ctx: ParseContext): Observation {
  const { kind, nhiType, issue } = input.classification;
  const prefix = input.provider === 'aws' ? 'aws' : input.provider;
  const asset: Asset = ctx.asset
    ? { type: 'repository', id: ctx.asset }
    : input.provider === 'aws'
      ? { type: 'aws_resource', id: input.resource, account: input.account }
      : { type: 'cloud_resource', id: input.resource, ...(input.account ? { account: input.account } : {}) };
  return {
    fingerprint: `${prefix}:${sha256Of(input.account, input.resource, issue)}`,
    // Any product can send findings, and a title is free text: it may quote what was found, so
    // it is redacted before it reaches tickets, the CMDB and reports.
    title: postureTitle(input.title),
    nhiType,
    detector: input.detector,
    severity: input.severity,
    validity: ACTIVE_KINDS.has(kind) ? 'active' : 'unknown',
    publiclyExposed: false,
    asset,
    locations: [{ kind: 'resource', resource: input.resource }],
    source: {
      scanner: input.scanner,
      scannerId: input.scannerId,
      ruleId: input.detector,
      firstReportedAt: input.firstReportedAt,
      state: input.resolvedAtSource ? 'resolved' : 'open',
      ...(input.ref ? { ref: input.ref } : {}),
    },
    owaspNhi: OWASP_NHI_BY_KIND[kind],
    nistCsf: NIST_CSF_BY_KIND[kind],
    aliasKey: input.aliasKey,
  };
}
