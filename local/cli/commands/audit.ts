import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import { writeDigest, type DigestOutcome } from '@core/audit/digest-writer';
import { verifyAuditTrail, type AuditVerification, type AuditVerifyDeps } from '@core/audit/verify';
import { RefusedError } from '@core/shared/errors';
import { DynamoAuditTrail } from '@core/store/dynamo-audit-trail';
import { SingleTable } from '@core/store/table';
import { policyFromFile, readHubConfig } from '@connectors/config';
import { deployedDigests, pinnedVerifyKey } from '@connectors/wiring/audit';
import type { LocalHub } from '../../hub';
import { EXIT, type Cli } from '../cli';

const chainName = (kind: string, id: string) => `${kind === 'finding' ? 'finding' : 'managed secret'} ${id}`;

/** The verification as people read it: the counts, every problem, what the digest covers and what it does not yet. */
export function verificationText(r: AuditVerification): { out: string[]; err: string[] } {
  const counts = `${r.findings} findings${r.secrets > 0 ? `, ${r.secrets} managed secrets` : ''}, ${r.events} events`;
  const out: string[] = [];
  const err: string[] = [];
  if (r.ok) out.push(`audit verify: ${counts}, every chain intact, every record's state bound to its chain`);
  else {
    err.push(`closeloop: audit verify: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} (${counts}):`);
    for (const p of r.problems)
      err.push(`  ${p.kind === 'digests' ? `digests ${p.id}` : chainName(p.kind, p.id)}: ${p.problem}`);
  }
  if (r.digest) {
    out.push(
      `  sealed by digest #${r.digest.seq} of ${r.digest.at} (${r.digest.chains} chains; ${r.digest.read} digest${r.digest.read === 1 ? '' : 's'} checked, signed by ${r.digest.keyId}; ${r.digest.location})`,
    );
    if (r.digest.stale)
      out.push('  warning: that digest is older than two digest intervals: is the digest writer running?');
    if (r.sinceDigest.length === 0) out.push('  nothing changed since that digest');
    else {
      out.push(
        `  changed since that digest, not yet sealed (protected by their hashes only until the next digest): ${r.sinceDigest.length} chain${r.sinceDigest.length === 1 ? '' : 's'}`,
      );
      for (const c of r.sinceDigest.slice(0, 20))
        out.push(
          `    ${chainName(c.kind, c.id)}: ${c.sealedCount === 0 ? `new, ${c.count} events` : `events ${c.sealedCount + 1}–${c.count} (sealed up to ${c.sealedCount})`}`,
        );
      if (r.sinceDigest.length > 20) out.push(`    … and ${r.sinceDigest.length - 20} more (--json lists them all)`);
    }
  } else
    out.push(
      '  no digest yet: nothing is sealed, so the chains hold only against edits that do not re-chain (`closeloop audit digest` seals them)',
    );
  if (r.unbound > 0)
    out.push(
      `  ${r.unbound} chain${r.unbound === 1 ? ' was' : 's were'} last written before state binding: their records' fields are bound from their next write on`,
    );
  return { out, err };
}

export function auditCommand(cli: Cli): Command {
  const audit = cli.command('audit').description('the audit trail: verify it, seal it with a signed digest');
  audit
    .command('verify')
    .description(
      'check every hash chain (found through its own partition), every record against the state its chain bound, and every head against the latest signed digest; exits 1 naming each problem',
    )
    .option('--json', 'print the result as JSON')
    .option('--all-digests', 'check every digest from the first, not only from the latest checkpoint')
    .option('--public-key <file>', 'check the digests with this PEM public key instead of the local key or KMS')
    .action(async (opts: { json?: boolean; allDigests?: boolean; publicKey?: string }) => {
      const config = readHubConfig();
      const print = (result: AuditVerification) => {
        if (opts.json) cli.io.out(JSON.stringify(result));
        else {
          const text = verificationText(result);
          text.out.forEach((line) => cli.io.out(line));
          text.err.forEach((line) => cli.io.err(line));
        }
        if (!result.ok) cli.exitWith(EXIT.failed);
      };
      const policy = policyFromFile(config.settings.CLOSELOOP_POLICY, []);
      const base = { now: () => new Date(), fromFirst: opts.allDigests === true };
      if (config.settings.CLOSELOOP_DIGEST_BUCKET) {
        // The deployed trail, read with the auditor's own AWS credentials: nothing deployed takes part.
        const tableName = config.require('CLOSELOOP_TABLE');
        const client = new DynamoDBClient({});
        try {
          const digests = await deployedDigests(config, opts.publicKey);
          print(
            await verifyAuditTrail(
              verifyDeps(new DynamoAuditTrail(new SingleTable(client, tableName)), tableName, {
                ...digests,
                intervalMinutes: policy.audit.digestIntervalMinutes,
                ...base,
              }),
            ),
          );
        } finally {
          client.destroy();
        }
        return;
      }
      await cli.withHub(async (hub) => {
        const local = await hub.digests();
        const key = opts.publicKey ? pinnedVerifyKey(opts.publicKey, undefined) : local.verifyKey;
        print(
          await verifyAuditTrail(
            verifyDeps(hub.auditTrail, hub.config.tableName, {
              archive: local.archive,
              key,
              intervalMinutes: hub.policy.audit.digestIntervalMinutes,
              ...base,
            }),
          ),
        );
      });
    });
  audit
    .command('digest')
    .description(
      'seal the trail now: a signed digest of every chain head that changed since the last one (`serve` writes one every policy interval)',
    )
    .option('--json', 'print the outcome as JSON')
    .action(async (opts: { json?: boolean }) => {
      if (readHubConfig().settings.CLOSELOOP_DIGEST_BUCKET)
        throw new RefusedError(
          "a deployed trail's digests are written by its digest writer only (its role alone may sign); unset CLOSELOOP_DIGEST_BUCKET to seal the local trail",
        );
      await cli.withHub(async (hub) => {
        const outcome = await writeLocalDigest(hub);
        cli.io.out(opts.json ? JSON.stringify(outcome) : digestLine(outcome));
        if (outcome.anomalies.length > 0) cli.exitWith(EXIT.failed);
      });
    });
  return audit;
}

function verifyDeps(
  trail: AuditVerifyDeps['trail'],
  trailName: string,
  digests: NonNullable<AuditVerifyDeps['digests']> & { now: () => Date },
): AuditVerifyDeps {
  const { now, ...rest } = digests;
  return { trail, trailName, digests: rest, now };
}

/** Writes the local trail's next digest. */
export async function writeLocalDigest(hub: LocalHub): Promise<DigestOutcome> {
  const { archive, signer } = await hub.digests();
  return writeDigest({
    trail: hub.auditTrail,
    archive,
    signer,
    trailName: hub.config.tableName,
    now: () => new Date(),
  });
}

/** One line on a digest written, and a line per chain it refused to seal. */
export function digestLine(outcome: DigestOutcome): string {
  return [
    `audit digest #${outcome.seq} (${outcome.kind}): ${outcome.changed} chain head${outcome.changed === 1 ? '' : 's'} sealed, ${outcome.sealed} sealed in all; ${outcome.key}`,
    ...outcome.anomalies.map(
      (a) =>
        `  not sealed: ${chainName(a.kind, a.id)}: ${a.anomaly}: ${a.detail} (the head sealed before stays sealed)`,
    ),
  ].join('\n');
}
