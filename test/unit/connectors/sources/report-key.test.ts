import { reportKeyConvention } from '@connectors/sources/report-key';

describe('what a report bucket key says: <format>/<asset>/<file>', () => {
  it.each([
    [
      'gitleaks/github.com%2Facme%2Fpayments-api/2026-11-01.json',
      { format: 'gitleaks', asset: 'github.com/acme/payments-api' },
    ],
    ['sarif/acme-web/secretlint.sarif', { format: 'sarif', asset: 'acme-web' }],
    ['prowler/123456789012/output.ocsf.json', { format: 'ocsf', asset: '123456789012' }],
    ['trivy-operator/prod-eu/reports.json', { format: 'trivy', asset: 'prod-eu' }],
    ['gitleaks/report.json', { format: 'gitleaks' }],
    ['auto/github.com%2Facme%2Fapi/report.json', { asset: 'github.com/acme/api' }],
    ['gitleaks/50%off/report.json', { format: 'gitleaks', asset: '50%off' }],
    ['scans/acme api/trufflehog.jsonl', {}],
    ['report.json', {}],
  ])('%s → %j', (key, expected) => {
    expect(reportKeyConvention(key)).toEqual(expected);
  });
});
