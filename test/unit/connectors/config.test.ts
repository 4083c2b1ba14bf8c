import { localRotationMode, policyFromJson, readHubConfig } from '@connectors/config';
import { DEFAULT_POLICY } from '@core/policy/policy';
import { readLocalConfig } from '@local/config';

describe('the hub configuration', () => {
  it('reads the variables trimmed, with defaults for what is unset', () => {
    const config = readHubConfig({ CLOSELOOP_TABLE: ' findings ', GITHUB_TOKEN: '' });
    expect(config.settings.CLOSELOOP_TABLE).toBe('findings');
    expect(config.settings.GITHUB_TOKEN).toBeUndefined();
    expect(config.settings.GITHUB_API_URL).toBe('https://api.github.com');
  });

  it('fails at start naming a variable the process needs and does not have', () => {
    const config = readHubConfig({ CLOSELOOP_TABLE: 'findings' });
    expect(config.require('CLOSELOOP_TABLE')).toBe('findings');
    expect(() => config.require('CLOSELOOP_TICKET_QUEUE_URL')).toThrow('CLOSELOOP_TICKET_QUEUE_URL is required');
  });

  it('names the variable and what is wrong with its value', () => {
    expect(() => readHubConfig({ CLOSELOOP_NOW: 'next week' })).toThrow(
      'CLOSELOOP_NOW must be an ISO-8601 date or instant, got "next week"',
    );
    expect(() => readHubConfig({ CLOSELOOP_TABLE: 'a b' })).toThrow(
      'CLOSELOOP_TABLE must be 3-255 characters of letters, digits, "_", "-" or ".", got "a b"',
    );
  });

  it('merges concurrent DynamoDB requests locally unless CLOSELOOP_GROUP_COMMIT=off; another value is refused by name', () => {
    expect(readLocalConfig({}).groupCommit).toBe(true);
    expect(readLocalConfig({ CLOSELOOP_GROUP_COMMIT: 'off' }).groupCommit).toBe(false);
    expect(() => readLocalConfig({ CLOSELOOP_GROUP_COMMIT: 'no' })).toThrow(/^CLOSELOOP_GROUP_COMMIT /);
  });

  it('rotates against AWS locally only when one of its endpoints is set', () => {
    expect(localRotationMode(readHubConfig({}).settings)).toBe('dry_run');
    expect(localRotationMode(readHubConfig({ AWS_ENDPOINT_URL_IAM: 'http://127.0.0.1:4566' }).settings)).toBe('aws');
  });

  it('reads the policy the stack passes as JSON, naming the variable when it cannot', () => {
    expect(policyFromJson(undefined)).toBe(DEFAULT_POLICY);
    expect(policyFromJson('{"escalationContact":"secops"}').escalationContact).toBe('secops');
    expect(() => policyFromJson('{"escalationContact":')).toThrow('CLOSELOOP_POLICY: is not JSON');
    expect(() => policyFromJson('{"slaDays":{"critical":"two"}}')).toThrow(/^CLOSELOOP_POLICY: "slaDays.critical"/);
  });
});
