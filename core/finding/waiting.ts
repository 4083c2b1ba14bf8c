import { sha256Of } from './identity';
import type { Asset, Finding } from './model';

/**
 * Which findings wait for their owner's fix, and how the store finds those a scan can speak of:
 * the sparse `byScope` index (core/store/table.ts) holds exactly the findings `waitsForOwner`
 * accepts, in one partition per scope, so a report reads the waiting findings of what it scanned,
 * not every open finding.
 */

/** The lifecycle waits for the owner's fix: what a scan's evidence (a clean re-scan) can resume. */
export const waitsForOwner = (finding: Finding): boolean =>
  (finding.status === 'open' || finding.status === 'reopened') && finding.lifecycle?.waitingAt === 'AwaitOwnerFix';

/** What the index keeps of a waiting finding, enough to tell whether a scan can speak of it. */
export interface WaitingEntry {
  id: string;
  assetId: string;
  /** The scanners that reported it, each once. */
  scanners: string[];
}

export const waitingEntry = (finding: Finding): WaitingEntry => ({
  id: finding.id,
  assetId: finding.asset.id,
  scanners: [...new Set(finding.sources.map((s) => s.scanner))].sort(),
});

/** Scope keys longer than this are hashed: an index key may be at most 2,048 bytes, an asset id is unbounded. */
const MAX_SCOPE_CHARS = 512;

/**
 * The scope of an asset: its account when it has one (a scan of an account, and the credential
 * hygiene run, speak of every resource in it), else the asset itself (a repository, an image…).
 */
export function waitScope(asset: Pick<Asset, 'id' | 'account'>): string {
  return asset.account !== undefined ? accountScope(asset.account) : bounded(`asset:${asset.id}`);
}

/** The scope of every asset of one account (or subscription, project, cluster). */
export const accountScope = (account: string): string => bounded(`account:${account}`);

const bounded = (scope: string) => (scope.length <= MAX_SCOPE_CHARS ? scope : `sha256:${sha256Of(scope)}`);
