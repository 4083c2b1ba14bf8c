import type { Asset } from '../finding/model';

/** The CMDB's view of who owns an asset (ServiceNow's CMDB in production). */
export interface OwnerDirectory {
  ownerOf(asset: Asset): Promise<string | undefined>;
}

/** Owner tags of cloud resources (e.g. the `owner` tag of an IAM user). */
export interface ResourceTags {
  ownerTagOf(asset: Asset): Promise<string | undefined>;
}
