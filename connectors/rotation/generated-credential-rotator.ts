import { GetRandomPasswordCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { CloseloopError } from '@core/shared/errors';
import type { Rotator } from '@core/rotation/ports';
import { requestWithRetry, type RetryPolicy } from '../http/retrying-http';
import { parseSecretJson } from './secret-json';

/**
 * The secret JSON of a generated credential: the value, how to generate the next one, and
 * where to register it (`registerUrl`/`verifyUrl` for the HTTP target). Fields other than
 * `value` are configuration and are carried over to each new version.
 */
export const GeneratedCredentialSecretSchema = z
  .object({
    value: z.string().min(1),
    length: z.number().int().min(16).max(4096).optional(),
    excludePunctuation: z.boolean().optional(),
    registerUrl: z.url().optional(),
    verifyUrl: z.url().optional(),
  })
  .loose();
export type GeneratedCredentialSecret = z.infer<typeof GeneratedCredentialSecretSchema>;

/**
 * Where a generated credential is put in place (setSecret) and proven (testSecret), e.g. a
 * SaaS API that accepts a new API key. Pluggable: pass your own to `generatedCredentialRotator`.
 */
export interface CredentialTarget {
  register(pending: GeneratedCredentialSecret, current: GeneratedCredentialSecret): Promise<void>;
  verify(pending: GeneratedCredentialSecret): Promise<void>;
  /** Withdraws a registered credential that lost (optional). */
  withdraw?(pending: GeneratedCredentialSecret, current: GeneratedCredentialSecret): Promise<void>;
}

/**
 * The HTTP target (without `registerUrl` in the secret there is nothing to register: consumers
 * read the credential from Secrets Manager): `POST registerUrl` authenticated with the current credential
 * (`Authorization: Bearer <current>`) and body `{"credential": <new>}` registers the new one
 * (409 = already registered: a retry); `GET verifyUrl` with the new credential must answer 2xx.
 * Retries honour Retry-After; the registration is not blindly repeated on an ambiguous failure.
 */
export function httpCredentialTarget(http: AxiosInstance, retry: RetryPolicy): CredentialTarget {
  return {
    async register(pending, current) {
      if (!pending.registerUrl) return; // consumers read it from Secrets Manager: nothing to register
      await requestWithRetry(
        http,
        {
          method: 'POST',
          url: pending.registerUrl,
          headers: { authorization: `Bearer ${current.value}` },
          data: { credential: pending.value },
          validateStatus: (s) => (s >= 200 && s < 300) || s === 409,
        },
        retry,
        { idempotent: false },
      );
    },
    async verify(pending) {
      if (!pending.verifyUrl) return;
      await requestWithRetry(
        http,
        { method: 'GET', url: pending.verifyUrl, headers: { authorization: `Bearer ${pending.value}` } },
        retry,
      );
    },
  };
}

/**
 * Rotates a generated credential: createSecret asks Secrets Manager for a random value
 * (GetRandomPassword), setSecret registers it with the target, testSecret verifies it there.
 */
export function generatedCredentialRotator(
  secretsManager: SecretsManagerClient,
  target: CredentialTarget,
): Rotator<GeneratedCredentialSecret> {
  return {
    kind: 'generated_credential',
    parse: (secretString) =>
      parseSecretJson(secretString, GeneratedCredentialSecretSchema, 'a generated credential {"value", …}'),
    serialize: (value) => JSON.stringify(value),
    async create(current) {
      const out = await secretsManager.send(
        new GetRandomPasswordCommand({
          PasswordLength: current.length ?? 40,
          ExcludePunctuation: current.excludePunctuation ?? true,
          RequireEachIncludedType: true,
        }),
      );
      if (!out.RandomPassword) throw new CloseloopError('GetRandomPassword returned no value');
      return { ...current, value: out.RandomPassword };
    },
    set: (pending, current) => target.register(pending, current),
    test: (pending) => target.verify(pending),
    async discard(pending, current) {
      if (pending.value !== current.value) await target.withdraw?.(pending, current);
    },
  };
}
