import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import type { SourceRef } from '@core/finding/model';
import { ConfigurationError } from '@core/shared/errors';
import type { SourceWriter } from '@core/writeback/ports';
import type { HubConfig } from '../config';
import { listOf } from '../config';
import type { GithubScope } from '../sources/pull';
import { GithubWriter, type GithubWriterConfig } from '../writeback/github';
import { GitguardianWriter, type GitguardianWriterConfig } from '../writeback/gitguardian';
import { SecurityHubWriter } from '../writeback/securityhub';
import type { LambdaServices } from './lambda';

/**
 * The scanners' credentials on AWS (JSON), filled in by the operator after `cdk deploy`: the GitHub
 * token (pull and write-back) and webhook secret, the GitGuardian API key.
 */
export const SourcesSecretSchema = z
  .object({
    githubToken: z.string().min(1),
    githubWebhookSecret: z.string().min(16),
    gitguardianApiKey: z.string().min(1),
  })
  .partial();
export type SourcesSecret = z.infer<typeof SourcesSecretSchema>;

/** The scanners the hub reads from and writes back to, with their credentials. */
export interface SourceSettings {
  github?: GithubWriterConfig;
  gitguardian?: GitguardianWriterConfig;
  /** Security Hub (CSPM and the new one): deployed always; locally only with AWS_ENDPOINT_URL_SECURITYHUB. */
  securityHub?: SecurityHubClient;
}

/**
 * Where every scanner write-back is wired, for the local hub and the Lambdas alike: one writer per
 * kind of scanner record. A scanner added here is written back to everywhere.
 */
export function buildWriters(
  settings: SourceSettings,
  http: AxiosInstance = axios.create(),
): Partial<Record<SourceRef['system'], SourceWriter>> {
  const securityHub = settings.securityHub ? new SecurityHubWriter(settings.securityHub) : undefined;
  return {
    ...(settings.github ? { github: new GithubWriter(http, settings.github) } : {}),
    ...(settings.gitguardian ? { gitguardian: new GitguardianWriter(http, settings.gitguardian) } : {}),
    ...(securityHub ? { securityhub: securityHub, securityhub_v2: securityHub } : {}),
  };
}

/** Locally: the scanners whose credentials are variables (GITHUB_TOKEN, GITGUARDIAN_API_KEY), and Security Hub at its endpoint. */
export function localSourceSettings(config: HubConfig): SourceSettings {
  const s = config.settings;
  return {
    ...(s.GITHUB_TOKEN ? { github: { apiUrl: s.GITHUB_API_URL, token: s.GITHUB_TOKEN } } : {}),
    ...(s.GITGUARDIAN_API_KEY ? { gitguardian: { apiUrl: s.GITGUARDIAN_API_URL, token: s.GITGUARDIAN_API_KEY } } : {}),
    ...(s.AWS_ENDPOINT_URL_SECURITYHUB ? { securityHub: new SecurityHubClient({}) } : {}),
  };
}

/** The scanners the deploy file configures (CLOSELOOP_SOURCES), each checked by name. */
export function configuredSources(config: HubConfig): Set<'github' | 'gitguardian'> {
  const names = listOf(config.settings.CLOSELOOP_SOURCES);
  for (const name of names)
    if (name !== 'github' && name !== 'gitguardian')
      throw new ConfigurationError(`CLOSELOOP_SOURCES: unknown source "${name}" (github, gitguardian)`);
  return new Set(names as Array<'github' | 'gitguardian'>);
}

/**
 * On AWS: the sources secret (CLOSELOOP_SOURCES_SECRET, required now), read through Powertools and
 * cached for five minutes, so a rotated token is picked up within that.
 */
export function lambdaSourceCredentials(services: LambdaServices) {
  const arn = services.config.require('CLOSELOOP_SOURCES_SECRET');
  return {
    async read(): Promise<SourcesSecret> {
      const value = await getSecret(arn, { transform: 'json', maxAge: 300 });
      const parsed = SourcesSecretSchema.safeParse(value ?? {});
      if (!parsed.success)
        throw new ConfigurationError(
          `the sources secret: ${parsed.error.issues.map((i) => `"${i.path.join('.')}" ${i.message}`).join('; ')}`,
        );
      return parsed.data;
    },
  };
}

/** A credential the sources secret must hold for this function: the message says where it goes. */
export function required<K extends keyof SourcesSecret>(
  secret: SourcesSecret,
  field: K,
): NonNullable<SourcesSecret[K]> {
  const value = secret[field];
  if (!value)
    throw new ConfigurationError(`the sources secret has no "${field}": put it in the SourcesSecret (stack output)`);
  return value as NonNullable<SourcesSecret[K]>;
}

/**
 * On AWS: the write-back's writers, built per invocation from the sources secret (when the deploy
 * file configures GitHub or GitGuardian) and Security Hub, which every deployment ingests from.
 */
export function lambdaWriteback(services: LambdaServices) {
  const sources = configuredSources(services.config);
  const credentials = sources.size > 0 ? lambdaSourceCredentials(services) : undefined;
  const securityHub = new SecurityHubClient({});
  const http = axios.create();
  const s = services.config.settings;
  return {
    async writers() {
      const secret = credentials ? await credentials.read() : {};
      return buildWriters(
        {
          securityHub,
          ...(sources.has('github')
            ? { github: { apiUrl: s.GITHUB_API_URL, token: required(secret, 'githubToken') } }
            : {}),
          ...(sources.has('gitguardian')
            ? { gitguardian: { apiUrl: s.GITGUARDIAN_API_URL, token: required(secret, 'gitguardianApiKey') } }
            : {}),
        },
        http,
      );
    },
  };
}

/** `org:acme,repo:acme/api` (CLOSELOOP_GITHUB_SCOPES) as pull scopes; a bad entry names itself. */
export function githubScopes(text: string | undefined): GithubScope[] {
  return listOf(text).map((entry) => {
    const m = /^(org|repo):(.+)$/.exec(entry);
    if (m?.[1] === 'org' && /^[\w.-]+$/.test(m[2]!)) return { org: m[2]! };
    if (m?.[1] === 'repo' && /^[\w.-]+\/[\w.-]+$/.test(m[2]!)) return { repo: m[2]! };
    throw new ConfigurationError(
      `CLOSELOOP_GITHUB_SCOPES: ${JSON.stringify(entry.slice(0, 80))} is not org:<organisation> or repo:<owner>/<name>`,
    );
  });
}
