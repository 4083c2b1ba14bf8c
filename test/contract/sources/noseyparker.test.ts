import { openReport } from '@connectors/sources/read-report';
import type { RecordOutcome } from '@core/ingest/ingest';
import { FIXTURE_SECRETS, fixturePath } from '@test/support/shared-fixtures';
import { aContext } from '@test/support/factories';

async function outcomes(file: string, format?: 'noseyparker'): Promise<RecordOutcome[]> {
  const report = await openReport(fixturePath('scanners', 'noseyparker', file), {
    ctx: aContext(),
    ...(format ? { format } : {}),
  });
  expect(report.format.name).toBe('noseyparker');
  const out: RecordOutcome[] = [];
  for await (const o of report.records) out.push(o);
  return out;
}
const observations = (all: RecordOutcome[]) => all.flatMap((o) => (o.kind === 'observation' ? [o.observation] : []));

describe('Nosey Parker (contract: DefectDojo samples of 0.16 and 0.22)', () => {
  it('reads the 0.16 JSON lines: one finding per rule and secret, the secret hashed', async () => {
    const found = observations(await outcomes('noseyparker_many_vul.jsonl'));
    expect(found.map((o) => o.detector)).toEqual([
      'Generic API Key',
      'Generic Username and Password (unquoted)',
      'Generic Username and Password (unquoted)',
      'Generic Password (double quoted)',
      'Generic Password (double quoted)',
    ]);
    expect(found[0]!.secretHash).toBe(aContext().hasher.hash('32ui1ffdasfhu239b4df2ac6609a9919'));
    // "secret" and "Password" are placeholders, not credentials: location identities.
    expect(found[1]!.secretHash).toBeUndefined();
    expect(found[3]!.secretHash).toBeUndefined();
    expect(found[3]!.locations.map((l) => l.path)).toEqual(['references/Microsoft.json', 'references/Microsoft.json']);
  });

  it('reads the 0.22 JSON lines (base64 groups) of a filesystem scan', async () => {
    const found = observations(await outcomes('noseyparker_0_22_0_without_githistory.jsonl'));
    expect(found).toHaveLength(6);
    expect(found[1]!.secretHash).toBe(aContext().hasher.hash('DefaultLoginPasswordDoNotChange!'));
    expect(found[1]!.locations[0]).toMatchObject({
      kind: 'file',
      path: 'src/main/java/org/owasp/wrongsecrets/challenges/docker/WrongSecretsConstants.java',
      line: 9,
    });
    const serialised = JSON.stringify(found);
    for (const secret of [...FIXTURE_SECRETS, 'DefaultLoginPasswordDoNotChange!'])
      expect(serialised).not.toContain(secret);
  });

  it('reads the sample of nothing found ({}) with --format as no finding', async () => {
    expect(await outcomes('noseyparker_zero_vul.jsonl', 'noseyparker')).toEqual([]);
  });
});
