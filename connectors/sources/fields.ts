import { z } from 'zod';

/**
 * Bounds of the fields closeloop stores from a report (paths, ids, links). A record with a
 * longer one is rejected and quarantined: one 512 K-character `File` would otherwise make its
 * finding larger than a DynamoDB item may be (400 KB) and fail the write of its whole round.
 */
export const LIMITS = {
  /** File paths and artifact URIs (Linux PATH_MAX). */
  path: 4096,
  /** Rule and detector ids, commit shas, scanner ids and fingerprints, resource ids, names. */
  id: 1024,
  /** Links. */
  url: 8192,
  /** Titles and descriptions, cut before they are stored. */
  text: 8192,
} as const;

/** A stored path: at most LIMITS.path characters. */
export const pathField = () => z.string().max(LIMITS.path);
/** A stored id: at most LIMITS.id characters. */
export const idField = () => z.string().max(LIMITS.id);
/** A stored link: at most LIMITS.url characters. */
export const urlField = () => z.string().max(LIMITS.url);
/** Text a title is made from: at most LIMITS.text characters. */
export const textField = () => z.string().max(LIMITS.text);
