import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import axios, { type AxiosInstance } from 'axios';
import { SecretHasher } from '@core/finding/identity';
import type { DecisionDeps, LifecycleSignaller } from '@core/lifecycle/decisions';
import type { Policy } from '@core/policy/policy';
import type { ReportSource } from '@core/reports/ports';
import type { ExportFiles } from '@core/reports/exports';
import { fixedClock, systemClock, type Clock } from '@core/shared/clock';
import { deriveKey } from '@core/shared/keys';
import type { DigestArchive, DigestSigner, DigestVerifyKey } from '@core/audit/ports';
import { DynamoAuditTrail } from '@core/store/dynamo-audit-trail';
import { DynamoFindingStore } from '@core/store/dynamo-finding-store';
import { WriteBehindFindingStore } from '@core/finding/write-behind';
import { DynamoManagedSecretStore } from '@core/store/dynamo-managed-secret-store';
import { DynamoReportSource } from '@core/store/dynamo-report-source';
import { DynamoTicketStore } from '@core/store/dynamo-ticket-store';
import { ensureTable } from '@core/store/ensure-table';
import type { LocalTrackerSink } from '@core/store/local-tracker';
import { SingleTable } from '@core/store/table';
import { runNotifier, type NotifyResult } from '@core/notify/notifier';
import { syncTickets, type SyncResult } from '@core/tickets/sync';
import { DynamoWritebackStore } from '@core/store/dynamo-writeback-store';
import { syncWriteback, type WritebackResult } from '@core/writeback/sync';
import type { WebhookDeps } from '@connectors/api/webhooks';
import type { GithubWebhookDeps } from '@connectors/api/github-webhook';
import { policyFromFile } from '@connectors/config';
import { awsClients, buildOwnerChain, buildRotation, type Rotation } from '@connectors/wiring/aws';
import { buildNotifier, localNotifierSettings } from '@connectors/wiring/notify';
import { buildTicketing, ticketSync, webhookSettings, type Ticketing } from '@connectors/wiring/ticketing';
import { buildWriters, localSourceSettings } from '@connectors/wiring/sources';
import type { LocalConfig } from './config';
import { localDigestArchive, localDigestKeys } from './audit-digests';
import { loadOrCreateLocalDeploymentKey } from './deployment-key';
import { localClient, startDynamoDbLocal, type RunningDynamoDb } from './dynamodb-local';
import { localExportFiles } from './export-files';
import { LocalLifecycleRunner, type LocalRun } from './lifecycle-runner';
import { LocalRotationRunner } from './rotation-runner';

/** Everything a local command needs, wired once: commands get their adapters from here only. */
export interface LocalHub {
  config: LocalConfig;
  client: DynamoDBClient;
  table: SingleTable;
  store: DynamoFindingStore;
  hasher: SecretHasher;
  /** Signs the report API's cursors (`serve`): derived from the local deployment key. */
  reportCursorKey: Buffer;
  clock: Clock;
  /** Whether the table had to be created by this start. */
  tableStatus: 'created' | 'exists' | 'updated';
  policy: Policy;
  lifecycles: LocalLifecycleRunner;
  /** Rotation against AWS endpoints or as a dry run (config.rotation), and the machine that runs it. */
  rotation: Rotation;
  rotations: LocalRotationRunner;
  tickets: DynamoTicketStore;
  ticketing: Ticketing;
  tracker: LocalTrackerSink;
  /** Managed secrets' rotation records (audit verify). */
  secrets: DynamoManagedSecretStore;
  /** Every hash chain, found through its own partition (audit verify, digests). */
  auditTrail: DynamoAuditTrail;
  /** The local digests: files under the home, signed with the local Ed25519 key (created on first use). */
  digests(): Promise<{ archive: DigestArchive; signer: DigestSigner; verifyKey: DigestVerifyKey }>;
  /** A fresh source per report (it counts the reads of one report). */
  reportSource(): ReportSource;
  /** Report export files under the hub's home, handed out by `serve` at `baseUrl()`. */
  exportFiles(baseUrl: () => string): ExportFiles;
  /** The HTTP client of the pull connectors. */
  http: AxiosInstance;
  /**
   * Decisions resume the local runner at the phase boundary after the wait; its `launcher` (the
   * runner) starts lifecycles right after an ingest's commit, in the same command.
   */
  decisions: DecisionDeps & { launcher: LocalLifecycleRunner };
  /** What the local webhook routes need: the decisions plus the ticket store and webhook settings. */
  webhooks: WebhookDeps;
  /** `POST /webhooks/github` (GITHUB_WEBHOOK_SECRET). */
  githubWebhook: GithubWebhookDeps;
  /** The write-back outbox: what the scanners that reported each finding are told. */
  writeback: DynamoWritebackStore;
  /**
   * Pushes pending ticket (and CMDB) work to the configured sinks, then tells the scanners what
   * became of their findings (GitHub, GitGuardian, Security Hub, as configured).
   */
  sync(options?: { deadlineMs?: number }): Promise<SyncResult & { writeback: WritebackResult }>;
  /**
   * Tells people where they read: routes new notices to the policy's channels and sends each its
   * digest (webhook URLs from `$CLOSELOOP_HOME/notify-webhooks.json`, read at every run).
   */
  notify(): Promise<NotifyResult>;
  close(): Promise<void>;
}

