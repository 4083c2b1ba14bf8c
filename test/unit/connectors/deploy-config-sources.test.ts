import { githubPullScopes, parseDeployConfig } from '@connectors/deploy-config';
import { ConfigurationError } from '@core/shared/errors';

const problem = (json: unknown) => {
  try {
    parseDeployConfig(json, 'closeloop.json');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigurationError);
    return (err as Error).message;
  }
  throw new Error('expected the deploy file to be refused');
};

describe('the deploy file’s sources section', () => {
  it('takes the scanners to connect, as in the issue: GitHub for an organisation and GitGuardian', () => {
    const config = parseDeployConfig({ sources: { github: { org: 'acme' }, gitguardian: {} } }, 'closeloop.json');
    expect(config.sources).toEqual({ github: { org: 'acme' }, gitguardian: {} });
    expect(githubPullScopes(config.sources!.github!)).toEqual(['org:acme']);
  });

  it('pulls organisations and repositories of a GitHub Enterprise Server on a schedule, each scope once', () => {
    const config = parseDeployConfig(
      {
        sources: {
          github: {
            orgs: ['acme', 'acme-labs'],
            repo: 'partner/api',
            repos: ['partner/api', 'partner/web'],
            apiUrl: 'https://ghe.acme.example/api/v3',
            scheduleMinutes: 30,
          },
        },
      },
      'closeloop.json',
    );
    expect(githubPullScopes(config.sources!.github!)).toEqual([
      'org:acme',
      'org:acme-labs',
      'repo:partner/api',
      'repo:partner/web',
    ]);
  });

  it('refuses a token in the file, naming where it goes and never repeating it', () => {
    const message = problem({ sources: { github: { org: 'acme', token: 'ghp_neverInTheFile0000000000000000000' } } });
    expect(message).toBe(
      'closeloop.json: "sources.github.token" is a credential and never goes in the deploy file: after cdk deploy, put it in the SourcesSecret (stack output) as "githubToken / gitguardianApiKey"',
    );
    expect(problem({ sources: { gitguardian: { GITGUARDIAN_API_KEY: 'x' } } })).toContain(
      '"sources.gitguardian.GITGUARDIAN_API_KEY" is a credential',
    );
  });

  it('names the field of a bad value or an unknown one', () => {
    expect(problem({ sources: { github: { org: 'acme/api' } } })).toBe(
      'closeloop.json: "sources.github.org" must be a GitHub organisation name (letters, digits, "-", "_", "."), got "acme/api"',
    );
    expect(problem({ sources: { github: { repos: ['api'] } } })).toBe(
      'closeloop.json: "sources.github.repos[0]" must be owner/name, got "api"',
    );
    expect(problem({ sources: { gitguardian: { apiUrl: 'http://gg.internal' } } })).toContain(
      '"sources.gitguardian.apiUrl" must be an https:// URL',
    );
    expect(problem({ sources: { github: { scheduleMinutes: 1 } } })).toContain(
      '"sources.github.scheduleMinutes" must be at least 5',
    );
    expect(problem({ sources: { gitlab: {} } })).toContain('"sources.gitlab"');
  });
});
