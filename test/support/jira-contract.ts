import Ajv, { type ValidateFunction } from 'ajv';

interface Operation {
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> };
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

/** An OpenAPI 3 document: the paths and components the checks use. */
export interface OpenApiSpec {
  paths: Record<string, Record<string, Operation>>;
  components: unknown;
}

let own: JiraContract | undefined;
const withSpecs = new WeakMap<OpenApiSpec, JiraContract>();

/**
 * What the Jira stand-in checks every request against. Always: ADF documents against Atlassian's
 * ADF JSON schema (the @atlaskit/adf-schema package) and the issue fields closeloop sets (the spec
 * leaves `fields` open). With Atlassian's Jira Cloud platform REST v3 OpenAPI spec (the contract
 * suite reads it from the third-party samples, test/contract/jira/): request bodies and query
 * parameter names against the operation the spec defines, and the stand-in's own answers.
 */
export class JiraContract {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly adf: ValidateFunction;

  /** closeloop's own checks (ADF, issue fields): what `npm test` runs with. */
  static ownChecks(): JiraContract {
    return (own ??= new JiraContract());
  }

  /** The own checks plus Atlassian's REST spec. */
  static withSpec(spec: OpenApiSpec): JiraContract {
    let contract = withSpecs.get(spec);
    if (!contract) withSpecs.set(spec, (contract = new JiraContract(spec)));
    return contract;
  }

  /** Whether requests are checked against Atlassian's REST spec. */
  get checksTheSpec(): boolean {
    return this.spec !== undefined;
  }

  private constructor(private readonly spec?: OpenApiSpec) {
    if (spec) this.ajv.addSchema({ $id: 'jira', components: spec.components });
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a JSON schema file inside the package
    const adfSchema = { ...(require('@atlaskit/adf-schema/dist/json-schema/v1/full.json') as Record<string, unknown>) };
    delete adfSchema.$schema; // draft-04 marker; the schema itself is draft-07 compatible
    this.adf = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(adfSchema);
  }

  private operation(method: string, template: string): Operation {
    const op = this.spec!.paths[template]?.[method.toLowerCase()];
    if (!op) throw new Error(`the Jira spec has no ${method} ${template}`);
    return op;
  }

  private validator(ref: string): ValidateFunction {
    let v = this.validators.get(ref);
    if (!v) {
      v = this.ajv.getSchema(`jira${ref}`);
      if (!v) throw new Error(`no schema ${ref} in the Jira spec`);
      this.validators.set(ref, v);
    }
    return v;
  }

  /** Problems with a request to `template` (e.g. `/rest/api/3/issue/{issueIdOrKey}/comment`). */
  checkRequest(method: string, template: string, query: URLSearchParams, body: unknown): string[] {
    if (!this.spec) return [];
    const op = this.operation(method, template);
    const problems: string[] = [];
    const known = new Set((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
    for (const name of query.keys())
      if (!known.has(name)) problems.push(`${method} ${template}: query parameter "${name}" is not in the spec`);
    const ref = op.requestBody?.content?.['application/json']?.schema?.$ref;
    if (ref) {
      const v = this.validator(ref);
      if (!v(body))
        problems.push(...(v.errors ?? []).map((e) => `${method} ${template}: body${e.instancePath} ${e.message}`));
    } else if (body !== undefined) {
      problems.push(`${method} ${template}: the spec defines no request body`);
    }
    return problems;
  }

  /** Problems with a response the fake sends (keeps the fake honest to the spec). */
  checkResponse(method: string, template: string, status: number, body: unknown): string[] {
    if (!this.spec) return [];
    const ref = this.operation(method, template).responses?.[String(status)]?.content?.['application/json']?.schema
      ?.$ref;
    if (!ref) return [];
    const v = this.validator(ref);
    return v(body)
      ? []
      : (v.errors ?? []).map((e) => `response ${status} of ${method} ${template}: ${e.instancePath} ${e.message}`);
  }

  /** Problems with an ADF document. */
  checkAdf(where: string, doc: unknown): string[] {
    if (this.adf(doc)) return [];
    return [
      `${where}: not valid ADF (${(this.adf.errors ?? [])
        .slice(0, 3)
        .map((e) => `${e.instancePath} ${e.message}`)
        .join('; ')})`,
    ];
  }

  /** The issue fields closeloop sets, which the spec leaves as an open object. */
  checkIssueFields(where: string, fields: Record<string, unknown>): string[] {
    const problems: string[] = [];
    const need = (ok: boolean, what: string) => ok || problems.push(`${where}: ${what}`);
    need(typeof (fields.project as { key?: unknown })?.key === 'string', 'fields.project.key must be a string');
    need(typeof (fields.issuetype as { name?: unknown })?.name === 'string', 'fields.issuetype.name must be a string');
    need(
      typeof fields.summary === 'string' &&
        fields.summary.length > 0 &&
        fields.summary.length <= 255 &&
        !/[\r\n]/.test(fields.summary),
      'fields.summary must be one line of 1-255 characters',
    );
    if (fields.description !== undefined)
      problems.push(...this.checkAdf(`${where} fields.description`, fields.description));
    if (fields.duedate !== undefined)
      need(
        typeof fields.duedate === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(fields.duedate),
        'fields.duedate must be YYYY-MM-DD',
      );
    if (fields.labels !== undefined)
      need(
        Array.isArray(fields.labels) &&
          fields.labels.every((l) => typeof l === 'string' && l.length <= 255 && !/\s/.test(l)),
        'fields.labels must be strings without spaces',
      );
    if (fields.priority !== undefined)
      need(typeof (fields.priority as { name?: unknown }).name === 'string', 'fields.priority.name must be a string');
    if (fields.assignee !== undefined)
      need(
        typeof (fields.assignee as { accountId?: unknown }).accountId === 'string',
        'fields.assignee.accountId must be a string',
      );
    return problems;
  }
}