/** One line on where a local run stands: parked at a wait, or ended. */
export function describeRun(id: string, run: LocalRun): string {
  if (run.outcome === 'parked') return `${id}: waiting at ${run.parkedAt}`;
  return `${id}: lifecycle ${run.outcome}`;
}

/**
 * Opens the hub on the configured DynamoDB: AWS_ENDPOINT_URL_DYNAMODB when set, otherwise an
 * embedded DynamoDB Local with its data under CLOSELOOP_HOME. Creates the table if missing.
 */
export async function openLocalHub(config: LocalConfig): Promise<LocalHub> {
  const policy = policyFromFile(config.policyFile, config.approvers);
  let dynamo: RunningDynamoDb | undefined;
  const endpoint =
    config.dynamoEndpoint ?? (dynamo = await startDynamoDbLocal({ dataDir: join(config.home, 'dynamodb') })).endpoint;
  const client = localClient(endpoint);
  try {
    const tableStatus = await ensureTable(client, config.tableName);
    // Lifecycles and ticket syncs run side by side here: their single-item requests go out merged.
    const table = new SingleTable(client, config.tableName, config.groupCommit ? { groupCommit: {} } : {});
    const deploymentKey = await loadOrCreateLocalDeploymentKey(config.home);
    const hasher = new SecretHasher(deploymentKey);
    const store = new DynamoFindingStore(table);
    const clock = config.now ? fixedClock(config.now) : systemClock;
    const tickets = new DynamoTicketStore(table);
    const ticketing = buildTicketing(table, config, clock);
    // AWS clients only when AWS endpoints are configured (there is no AWS locally otherwise).
    const aws = config.rotation === 'aws' ? awsClients() : undefined;
    const rotation = buildRotation(hasher, aws);
    // A lifecycle's start (triage, route, plan, its first wait) is held in memory and written once;
    // with group commit off, every step writes alone, as the Lambdas do.
    const lifecycleStore = config.groupCommit ? new WriteBehindFindingStore(store) : store;
    const rotations = new LocalRotationRunner({ store: lifecycleStore, clock, policy, control: rotation.control });
    const lifecycles = new LocalLifecycleRunner({
      store: lifecycleStore,
      clock,
      policy,
      remediation: rotations,
      ...buildOwnerChain({ policy, directory: ticketing.cmdb, clients: aws }),
    });
    const signaller: LifecycleSignaller = {
      signal: async (finding, resumeAt, signal) =>
        describeRun(finding.id, await lifecycles.resume(finding, resumeAt, { signal })),
    };
    // Decisions resume the runner; what they (and every ingest through the hub) create starts at once.
    const decisions = { store, clock, policy, signaller, launcher: lifecycles };
    const worker = `local-${process.pid}-${randomUUID().slice(0, 8)}`;
    const http = axios.create();
    const writeback = new DynamoWritebackStore(table);
    const writers = buildWriters(localSourceSettings(config.hub), http);
    const secrets = new DynamoManagedSecretStore(table);
    return {
      config,
      client,
      table,
      store,
      hasher,
      reportCursorKey: deriveKey(deploymentKey, 'report-cursor'),
      clock,
      tableStatus,
      policy,
      lifecycles,
      rotation,
      rotations,
      tickets,
      ticketing,
      tracker: ticketing.tracker,
      secrets,
      auditTrail: new DynamoAuditTrail(table),
      digests: async () => ({ archive: localDigestArchive(config.home), ...(await localDigestKeys(config.home)) }),
      reportSource: () => new DynamoReportSource(table),
      exportFiles: (baseUrl) => localExportFiles(config.home, baseUrl),
      http,
      writeback,
      decisions,
      webhooks: {
        ...decisions,
        tickets,
        secrets: config.webhookSecrets,
        ...webhookSettings(config.hub),
      },
      githubWebhook: {
        ...decisions,
        tickets,
        hasher,
        ...(config.hub.settings.GITHUB_WEBHOOK_SECRET ? { secret: config.hub.settings.GITHUB_WEBHOOK_SECRET } : {}),
      },
      sync: async (options) => {
        const synced = await syncTickets(ticketSync(ticketing, { store, tickets, clock, policy, worker }), options);
        // After the tickets: a ticket just created is news for Security Hub (NOTIFIED) in the same run.
        const written = await syncWriteback({ store, work: writeback, clock, policy, writers, worker }, options);
        return { ...synced, writeback: written };
      },
      notify: () =>
        runNotifier(
          buildNotifier({
            table,
            findings: store,
            secrets,
            clock,
            policy,
            worker,
            ...localNotifierSettings(config.hub, config.home),
          }),
        ),
      close: async () => {
        client.destroy();
        await dynamo?.stop();
      },
    };
  } catch (err) {
    client.destroy();
    await dynamo?.stop();
    throw err;
  }
}
