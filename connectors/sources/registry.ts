import { InputError } from '@core/shared/errors';
import { asffFormat } from './asff';
import { detectSecretsFormat } from './detect-secrets';
import { ggshieldFormat } from './ggshield';
import { gitguardianFormat } from './gitguardian';
import { githubFormat } from './github';
import { gitlabFormat } from './gitlab';
import { gitleaksFormat } from './gitleaks';
import { noseyParkerFormat } from './noseyparker';
import { ocsfFormat } from './ocsf';
import { sarifFormat } from './sarif';
import { trivyFormat } from './trivy';
import { trufflehogFormat } from './trufflehog';
import { FORMAT_ALIASES, type FormatName, type SourceFormat } from './types';

/** Every source format, in auto-detection order (most specific first). */
export const SOURCE_FORMATS: readonly SourceFormat[] = [
  sarifFormat,
  ocsfFormat,
  asffFormat,
  githubFormat,
  gitguardianFormat,
  gitlabFormat,
  ggshieldFormat,
  detectSecretsFormat,
  trivyFormat,
  gitleaksFormat,
  noseyParkerFormat,
  trufflehogFormat,
];

export function formatByName(name: FormatName | string): SourceFormat {
  const canonical = FORMAT_ALIASES[name] ?? name;
  const format = SOURCE_FORMATS.find((f) => f.name === canonical);
  if (!format) throw new InputError(`unknown format ${name}`);
  return format;
}
