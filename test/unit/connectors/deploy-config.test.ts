import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEPLOY_CONFIG_SECTIONS, parseDeployConfig } from '@connectors/deploy-config';
import { readJiraConfig } from '@connectors/sinks/jira/config';
import { readServiceNowConfig } from '@connectors/sinks/servicenow/config';
import { ConfigurationError } from '@core/shared/errors';
import { parsePolicy } from '@core/policy/policy';

const SAMPLE = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'samples', 'closeloop.json'), 'utf8')) as {
  policy: Record<string, unknown>;
  ticketing: { jira: Record<string, string>; servicenow: Record<string, string> };
  rotation: Record<string, unknown>;
};
const JIRA = { JIRA_BASE_URL: 'https://acme.atlassian.net', JIRA_EMAIL: 'bot@acme.example', JIRA_PROJECT_KEY: 'SEC' };

const problem = (json: unknown) => {
  try {
    parseDeployConfig(json, 'closeloop.json');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigurationError);
    return (err as Error).message;
  }
  throw new Error('expected the deploy file to be refused');
};

describe('the deploy file', () => {
  it('accepts the sample, and hands each section over as the functions will read it', () => {
    const config = parseDeployConfig(SAMPLE, 'closeloop.json');
    expect(config.policy).toEqual(SAMPLE.policy);
    expect(config.ticketing).toEqual(SAMPLE.ticketing);
    expect(config.rotation).toEqual(SAMPLE.rotation);
    // What the functions do with it at start-up succeeds (credentials come from the TicketingSecret).
    expect(parsePolicy(JSON.parse(JSON.stringify(config.policy)), 'CLOSELOOP_POLICY').principals).toHaveLength(3);
    expect(readJiraConfig(config.ticketing!.jira!, { apiToken: 'from-the-secret' }).projectKey).toBe('SEC');
    expect(readServiceNowConfig(config.ticketing!.servicenow!, { password: 'from-the-secret' }).table).toBe(
      'sn_si_task',
    );
  });

  it('may be empty: every section is optional', () => {
    expect(parseDeployConfig({}, 'closeloop.json')).toEqual({});
  });

  it('names the file and the field of a bad policy value, on one line', () => {
    expect(problem({ policy: { slaDays: { critical: 'two' } } })).toBe(
      'closeloop.json: "policy.slaDays.critical" must be a number, got "two"',
    );
    expect(problem({ policy: { maxExceptionDays: { low: 400 } } })).toBe(
      'closeloop.json: "policy.maxExceptionDays.low" must be at most 365, got 400',
    );
  });

  it('refuses an unknown section by name, listing the sections it has', () => {
    expect(DEPLOY_CONFIG_SECTIONS).toEqual(['policy', 'ticketing', 'rotation', 'sources']);
    expect(problem({ polciy: {} })).toBe(
      'closeloop.json: unknown section "polciy": a deploy file has only "policy", "ticketing", "rotation", "sources"',
    );
    expect(problem([])).toBe('closeloop.json: must be a JSON object with policy, ticketing, rotation, sources');
  });

  it('checks Jira and ServiceNow settings with the connectors’ own schemas', () => {
    expect(problem({ ticketing: { jira: { ...JIRA, JIRA_PROJECT_KEY: 'sec' } } })).toBe(
      'closeloop.json: "ticketing.jira.JIRA_PROJECT_KEY" must be a Jira project key such as SEC, got "sec"',
    );
    expect(problem({ ticketing: { jira: { ...JIRA, JIRA_BASE_URL: 'acme' } } })).toBe(
      'closeloop.json: "ticketing.jira.JIRA_BASE_URL" must be a valid url, got "acme"',
    );
    expect(problem({ ticketing: { jira: { ...JIRA, JIRA_BULK_SIZE: 80 } } })).toBe(
      'closeloop.json: "ticketing.jira.JIRA_BULK_SIZE" must be at most 50, got 80',
    );
    expect(problem({ ticketing: { jira: { ...JIRA, JIRA_PROJECT: 'SEC' } } })).toBe(
      'closeloop.json: "ticketing.jira.JIRA_PROJECT" is not a known field',
    );
    expect(problem({ ticketing: { jira: { ...JIRA, JIRA_CUSTOM_FIELDS: '{"priority":"High"}' } } })).toBe(
      'closeloop.json: "ticketing.jira": JIRA_CUSTOM_FIELDS must be a JSON object of customfield_<number> keys',
    );
    expect(
      problem({
        ticketing: { servicenow: { SERVICENOW_URL: 'https://acme.service-now.com', SERVICENOW_TABLE: 'SN Task' } },
      }),
    ).toBe(
      'closeloop.json: "ticketing.servicenow.SERVICENOW_TABLE" must be a table name such as sn_si_task or task, got "SN Task"',
    );
    expect(problem({ ticketing: { gitlab: {} } })).toBe('closeloop.json: "ticketing.gitlab" is not a known field');
  });

  it('checks how decisions are read from Jira and ServiceNow, naming the setting and the entry', () => {
    expect(problem({ ticketing: { jira: { ...JIRA, JIRA_DECISIONS: 'Approve exception=approve_exeption' } } })).toMatch(
      /^closeloop\.json: "ticketing\.jira": JIRA_DECISIONS: "Approve exception=approve_exeption" must be Name=decision with a decision among approve, reject, approve_remediation, /,
    );
    expect(problem({ ticketing: { jira: { ...JIRA, JIRA_DECISION_FIELD: 'Decision' } } })).toBe(
      'closeloop.json: "ticketing.jira.JIRA_DECISION_FIELD" must be a custom field id such as customfield_10050, got "Decision"',
    );
    expect(
      problem({
        ticketing: {
          servicenow: { SERVICENOW_URL: 'https://acme.service-now.com', SERVICENOW_DECISION_STATES: '-6=yes' },
        },
      }),
    ).toMatch(
      /^closeloop\.json: "ticketing\.servicenow": SERVICENOW_DECISION_STATES: "-6=yes" must be state=decision /,
    );
    const jira = readJiraConfig({ ...JIRA, JIRA_DECISIONS: 'Sign off=approve, Turn down = reject' }, { apiToken: 't' });
    expect(jira.decisions).toEqual({ 'Sign off': 'approve', 'Turn down': 'reject' });
    const sn = readServiceNowConfig(
      {
        SERVICENOW_URL: 'https://acme.service-now.com',
        SERVICENOW_USER: 'closeloop',
        SERVICENOW_DECISION_STATES: '-6=approve_exception',
      },
      { password: 'p' },
    );
    expect(sn).toMatchObject({ decisionStates: { '-6': 'approve_exception' }, approvalRecords: false });
  });

  it('takes numbers where the functions get strings', () => {
    const config = parseDeployConfig({ ticketing: { jira: { ...JIRA, JIRA_SEARCH_LAG_SECONDS: 45 } } }, 'x.json');
    expect(config.ticketing?.jira?.JIRA_SEARCH_LAG_SECONDS).toBe('45');
  });

  it('never takes a credential, and never repeats its value', () => {
    const token = 'ATATT3xFfGF0-closeloop-FAKE-token';
    const message = problem({ ticketing: { jira: { ...JIRA, JIRA_API_TOKEN: token } } });
    expect(message).toBe(
      'closeloop.json: "ticketing.jira.JIRA_API_TOKEN" is a credential and never goes in the deploy file: after cdk deploy, put it in the TicketingSecret (stack output) as "jiraApiToken"',
    );
    expect(
      problem({
        ticketing: {
          servicenow: { SERVICENOW_URL: 'https://acme.service-now.com', SERVICENOW_PASSWORD: 'hunter2-FAKE' },
        },
      }),
    ).toBe(
      'closeloop.json: "ticketing.servicenow.SERVICENOW_PASSWORD" is a credential and never goes in the deploy file: after cdk deploy, put it in the TicketingSecret (stack output) as "servicenowPassword"',
    );
    const lookalike = problem({ ticketing: { jira: { ...JIRA, JIRA_OAUTH_CLIENT_SECRET: 'FAKE-secret-value' } } });
    expect(lookalike).toBe(
      'closeloop.json: "ticketing.jira.JIRA_OAUTH_CLIENT_SECRET" looks like a credential and never goes in the deploy file: credentials belong in the TicketingSecret (stack output)',
    );
    for (const m of [message, lookalike]) expect(m).not.toMatch(/FAKE/);
  });

  it('checks the rotation settings: complete secret ARNs, IAM user ARNs, days, nothing unknown', () => {
    expect(
      problem({ rotation: { managedSecretArns: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/ci'] } }),
    ).toBe(
      'closeloop.json: "rotation.managedSecretArns[0]" must be a complete secret ARN, with the 6-character suffix (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf), got "arn:aws:secretsmanager:eu-west-1:1234567…"',
    );
    expect(problem({ rotation: { containmentIamUserArns: ['arn:aws:iam::123456789012:role/ci'] } })).toBe(
      'closeloop.json: "rotation.containmentIamUserArns[0]" must be an IAM user ARN (arn:aws:iam::<account>:user/<path/name>, * allowed), got "arn:aws:iam::123456789012:role/ci"',
    );
    expect(problem({ rotation: { scheduleDays: 0 } })).toBe(
      'closeloop.json: "rotation.scheduleDays" must be more than 0, got 0',
    );
    expect(problem({ rotation: { hygieneInterval: 'P1D' } })).toBe(
      'closeloop.json: "rotation.hygieneInterval" is not a known field',
    );
    const gov = parseDeployConfig(
      { rotation: { managedIamUserArns: ['arn:aws-us-gov:iam::123456789012:user/ci'] } },
      'closeloop.json',
    );
    expect(gov.rotation?.managedIamUserArns).toEqual(['arn:aws-us-gov:iam::123456789012:user/ci']);
  });

  it('refuses a ticket route to a system the file does not configure', () => {
    expect(problem({ policy: { ticketRouting: [{ sink: { kind: 'servicenow' } }] }, ticketing: { jira: JIRA } })).toBe(
      'closeloop.json: "policy.ticketRouting[0].sink" routes to servicenow, but "ticketing.servicenow" is not set',
    );
  });
});
