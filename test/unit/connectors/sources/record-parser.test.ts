import { readdirSync } from 'node:fs';
import { z } from 'zod';
import { AsffFindingSchema } from '@connectors/sources/asff';
import { DetectSecretsBaselineSchema, DetectSecretsResultSchema } from '@connectors/sources/detect-secrets';
import { GgshieldFileSchema, GgshieldIncidentSchema } from '@connectors/sources/ggshield';
import { GitguardianIncidentSchema } from '@connectors/sources/gitguardian';
import { GithubAlertSchema, GithubWebhookSchema } from '@connectors/sources/github';
import { GitlabReportSchema, GitlabSecretSchema } from '@connectors/sources/gitlab';
import { Gitleaks7LeakSchema, GitleaksFindingSchema } from '@connectors/sources/gitleaks';
import { NoseyParkerFindingSchema } from '@connectors/sources/noseyparker';
import { OcsfFindingSchema } from '@connectors/sources/ocsf';
import { recordParser } from '@connectors/sources/record-parser';
import { formatByName } from '@connectors/sources/registry';
import { SarifLogSchema, SarifResultSchema } from '@connectors/sources/sarif';
import { OperatorSecretSchema, TrivySecretSchema } from '@connectors/sources/trivy';
import { Trufflehog2ResultSchema, TrufflehogResultSchema } from '@connectors/sources/trufflehog';
import type { FormatName } from '@connectors/sources/types';
import { parseRecord } from '@core/shared/problems';
import { ownFixturePath, readOwnFixtureJson, readOwnFixtureLines } from '@test/support/fixtures';

type Json = Record<string, unknown>;

/** Every record schema of a format, with the fixture folders its records come from. */
const SCHEMAS: { name: string; schema: z.ZodType; format: FormatName; dirs: string[]; extra?: unknown[] }[] = [
  { name: 'gitleaks 8', schema: GitleaksFindingSchema, format: 'gitleaks', dirs: ['gitleaks'] },
  { name: 'gitleaks 7', schema: Gitleaks7LeakSchema, format: 'gitleaks', dirs: ['gitleaks'] },
  { name: 'GitLab', schema: GitlabSecretSchema, format: 'gitlab', dirs: ['gitlab'] },
  { name: 'ggshield', schema: GgshieldIncidentSchema, format: 'ggshield', dirs: ['ggshield'] },
  { name: 'detect-secrets', schema: DetectSecretsResultSchema, format: 'detect-secrets', dirs: ['detect-secrets'] },
  { name: 'Nosey Parker', schema: NoseyParkerFindingSchema, format: 'noseyparker', dirs: ['noseyparker'] },
  { name: 'Trivy', schema: TrivySecretSchema, format: 'trivy', dirs: ['trivy'] },
  { name: 'Trivy Operator', schema: OperatorSecretSchema, format: 'trivy', dirs: ['trivy'] },
  { name: 'OCSF', schema: OcsfFindingSchema, format: 'ocsf', dirs: ['prowler', 'securityhub'] },
  { name: 'SARIF', schema: SarifResultSchema, format: 'sarif', dirs: ['sarif'] },
  { name: 'TruffleHog 3', schema: TrufflehogResultSchema, format: 'trufflehog', dirs: ['trufflehog'] },
  {
    name: 'TruffleHog 2',
    schema: Trufflehog2ResultSchema,
    format: 'trufflehog',
    dirs: ['trufflehog'],
    // No TruffleHog 2 sample among the fixtures: one line as the Python tool writes it.
    extra: [
      {
        branch: 'origin/main',
        commit: 'Add staging settings',
        commitHash: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
        date: '2019-03-05 10:21:07',
        path: 'config/staging.py',
        reason: 'High Entropy',
        stringsFound: ['closeloopFAKEtrufflehog2fixture0001'],
      },
    ],
  },
  { name: 'ASFF', schema: AsffFindingSchema, format: 'asff', dirs: ['securityhub'] },
  { name: 'GitGuardian', schema: GitguardianIncidentSchema, format: 'gitguardian', dirs: ['gitguardian'] },
  { name: 'GitHub alert', schema: GithubAlertSchema, format: 'github', dirs: ['github'] },
  { name: 'GitHub webhook', schema: GithubWebhookSchema, format: 'github', dirs: ['github'] },
];

/** What a format's schema is given: the record without the context a parser wraps it in. */
function unwrap(record: unknown): unknown {
  const r = record as Json;
  return r && typeof r === 'object' && 'result' in r && Object.keys(r).some((k) => k.startsWith('__'))
    ? r.result
    : record;
}

/** The records of every fixture of a format's folders (documents through the format's own `records`). */
function fixtureRecords(format: FormatName, dirs: string[]): unknown[] {
  const f = formatByName(format);
  const out: unknown[] = [];
  for (const dir of dirs)
    for (const file of readdirSync(ownFixturePath('scanners', dir))) {
      if (file.endsWith('.jsonl')) {
        out.push(...readOwnFixtureLines('scanners', dir, file));
        continue;
      }
      const doc = readOwnFixtureJson('scanners', dir, file);
      out.push(doc);
      try {
        out.push(...(f.records?.(doc) ?? []).map(unwrap));
      } catch {
        // Another format's fixture in a shared folder (ASFF beside OCSF): the document itself is still a record to try.
      }
    }
  return out;
}

