import type { Asset } from '../finding/model';

/** The CMDB's view of who owns an asset (ServiceNow's CMDB in production). */
export interface OwnerDirectory {
  ownerOf(asset: Asset): Promise<string | undefined>;
}

/** A resource's owner tag; `undefined` when it has none; `unreadable` when its tags could not be read, and why. */
export type OwnerTag = string | undefined | { unreadable: string };

/** Owner tags of cloud resources (e.g. the `owner` tag of an IAM user). */
export interface ResourceTags {
  ownerTagOf(asset: Asset): Promise<OwnerTag>;
}
