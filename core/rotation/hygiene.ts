import type { RecordOutcome } from '../ingest/ingest';
import type { NhiType, Observation, Severity } from '../finding/model';
import type { Policy } from '../policy/policy';
import { NIST_CSF_BY_KIND, OWASP_NHI_BY_KIND } from '../finding/standards';
import type { RotatorKind } from './model';
import { DAY_MS } from '@core/shared/clock';

/** A secret as the hygiene check sees it (ListSecrets): dates only, never a value. */
export interface SecretInventoryItem {
  arn: string;
  name: string;
  createdAt?: string;
  lastRotatedAt?: string;
  /** The `closeloop:rotator` tag, when closeloop manages it. */
  rotator?: RotatorKind;
}

/** An IAM access key as the hygiene check sees it, named by HMAC (`keyRef`), never by id. */
export interface AccessKeyInventoryItem {
  userName: string;
  userArn: string;
  keyRef: string;
  status: 'Active' | 'Inactive';
  createdAt: string;
  lastUsedAt?: string;
}

export interface CredentialInventory {
  account?: string;
  secrets: SecretInventoryItem[];
  accessKeys: AccessKeyInventoryItem[];
}

/** The scanner name on hygiene findings' sources. */
export const HYGIENE_SCANNER = 'closeloop';
const DETECTOR = 'closeloop-credential-hygiene';
const daysBetween = (from: string, to: Date) => Math.floor((to.getTime() - Date.parse(from)) / DAY_MS);
const NHI_TYPE_BY_ROTATOR: Record<RotatorKind, NhiType> = {
  iam_access_key: 'cloud_access_key',
  generated_credential: 'api_key',
};

/** Twice past the limit is high; past it, medium. */
function ageSeverity(days: number, limit: number): Severity {
  return days >= 2 * limit ? 'high' : 'medium';
}

/**
 * Findings closeloop raises by itself from the account's credential inventory, as records for
 * the normal ingest (so re-running changes nothing and every finding gets its lifecycle):
 * - NHI7 (long-lived secret): a secret not rotated for `policy.rotation.maxSecretAgeDays`, or an
 *   active access key older than that;
 * - NHI1 (improper offboarding): an active access key unused (or never used) for
 *   `policy.rotation.unusedKeyDays`.
 */
export function hygieneRecords(inventory: CredentialInventory, policy: Policy, now: Date): RecordOutcome[] {
  const { maxSecretAgeDays, unusedKeyDays } = policy.rotation;
  const reportedAt = now.toISOString();
  const observations: Observation[] = [];
  const observation = (
    kind: 'stale_credential' | 'unused_credential',
    fields: Pick<Observation, 'fingerprint' | 'title' | 'nhiType' | 'severity' | 'asset' | 'locations'> & {
      ruleId: string;
      scannerId: string;
    },
  ): Observation => ({
    fingerprint: fields.fingerprint,
    title: fields.title,
    nhiType: fields.nhiType,
    detector: DETECTOR,
    severity: fields.severity,
    validity: 'active',
    publiclyExposed: false,
    asset: fields.asset,
    locations: fields.locations,
    source: {
      scanner: HYGIENE_SCANNER,
      scannerId: fields.scannerId,
      ruleId: fields.ruleId,
      firstReportedAt: reportedAt,
      state: 'open',
    },
    owaspNhi: OWASP_NHI_BY_KIND[kind],
    nistCsf: NIST_CSF_BY_KIND[kind],
  });
  const account = inventory.account ? { account: inventory.account } : {};

  for (const secret of inventory.secrets) {
    const since = secret.lastRotatedAt ?? secret.createdAt;
    if (!since) continue;
    const days = daysBetween(since, now);
    if (days < maxSecretAgeDays) continue;
    observations.push(
      observation('stale_credential', {
        fingerprint: `closeloop:NHI7:secret:${secret.arn}`,
        scannerId: `NHI7:${secret.arn}`,
        ruleId: 'NHI7-secret-not-rotated',
        title: `Secret ${secret.name} not rotated for ${days} days (policy: ${maxSecretAgeDays})`,
        nhiType: secret.rotator ? NHI_TYPE_BY_ROTATOR[secret.rotator] : 'generic_secret',
        severity: ageSeverity(days, maxSecretAgeDays),
        asset: { type: 'aws_resource', id: secret.arn, ...account },
        locations: [{ kind: 'resource', resource: secret.arn }],
      }),
    );
  }

  for (const key of inventory.accessKeys) {
    if (key.status !== 'Active') continue;
    const location = [{ kind: 'resource' as const, resource: `${key.userArn}#key-hmac:${key.keyRef}` }];
    const age = daysBetween(key.createdAt, now);
    if (age >= maxSecretAgeDays) {
      observations.push(
        observation('stale_credential', {
          fingerprint: `closeloop:NHI7:access-key:${key.userArn}:${key.keyRef}`,
          scannerId: `NHI7:${key.userArn}#${key.keyRef}`,
          ruleId: 'NHI7-access-key-not-rotated',
          title: `Access key of IAM user ${key.userName} is ${age} days old (policy: rotate within ${maxSecretAgeDays})`,
          nhiType: 'cloud_access_key',
          severity: ageSeverity(age, maxSecretAgeDays),
          asset: { type: 'aws_resource', id: key.userArn, ...account },
          locations: location,
        }),
      );
    }
    const idle = daysBetween(key.lastUsedAt ?? key.createdAt, now);
    if (idle >= unusedKeyDays) {
      observations.push(
        observation('unused_credential', {
          fingerprint: `closeloop:NHI1:access-key:${key.userArn}:${key.keyRef}`,
          scannerId: `NHI1:${key.userArn}#${key.keyRef}`,
          ruleId: 'NHI1-access-key-unused',
          title: `Access key of IAM user ${key.userName} ${key.lastUsedAt ? `unused for ${idle} days` : `never used in ${idle} days`} (policy: ${unusedKeyDays})`,
          nhiType: 'cloud_access_key',
          severity: 'medium',
          asset: { type: 'aws_resource', id: key.userArn, ...account },
          locations: location,
        }),
      );
    }
  }
  return observations.map((o, i) => ({ recordNo: i + 1, kind: 'observation', observation: o }));
}
