import { describeValue } from '@core/shared/redaction';
import { describeIssues } from '@core/shared/problems';
import { GithubAlertSchema } from '@connectors/sources/github';

describe('values shown in error messages', () => {
  const token = 'ghp_CloseloopFake00000000000000000000000';

  it('redacts a secret that starts inside the first 40 characters and ends after them, then cuts', () => {
    const value = `${'x'.repeat(30)} ${token}`;
    const shown = describeValue(value);
    expect(shown).toBe(`"${'x'.repeat(30)} [REDACTED…"`);
    for (let n = 4; n <= token.length; n++)
      expect(shown).not.toContain(token.slice(0, n).slice(-4) + token.slice(n, n + 1));
    expect(shown).not.toContain('ghp_Clo');
  });

  it('keeps the secret out of a schema problem about that field and its quarantine text', () => {
    const result = GithubAlertSchema.safeParse({
      number: 1,
      state: `resolved by ${'y'.repeat(20)} ${token}`,
      secret_type: 'x',
    });
    expect(result.success).toBe(false);
    const problems = describeIssues(result.error!, { state: `resolved by ${'y'.repeat(20)} ${token}` });
    expect(problems.join(' ')).not.toContain('ghp_C');
    expect(problems).toContain(`"state" must be one of open, resolved, got "resolved by ${'y'.repeat(20)} [REDACT…"`);
  });
});
