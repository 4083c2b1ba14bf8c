import type { Clock } from '@core/shared/clock';
import type { OwnerDirectory } from '@core/policy/ports';
import { LocalTrackerSink } from '@core/store/local-tracker';
import type { SingleTable } from '@core/store/table';
import type { SinkKind } from '@core/tickets/model';
import type { TicketSink } from '@core/tickets/ports';
import type { SyncDeps } from '@core/tickets/sync';
import type { HubConfig } from '../config';
import { jiraConfigured, jiraInboundSettings, readJiraConfig, type JiraConfig } from '../sinks/jira/config';
import type { WebhookDeps } from '../api/webhooks';
import { JiraSink } from '../sinks/jira/jira-sink';
import { jiraDcConfigured, jiraDcInboundSettings, readJiraDcConfig, type JiraDcConfig } from '../sinks/jira-dc/config';
import { JiraDcSink } from '../sinks/jira-dc/jira-dc-sink';
import { servicenowHttp } from '../sinks/servicenow/client';
import { ServiceNowCmdb } from '../sinks/servicenow/cmdb';
import {
  readServiceNowConfig,
  servicenowConfigured,
  servicenowInboundStates,
  type ServiceNowConfig,
} from '../sinks/servicenow/config';
import { ServiceNowSink } from '../sinks/servicenow/servicenow-sink';
import type { LambdaServices, TicketingSecret } from './lambda';

/** The ticketing systems that are configured, with their credentials. */
export interface SinkConfigs {
  jira?: JiraConfig;
  jiraDc?: JiraDcConfig;
  servicenow?: ServiceNowConfig;
}

/**
 * Jira and ServiceNow as the configuration names them. The credentials come from the
 * environment locally, and from the ticketing secret on AWS (`credentials`).
 */
export function sinkConfigs(config: HubConfig, credentials: TicketingSecret = {}): SinkConfigs {
  const servicenow = servicenowSettings(config, credentials);
  return {
    ...(jiraConfigured(config.env)
      ? { jira: readJiraConfig(config.env, credentials.jiraApiToken ? { apiToken: credentials.jiraApiToken } : {}) }
      : {}),
    ...(jiraDcConfigured(config.env)
      ? { jiraDc: readJiraDcConfig(config.env, credentials.jiraDcToken ? { token: credentials.jiraDcToken } : {}) }
      : {}),
    ...(servicenow ? { servicenow } : {}),
  };
}

function servicenowSettings(config: HubConfig, credentials: TicketingSecret): ServiceNowConfig | undefined {
  if (!servicenowConfigured(config.env)) return undefined;
  return readServiceNowConfig(config.env, {
    ...(credentials.servicenowPassword ? { password: credentials.servicenowPassword } : {}),
    ...(credentials.servicenowToken ? { token: credentials.servicenowToken } : {}),
  });
}

/**
 * The Jira / ServiceNow settings, checked at start-up so that a missing variable fails a Lambda's
 * cold start naming it, not its first ticket. Their credentials are read from the ticketing secret
 * at first use, so any value stands in for them here.
 */
export function checkSinkSettings(config: HubConfig): void {
  sinkConfigs(config, {
    jiraApiToken: 'read-at-first-use',
    jiraDcToken: 'read-at-first-use',
    ...(config.env.SERVICENOW_USER
      ? { servicenowPassword: 'read-at-first-use' }
      : { servicenowToken: 'read-at-first-use' }),
  });
}

/** The sinks of the hub: its own local tracker always, Jira (Cloud, Data Center) and ServiceNow when configured, and the CMDB. */
export interface Ticketing {
  tracker: LocalTrackerSink;
  sinks: Partial<Record<SinkKind, TicketSink>>;
  /** For routing: the default Jira project, and whether ServiceNow is configured. */
  configured: SyncDeps['configured'];
  /** ServiceNow's CMDB: NHIs upserted as CIs, owners read for triage. */
  cmdb?: ServiceNowCmdb;
}

/** Where every ticket sink is wired, for the local hub and the Lambdas alike. A new sink is added here. */
export function buildTicketing(table: SingleTable, settings: SinkConfigs, clock: Clock): Ticketing {
  const tracker = new LocalTrackerSink(table, () => clock.now());
  const sn = settings.servicenow;
  const snHttp = sn ? servicenowHttp(sn) : undefined;
  return {
    tracker,
    sinks: {
      local: tracker,
      ...(settings.jira ? { jira: new JiraSink(settings.jira) } : {}),
      ...(settings.jiraDc ? { 'jira-dc': new JiraDcSink(settings.jiraDc) } : {}),
      ...(sn && snHttp ? { servicenow: new ServiceNowSink(sn, snHttp) } : {}),
    },
    configured: {
      ...(settings.jira ? { jiraProject: settings.jira.projectKey } : {}),
      ...(settings.jiraDc ? { jiraDcProject: settings.jiraDc.projectKey } : {}),
      servicenow: Boolean(sn),
    },
    ...(sn && snHttp ? { cmdb: new ServiceNowCmdb(sn, snHttp) } : {}),
  };
}

/** The sync's dependencies over the hub's ticketing. */
export function ticketSync(
  ticketing: Ticketing,
  base: Pick<SyncDeps, 'store' | 'tickets' | 'clock' | 'policy' | 'worker'>,
): SyncDeps {
  return {
    ...base,
    sinks: ticketing.sinks,
    configured: ticketing.configured,
    ...(ticketing.cmdb ? { cmdb: ticketing.cmdb } : {}),
  };
}

/**
 * How inbound ticket webhooks read Jira (Cloud and Data Center) and ServiceNow: resolutions,
 * states, decisions, the hub's own users (no connection settings needed).
 */
export function webhookSettings(config: HubConfig): Pick<WebhookDeps, 'jira' | 'jiraDc' | 'servicenow'> {
  return {
    jira: jiraInboundSettings(config.env),
    jiraDc: jiraDcInboundSettings(config.env),
    servicenow: servicenowInboundStates(config.env),
  };
}

/**
 * On AWS: the ticketing of one invocation, its credentials read from the ticketing secret
 * (Powertools caches it for five minutes, so a rotated credential is picked up within that).
 */
export function lambdaTicketing(services: LambdaServices) {
  checkSinkSettings(services.config);
  const credentials = services.ticketingCredentials();
  return {
    credentials,
    async ticketing(): Promise<Ticketing> {
      return buildTicketing(services.table, sinkConfigs(services.config, await credentials.read()), services.clock);
    },
  };
}

/**
 * On AWS: the CMDB as the lifecycle's owner directory (first in the owner chain) when ServiceNow
 * is configured, built on first use, since its credentials come from the ticketing secret.
 */
export function lambdaCmdbDirectory(services: LambdaServices): OwnerDirectory | undefined {
  if (!servicenowConfigured(services.config.env)) return undefined;
  checkSinkSettings(services.config);
  const credentials = services.ticketingCredentials();
  let cmdb: ServiceNowCmdb | undefined;
  return {
    async ownerOf(asset) {
      if (!cmdb) {
        const sn = servicenowSettings(services.config, await credentials.read())!;
        cmdb = new ServiceNowCmdb(sn, servicenowHttp(sn));
      }
      return cmdb.ownerOf(asset);
    },
  };
}