/** The fixture documents of a folder, as parsed JSON. */
const fixtureDocuments = (dir: string): unknown[] =>
  readdirSync(ownFixturePath('scanners', dir))
    .filter((file) => !file.endsWith('.jsonl'))
    .map((file) => readOwnFixtureJson('scanners', dir, file));

/** `entities_with_incidents` of every scan of a ggshield document, nested scans included. */
function scanFiles(node: unknown): unknown[] {
  const n = node as { entities_with_incidents?: unknown; scans?: unknown[] };
  return [
    ...(n.entities_with_incidents === undefined ? [] : [n.entities_with_incidents]),
    ...(Array.isArray(n.scans) ? n.scans.flatMap(scanFiles) : []),
  ];
}

const BAD_VALUES: unknown[] = [null, 'ten', '', -1, 1.5, 2 ** 60, true, [], {}, [{}], 'x'.repeat(9000)];

/** The record with one value changed (or removed) at every path, up to a depth. */
function* variants(record: unknown, maxDepth = 6, depth = 0): Generator<unknown> {
  if (depth > maxDepth || record === null || typeof record !== 'object') return;
  const entries = Array.isArray(record) ? record.map((v, i) => [i, v] as const) : Object.entries(record);
  for (const [key, value] of entries.slice(0, 40)) {
    const copy = (v: unknown) => {
      const c = (Array.isArray(record) ? [...record] : { ...record }) as Record<string | number, unknown>;
      c[key] = v;
      return c;
    };
    if (Array.isArray(record)) yield record.filter((_, i) => i !== key);
    else {
      const { [key as string]: _removed, ...rest } = record as Json;
      yield rest;
    }
    for (const bad of BAD_VALUES) yield copy(bad);
    for (const inner of variants(value, maxDepth, depth + 1)) yield copy(inner);
  }
}

describe('recordParser', () => {
  it.each(SCHEMAS.map((s) => [s.name, s.schema] as const))('compiles the %s schema (the fast path is real)', (_, s) =>
    expect(() => z.compile(s, { strict: true })).not.toThrow(),
  );

  it.each(SCHEMAS.map((s) => [s.name, s] as const))(
    'gives the %s schema’s own verdict, value and messages on fixtures and broken variants of them',
    (_, { schema, format, dirs, extra = [] }) => {
      const fast = recordParser(schema);
      const records = [...fixtureRecords(format, dirs), ...extra];
      let accepted = 0;
      let rejected = 0;
      for (const record of [...records, null, [], 'a record', 7])
        for (const candidate of [record, ...variants(record)]) {
          const expected = parseRecord(schema, candidate);
          expect(fast(candidate)).toStrictEqual(expected);
          if (expected.ok) accepted++;
          else rejected++;
        }
      // Both paths were exercised: records the fast path takes and records the runtime explains.
      expect(accepted).toBeGreaterThan(0);
      expect(rejected).toBeGreaterThan(0);
    },
  );

  // The document schemas some formats parse compiled (`records`): same verdict, output and issues.
  const DOCUMENTS: { name: string; schema: z.ZodType; docs: () => unknown[] }[] = [
    { name: 'GitLab report', schema: GitlabReportSchema, docs: () => fixtureDocuments('gitlab') },
    {
      name: 'detect-secrets baseline',
      schema: DetectSecretsBaselineSchema,
      docs: () => fixtureDocuments('detect-secrets'),
    },
    {
      name: 'ggshield files of a scan',
      schema: z.array(GgshieldFileSchema),
      docs: () => fixtureDocuments('ggshield').flatMap((d) => [d, ...scanFiles(d)]),
    },
    { name: 'SARIF log', schema: SarifLogSchema, docs: () => fixtureDocuments('sarif') },
  ];

  it.each(DOCUMENTS.map((d) => [d.name, d] as const))(
    'parses the %s compiled as the schema does, valid or not',
    (_, { schema, docs }) => {
      const compiled = z.compile(schema, { strict: true });
      const outcome = (r: { success: boolean; data?: unknown; error?: z.ZodError }) => ({
        success: r.success,
        data: r.data,
        issues: r.error?.issues,
      });
      let rejected = 0;
      for (const doc of [...docs(), null, [], {}])
        for (const candidate of [doc, ...variants(doc, 3)]) {
          const expected = outcome(schema.safeParse(candidate));
          expect(outcome(compiled.safeParse(candidate))).toStrictEqual(expected);
          if (!expected.success) rejected++;
        }
      expect(rejected).toBeGreaterThan(0);
    },
  );

  it('names the bad field in one line, as the schema does', () => {
    const [finding] = readOwnFixtureJson<Json[]>('scanners', 'gitleaks', 'v8-git.json');
    const bad = { ...finding, StartLine: 'ten' };
    const result = recordParser(GitleaksFindingSchema)(bad);
    expect(result).toStrictEqual(parseRecord(GitleaksFindingSchema, bad));
    expect(result).toEqual({ ok: false, problems: ['"StartLine" must be a number, got "ten"'] });
  });

  it('drops fields the schema does not name, so nothing unread (a secret) travels on', () => {
    const [finding] = readOwnFixtureJson<Json[]>('scanners', 'gitleaks', 'v8-git.json');
    const result = recordParser(GitleaksFindingSchema)({ ...finding, Extra: 'ghp_FAKEnotAsecret0123456789abcdefABCD' });
    expect(result.ok && 'Extra' in result.value).toBe(false);
    expect(result).toStrictEqual(parseRecord(GitleaksFindingSchema, { ...finding, Extra: 'x' }));
  });
});
