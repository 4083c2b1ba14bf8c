import { InputError } from '@core/shared/errors';
import { asffFormat } from './asff';
import { gitguardianFormat } from './gitguardian';
import { githubFormat } from './github';
import { gitleaksFormat } from './gitleaks';
import { sarifFormat } from './sarif';
import { trufflehogFormat } from './trufflehog';
import type { FormatName, SourceFormat } from './types';

/** Every source format, in auto-detection order (most specific first). */
export const SOURCE_FORMATS: readonly SourceFormat[] = [
  sarifFormat,
  asffFormat,
  githubFormat,
  gitguardianFormat,
  gitleaksFormat,
  trufflehogFormat,
];

export function formatByName(name: FormatName): SourceFormat {
  const format = SOURCE_FORMATS.find((f) => f.name === name);
  if (!format) throw new InputError(`unknown format ${name}`);
  return format;
}
