import { emptyCoverage, ingestRecords, type IngestSummary } from '../ingest/ingest';
import type { DecisionDeps } from '../lifecycle/decisions';
import { recordScanEvidence, waitingForOwner, type CleanRescan, type ScanEvidence } from '../lifecycle/rescan';
import type { Finding } from '../finding/model';
import { accountScope, waitScope } from '../finding/waiting';
import type { Policy } from '../policy/policy';
import { HYGIENE_SCANNER, hygieneRecords, type CredentialInventory } from './hygiene';
import { DAY_MS } from '@core/shared/clock';

export const HYGIENE_ACTOR = 'closeloop:credential-hygiene';

/**
 * What the inventory proves about a hygiene finding it no longer reports: an access key gone or
 * inactive is `key_deactivated`; a secret rotated within the window is a `rotation_record`;
 * anything else (a key used again, a secret deleted) is a `clean_rescan`, which the evidence
 * policy may not accept for that finding type.
 */
export function hygieneEvidence(
  finding: Finding,
  inventory: CredentialInventory,
  policy: Policy,
  now: Date,
  reportName: string,
): ScanEvidence | undefined {
  const source = finding.sources.find((s) => s.scanner === HYGIENE_SCANNER && /^NHI[17]:/.test(s.scannerId));
  if (!source) return undefined;
  const subject = source.scannerId.slice('NHIx:'.length);
  const clean: ScanEvidence = {
    actor: HYGIENE_ACTOR,
    kind: 'clean_rescan',
    ref: `hygiene:${reportName}`,
    reason: `the credential hygiene check no longer reports ${source.scannerId.slice(0, 4)} for ${finding.asset.id}`,
  };
  const hash = subject.lastIndexOf('#');
  if (hash > 0) {
    const [userArn, keyRef] = [subject.slice(0, hash), subject.slice(hash + 1)];
    const key = inventory.accessKeys.find((k) => k.userArn === userArn && k.keyRef === keyRef);
    const ref = `iam:${userArn}#key-hmac:${keyRef}`;
    if (!key)
      return {
        actor: HYGIENE_ACTOR,
        kind: 'key_deactivated',
        ref,
        reason: `the access key (key-hmac ${keyRef}) is no longer listed for ${userArn}: deleted`,
      };
    if (key.status === 'Inactive')
      return {
        actor: HYGIENE_ACTOR,
        kind: 'key_deactivated',
        ref,
        reason: `the access key (key-hmac ${keyRef}) of ${userArn} is inactive`,
      };
    return clean;
  }
  const secret = inventory.secrets.find((s) => s.arn === subject);
  if (
    secret?.lastRotatedAt &&
    now.getTime() - Date.parse(secret.lastRotatedAt) < policy.rotation.maxSecretAgeDays * DAY_MS
  ) {
    return {
      actor: HYGIENE_ACTOR,
      kind: 'rotation_record',
      ref: `secretsmanager:${secret.arn}@${secret.lastRotatedAt}`,
      reason: `secret ${secret.name} rotated on ${secret.lastRotatedAt.slice(0, 10)}`,
    };
  }
  return secret ? clean : { ...clean, reason: `secret ${subject} no longer exists` };
}

/**
 * One credential hygiene run: raises NHI7/NHI1 findings through the normal ingest, then treats
 * the inventory as a clean re-scan of the account — each hygiene finding waiting for its owner
 * that it no longer reports gets the evidence the inventory proves and resumes (verification
 * decides). An incomplete run (a rejected record) clears nothing.
 */
export async function runCredentialHygiene(
  inventory: CredentialInventory,
  deps: DecisionDeps,
): Promise<{ summary: IngestSummary; cleared: CleanRescan[] }> {
  const now = deps.clock.now();
  const reportName = `closeloop:credential-hygiene:${now.toISOString()}`;
  const scope = emptyCoverage();
  const summary = await ingestRecords(hygieneRecords(inventory, deps.policy, now), {
    store: deps.store,
    clock: deps.clock,
    reportName,
    format: 'closeloop-hygiene',
    scope,
    ...(deps.launcher ? { launcher: deps.launcher } : {}),
  });
  if (summary.rejected > 0) return { summary, cleared: [] };
  const sameAccount = (f: Finding) => f.asset.type === 'aws_resource' && f.asset.account === inventory.account;
  const cleared: CleanRescan[] = [];
  // Without an account (the account has no IAM user to name it) the run can speak only of what it lists.
  const scopes =
    inventory.account !== undefined
      ? [accountScope(inventory.account)]
      : [...inventory.secrets.map((s) => s.arn), ...inventory.accessKeys.map((k) => k.userArn)].map((id) =>
          waitScope({ id }),
        );
  const unreported = await waitingForOwner(
    deps,
    scopes,
    (entry) => entry.scanners.includes(HYGIENE_SCANNER) && !scope.findingIds.has(entry.id),
  );
  for (const finding of unreported.filter(sameAccount)) {
    const evidence = hygieneEvidence(finding, inventory, deps.policy, now, reportName);
    const message = evidence && (await recordScanEvidence(deps, finding, evidence));
    if (message) cleared.push({ findingId: finding.id, message });
  }
  return { summary, cleared };
}
