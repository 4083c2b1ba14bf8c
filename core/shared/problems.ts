import { describeValue } from './redaction';
import type { z } from 'zod';

/** `Resources[0].Id` from a zod path. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(record)';
}

function valueAt(record: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current: unknown = record;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

const ARTICLE: Record<string, string> = { array: 'an array', object: 'an object', integer: 'an integer' };

/**
 * Messages a person can act on, e.g. `"StartLine" must be a number, got "ten"`. Values of
 * secret-bearing fields are never shown; others are shortened and scrubbed.
 */
export function describeIssues(error: z.ZodError, record: unknown): string[] {
  return error.issues.slice(0, 5).map((issue) => {
    const path = formatPath(issue.path);
    const field = issue.path.length > 0 ? String(issue.path[issue.path.length - 1]) : undefined;
    const value = valueAt(record, issue.path);
    switch (issue.code) {
      case 'invalid_type': {
        if (value === undefined) return `"${path}" is required`;
        const expected = ARTICLE[issue.expected] ?? `a ${issue.expected}`;
        return `"${path}" must be ${expected}, got ${describeValue(value, field)}`;
      }
      case 'too_small':
        if (typeof value === 'string') return `"${path}" must not be empty`;
        if (Array.isArray(value)) return `"${path}" must have at least ${String(issue.minimum)} item(s)`;
        return `"${path}" must be ${issue.inclusive === false ? 'more than' : 'at least'} ${String(issue.minimum)}, got ${describeValue(value, field)}`;
      case 'too_big':
        if (typeof value === 'string') return `"${path}" must be at most ${String(issue.maximum)} characters`;
        if (Array.isArray(value)) return `"${path}" must have at most ${String(issue.maximum)} item(s)`;
        return `"${path}" must be ${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}, got ${describeValue(value, field)}`;
      case 'invalid_value':
        return `"${path}" must be one of ${issue.values.map(String).join(', ')}, got ${describeValue(value, field)}`;
      case 'invalid_format':
        // A pattern's own message says what is allowed (`must be a Jira project key such as SEC`).
        if (issue.format === 'regex' && issue.message.startsWith('must '))
          return `"${path}" ${issue.message}, got ${describeValue(value, field)}`;
        return `"${path}" must be a valid ${issue.format}, got ${describeValue(value, field)}`;
      case 'unrecognized_keys': {
        const names = issue.keys.map((k) => `"${issue.path.length > 0 ? `${path}.${k}` : k}"`).join(', ');
        return `${names} ${issue.keys.length > 1 ? 'are not known fields' : 'is not a known field'}`;
      }
      default:
        return `"${path}": ${issue.message}`;
    }
  });
}

/** Parses with a schema and turns failure into problems. */
export function parseRecord<T>(
  schema: z.ZodType<T>,
  record: unknown,
): { ok: true; value: T } | { ok: false; problems: string[] } {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return { ok: false, problems: [`must be a JSON object, got ${describeValue(record)}`] };
  }
  const result = schema.safeParse(record);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, problems: describeIssues(result.error, record) };
}
