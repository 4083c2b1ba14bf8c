import { FORMAT_ALIASES, FORMAT_NAMES, type FormatName } from './types';

/**
 * What an object key says about its report: `<format>/<asset>/<name>`, e.g.
 * `gitleaks/github.com%2Facme%2Fpayments-api/2026-11-01.json`. The first segment names the
 * format when it is one (`gitleaks`, `sarif`, `prowler`…), the second the asset the report
 * covers (percent-encoded when it holds a `/`). Either may be left out: `gitleaks/report.json`
 * names the format only, `auto/<asset>/…` the asset only; any other key is auto-detected.
 */
export function reportKeyConvention(key: string): { format?: FormatName; asset?: string } {
  const segments = key.split('/');
  if (segments.length < 2) return {};
  const first = segments[0]!.toLowerCase();
  const format = (FORMAT_NAMES as readonly string[]).includes(first) ? (first as FormatName) : FORMAT_ALIASES[first];
  // `auto/<asset>/…` names the asset and leaves the format to detection.
  if (!format && first !== 'auto') return {};
  const named = format ? { format } : {};
  if (segments.length < 3 || segments[1] === '') return named;
  let asset = segments[1]!;
  try {
    asset = decodeURIComponent(asset);
  } catch {
    // Not percent-encoding after all (a lone "%"): the segment is the asset as written.
  }
  return { ...named, asset };
}
