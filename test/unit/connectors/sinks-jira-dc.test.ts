import { parseDeployConfig } from '@connectors/deploy-config';
import { readJiraDcConfig } from '@connectors/sinks/jira-dc/config';
import { commentText, draftText, escapeWiki } from '@connectors/sinks/jira-dc/wiki';
import { routeTicket } from '@core/tickets/routing';
import { parsePolicy } from '@core/policy/policy';

const env = { JIRA_DC_BASE_URL: 'https://jira.bank.example', JIRA_DC_PROJECT_KEY: 'SEC' };

describe('Jira Data Center: settings, text, routing', () => {
  it('reads its settings with Data Center defaults and names a missing variable', () => {
    expect(readJiraDcConfig(env, { token: 'pat' })).toMatchObject({
      baseUrl: 'https://jira.bank.example',
      token: 'pat',
      projectKey: 'SEC',
      searchLagMs: 60_000,
      bulkSize: 50,
      textFormat: 'wiki',
    });
    expect(() => readJiraDcConfig({ JIRA_DC_BASE_URL: 'https://jira.bank.example' }, { token: 'pat' })).toThrow(
      /^Jira Data Center configuration: "JIRA_DC_PROJECT_KEY"/,
    );
    expect(() => readJiraDcConfig(env)).toThrow(/"JIRA_DC_TOKEN"/);
    expect(() => readJiraDcConfig({ ...env, JIRA_DC_TEXT_FORMAT: 'adf' }, { token: 'pat' })).toThrow(
      /"JIRA_DC_TEXT_FORMAT"/,
    );
  });

  it('escapes wiki markup in text it did not write, and keeps commands in monospace', () => {
    expect(escapeWiki('a *b* _c_ {x} [y] -z- !i! |t|')).toBe(
      'a \\*b\\* \\_c\\_ \\{x\\} \\[y\\] \\-z\\- \\!i\\! \\|t\\|',
    );
    const text = draftText(
      {
        sections: [
          { heading: 'What', lines: ['key in src/*.env', 'closeloop exception request NHI-1 --until <YYYY-MM-DD>'] },
        ],
      },
      'wiki',
    );
    expect(text).toBe('h3. What\n* key in src/\\*.env\n* {{closeloop exception request NHI-1 --until <YYYY-MM-DD>}}');
    expect(draftText({ sections: [{ heading: 'What', lines: ['a *b*'] }] }, 'plain')).toBe('What\n- a *b*');
  });

  it('puts the work id at the end of every comment, where a retry finds it', () => {
    expect(commentText('sla.breached by closeloop', 'NHI-0123456789ABCDEF-7', 'wiki')).toBe(
      'closeloop: sla.breached by closeloop\n\n{color:#97a0af}{{closeloop work NHI-0123456789ABCDEF-7}}{color}',
    );
    expect(commentText('x'.repeat(40_000), 'W-1', 'plain').endsWith('(closeloop work W-1)')).toBe(true);
  });

  it('routes a team to Jira Data Center, Jira Cloud or ServiceNow; Data Center is the default after Cloud', () => {
    const policy = parsePolicy(
      {
        ticketRouting: [
          { when: { owner: 'team-payments' }, sink: { kind: 'jira-dc' } },
          { when: { owner: 'team-web' }, sink: { kind: 'jira', project: 'WEB' } },
          { when: { owner: 'team-ops' }, sink: { kind: 'servicenow', assignmentGroup: 'ops' } },
        ],
      },
      'p',
    );
    const finding = (owner: string) => ({
      owner,
      asset: { type: 'repository' as const, id: 'x' },
      severity: 'high' as const,
    });
    const configured = { jiraProject: 'SEC', jiraDcProject: 'BANK', servicenow: true };
    expect(routeTicket(finding('team-payments'), policy.ticketRouting, configured)).toEqual({
      kind: 'jira-dc',
      project: 'BANK',
    });
    expect(routeTicket(finding('team-web'), policy.ticketRouting, configured)).toEqual({
      kind: 'jira',
      project: 'WEB',
    });
    expect(routeTicket(finding('team-ops'), policy.ticketRouting, configured)).toEqual({
      kind: 'servicenow',
      assignmentGroup: 'ops',
    });
    expect(routeTicket(finding('other'), [], { jiraDcProject: 'BANK', servicenow: true })).toEqual({
      kind: 'jira-dc',
      project: 'BANK',
    });
    expect(() => routeTicket(finding('team-payments'), policy.ticketRouting, { servicenow: false })).toThrow(
      'a ticket route sends to Jira Data Center without a project and JIRA_DC_PROJECT_KEY is not set',
    );
  });

  it('takes Jira Data Center in the deploy file’s ticketing section, never its token', () => {
    expect(parseDeployConfig({ ticketing: { 'jira-dc': env } }, 'closeloop.json').ticketing).toEqual({
      'jira-dc': env,
    });
    expect(() =>
      parseDeployConfig({ ticketing: { 'jira-dc': { ...env, JIRA_DC_TOKEN: 'pat-value' } } }, 'closeloop.json'),
    ).toThrow(
      'closeloop.json: "ticketing.jira-dc.JIRA_DC_TOKEN" is a credential and never goes in the deploy file: after cdk deploy, put it in the TicketingSecret (stack output) as "jiraDcToken"',
    );
    expect(() =>
      parseDeployConfig({ policy: { ticketRouting: [{ sink: { kind: 'jira-dc' } }] } }, 'closeloop.json'),
    ).toThrow('closeloop.json: "policy.ticketRouting[0].sink" routes to jira-dc, but "ticketing.jira-dc" is not set');
    expect(() => parseDeployConfig({ ticketing: { 'jira-dc': { ...env, JIRA_DC_BULK_SIZE: 80 } } }, 'c.json')).toThrow(
      /^c\.json: "ticketing\.jira-dc\.JIRA_DC_BULK_SIZE"/,
    );
  });
});
