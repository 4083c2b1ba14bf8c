import { InvalidArgumentError } from 'commander';
import { FINDING_STATUSES, type FindingStatus } from '@core/finding/model';
import { InputError } from '@core/shared/errors';
import { FORMAT_ALIASES, FORMAT_NAMES, type FormatName } from '@connectors/sources/types';

/** An option's ISO-8601 date, refused by commander with its usage error. */
export function parseIsoDate(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
    throw new InvalidArgumentError('must be an ISO-8601 date, e.g. 2026-11-01');
  return date;
}

/** An ISO-8601 date given to `option`, refused with a one-line error naming it. */
export function parseDate(value: string, option: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
    throw new InputError(`${option} must be an ISO-8601 date, got ${JSON.stringify(value.slice(0, 40))}`);
  return date;
}

export function parseFormat(value: string): FormatName | 'auto' {
  if (value === 'auto' || (FORMAT_NAMES as readonly string[]).includes(value)) return value as FormatName | 'auto';
  const alias = FORMAT_ALIASES[value];
  if (alias) return alias;
  throw new InvalidArgumentError(`must be one of auto, ${FORMAT_NAMES.join(', ')}`);
}

export function parseStatus(value: string): FindingStatus {
  if ((FINDING_STATUSES as readonly string[]).includes(value)) return value as FindingStatus;
  throw new InvalidArgumentError(`must be one of ${FINDING_STATUSES.join(', ')}`);
}
