import type { z } from 'zod';
import { CloseloopError } from '@core/shared/errors';

/** A secret's value is not what its rotator expects. The message names fields, never a value. */
export class SecretValueError extends CloseloopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretValueError';
  }
}

/**
 * Parses a secret's JSON. A problem names the field and what is wrong with it, never a value:
 * the text being parsed is a credential.
 */
export function parseSecretJson<T>(secretString: string, schema: z.ZodType<T>, expected: string): T {
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch {
    // Not kept as the cause: V8's SyntaxError quotes the text, which is the secret.
    throw new SecretValueError(`the secret value is not JSON: expected ${expected}`);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .slice(0, 5)
    .map(
      (issue) =>
        `"${issue.path.join('.') || '(value)'}" ${issue.code === 'invalid_type' ? `must be ${issue.expected}` : issue.message}`,
    );
  throw new SecretValueError(`the secret value is not ${expected}: ${problems.join('; ')}`);
}
