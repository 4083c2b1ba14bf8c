import { existsSync } from 'node:fs';
import { FIXTURES, fixturePath } from '@test/support/shared-fixtures';

describe('the third-party samples', () => {
  it('are where the contract suite reads them', () => {
    expect(existsSync(fixturePath('SOURCES.md'))).toBe(true);
    expect(existsSync(fixturePath('jira', 'jira-platform-v3.openapi.json'))).toBe(true);
    expect(FIXTURES).not.toContain('test/fixtures');
  });
});
