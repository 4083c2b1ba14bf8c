import type { z } from 'zod';
import { describeIssues } from '@core/problems';

/** Field-named problems of an inbound payload (values redacted). */
export function problemsOf(error: z.ZodError, body: unknown): string[] {
  return describeIssues(error, body);
}
