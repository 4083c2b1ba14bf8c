import type { Asset } from '../finding/model';
import type { Policy } from './policy';
import type { OwnerDirectory, ResourceTags } from './ports';

export type OwnerSource = 'cmdb' | 'tags' | 'mapping' | 'unowned_queue';

export interface OwnerResolution {
  owner: string;
  via: OwnerSource;
  /** True when nobody was found and the finding went to the identity programme's queue. */
  unresolved: boolean;
  /** Why the resource's owner tag is not known when its tags could not be read (permissions, throttling): never silently "no tag". */
  tagProblem?: string;
}

/** `*` matches any run of characters; everything else is literal. Case-insensitive. */
export function matches(pattern: string, value: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return regex.test(value);
}

/**
 * Who owns a finding, first match wins: the CMDB owner of the affected asset, then the
 * resource's owner tag, then the policy's configured mapping, then the identity programme's
 * queue (marked unresolved, so the lifecycle raises an `owner.unresolved` escalation).
 */
export async function resolveOwner(
  asset: Asset,
  deps: { policy: Policy; directory?: OwnerDirectory; tags?: ResourceTags },
): Promise<OwnerResolution> {
  const fromCmdb = await deps.directory?.ownerOf(asset);
  if (fromCmdb) return { owner: fromCmdb, via: 'cmdb', unresolved: false };
  const fromTags = await deps.tags?.ownerTagOf(asset);
  if (typeof fromTags === 'string' && fromTags) return { owner: fromTags, via: 'tags', unresolved: false };
  const problem = typeof fromTags === 'object' ? { tagProblem: fromTags.unreadable } : {};
  const mapping = deps.policy.ownerMappings.find(
    (m) => matches(m.asset, asset.id) || (asset.account !== undefined && matches(m.asset, asset.account)),
  );
  if (mapping) return { owner: mapping.owner, via: 'mapping', unresolved: false, ...problem };
  return { owner: deps.policy.unownedQueue, via: 'unowned_queue', unresolved: true, ...problem };
}
