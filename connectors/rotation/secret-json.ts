import type { z } from 'zod';

/**
 * Parses a secret's JSON. A problem names the field and what is wrong with it, never a value:
 * the text being parsed is a credential.
 */
export function parseSecretJson<T>(secretString: string, schema: z.ZodType<T>, expected: string): T {
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch {
    throw new Error(`the secret value is not JSON: expected ${expected}`);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .slice(0, 5)
    .map(
      (issue) =>
        `"${issue.path.join('.') || '(value)'}" ${issue.code === 'invalid_type' ? `must be ${issue.expected}` : issue.message}`,
    );
  throw new Error(`the secret value is not ${expected}: ${problems.join('; ')}`);
}
