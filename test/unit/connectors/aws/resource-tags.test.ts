import { IAMClient, ListRoleTagsCommand, ListUserTagsCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { awsResourceTags } from '@connectors/aws/resource-tags';

const iam = new IAMClient({ region: 'eu-west-1' });
const secretsManager = new SecretsManagerClient({ region: 'eu-west-1' });
const iamMock = mockClient(iam);
const smMock = mockClient(secretsManager);
afterEach(() => {
  iamMock.reset();
  smMock.reset();
});

const user = { type: 'aws_resource' as const, id: 'arn:aws:iam::123456789012:user/ci/payments-ci' };
const role = { type: 'aws_resource' as const, id: 'arn:aws:iam::123456789012:role/deployer' };
const secret = { type: 'aws_resource' as const, id: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf' };
const denied = (message: string) => Object.assign(new Error(message), { name: 'AccessDenied' });
const meta = { $metadata: {} };

describe('owner tags of AWS resources', () => {
  it('reads the first configured tag key present, of users (by name, past their path), roles and secrets', async () => {
    iamMock
      .on(ListUserTagsCommand, { UserName: 'payments-ci' })
      .resolves({ Tags: [{ Key: 'team', Value: ' payments ' }] });
    iamMock.on(ListRoleTagsCommand, { RoleName: 'deployer' }).resolves({ Tags: [{ Key: 'owner', Value: 'platform' }] });
    smMock.on(DescribeSecretCommand).resolves({ Tags: [{ Key: 'Owner', Value: 'dba' }] });
    const tags = awsResourceTags({ iam, secretsManager }, ['owner', 'Owner', 'team']);
    expect(await tags.ownerTagOf(user)).toBe('payments');
    expect(await tags.ownerTagOf(role)).toBe('platform');
    expect(await tags.ownerTagOf(secret)).toBe('dba');
  });

  it('has no owner tag for a resource that no longer exists', async () => {
    iamMock
      .on(ListUserTagsCommand)
      .rejects(new NoSuchEntityException({ message: 'The user cannot be found.', ...meta }));
    smMock.on(DescribeSecretCommand).rejects(new ResourceNotFoundException({ message: 'not found', ...meta }));
    const warnings: string[] = [];
    const tags = awsResourceTags({ iam, secretsManager }, ['owner'], (w) => warnings.push(w));
    expect(await tags.ownerTagOf(user)).toBeUndefined();
    expect(await tags.ownerTagOf(secret)).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('says a tag it could not read is unreadable, with the error and the call, never "no tag"', async () => {
    iamMock
      .on(ListUserTagsCommand)
      .rejects(denied('User: arn:aws:sts::123456789012:assumed-role/closeloop is not authorized'));
    smMock
      .on(DescribeSecretCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const warnings: string[] = [];
    const tags = awsResourceTags({ iam, secretsManager }, ['owner'], (w) => warnings.push(w));
    expect(await tags.ownerTagOf(user)).toEqual({ unreadable: 'AccessDenied from iam:ListUserTags' });
    expect(await tags.ownerTagOf(secret)).toEqual({
      unreadable: 'ThrottlingException from secretsmanager:DescribeSecret',
    });
    expect(warnings).toEqual([
      `owner tag of ${user.id} not read: AccessDenied from iam:ListUserTags`,
      `owner tag of ${secret.id} not read: ThrottlingException from secretsmanager:DescribeSecret`,
    ]);
  });

  it('asks nothing about resources that carry no tags it reads', async () => {
    const tags = awsResourceTags({ iam, secretsManager }, ['owner']);
    expect(await tags.ownerTagOf({ type: 'repository', id: 'github.com/acme/api' })).toBeUndefined();
    expect(await tags.ownerTagOf({ type: 'aws_resource', id: 'arn:aws:s3:::bucket' })).toBeUndefined();
    expect(iamMock.calls()).toHaveLength(0);
  });
});
