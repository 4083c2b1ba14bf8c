import { resolveOwner } from '@core/policy/ownership';
import type { OwnerDirectory, ResourceTags } from '@core/policy/ports';
import { DEFAULT_POLICY, parsePolicy } from '@core/policy/policy';

const repo = { type: 'repository' as const, id: 'github.com/acme/payments-api' };
const iamUser = {
  type: 'aws_resource' as const,
  id: 'arn:aws:iam::123456789012:user/reporting-batch',
  account: '123456789012',
};
const cmdb = (owner?: string): OwnerDirectory => ({ ownerOf: async () => owner });
const tags = (owner?: string): ResourceTags => ({ ownerTagOf: async () => owner });
const policy = parsePolicy(
  {
    ownerMappings: [
      { asset: 'github.com/acme/payments-*', owner: 'team-payments' },
      { asset: '123456789012', owner: 'team-data' },
    ],
  },
  'test',
);

describe('owner resolution (first match wins)', () => {
  it('goes on without a tag it could not read, and says why, to the mapping or the unowned queue', async () => {
    const unreadable: ResourceTags = { ownerTagOf: async () => ({ unreadable: 'AccessDenied from iam:ListUserTags' }) };
    expect(await resolveOwner(iamUser, { policy, tags: unreadable })).toEqual({
      owner: 'team-data',
      via: 'mapping',
      unresolved: false,
      tagProblem: 'AccessDenied from iam:ListUserTags',
    });
    expect(await resolveOwner(iamUser, { policy: DEFAULT_POLICY, tags: unreadable })).toEqual({
      owner: DEFAULT_POLICY.unownedQueue,
      via: 'unowned_queue',
      unresolved: true,
      tagProblem: 'AccessDenied from iam:ListUserTags',
    });
  });

  it('takes the CMDB owner first', async () => {
    expect(
      await resolveOwner(repo, { policy, directory: cmdb('app-owner@acme.example'), tags: tags('tagged') }),
    ).toEqual({ owner: 'app-owner@acme.example', via: 'cmdb', unresolved: false });
  });

  it('then the resource owner tag', async () => {
    expect(await resolveOwner(iamUser, { policy, directory: cmdb(undefined), tags: tags('data-eng') })).toEqual({
      owner: 'data-eng',
      via: 'tags',
      unresolved: false,
    });
  });

  it('then the configured mapping, by asset pattern or AWS account', async () => {
    expect(await resolveOwner(repo, { policy })).toEqual({ owner: 'team-payments', via: 'mapping', unresolved: false });
    expect(await resolveOwner(iamUser, { policy })).toEqual({ owner: 'team-data', via: 'mapping', unresolved: false });
  });

  it("falls back to the identity programme's queue and marks the finding unresolved", async () => {
    expect(
      await resolveOwner({ type: 'repository', id: 'github.com/other/thing' }, { policy: DEFAULT_POLICY }),
    ).toEqual({ owner: 'identity-programme', via: 'unowned_queue', unresolved: true });
  });
});
