import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { INDEXES, createTableInput } from '@core/store/table';
import { FINDING_ROUTES } from '@connectors/api/routes';
import { CloseloopStack } from '@infra/closeloop-stack';

// No resource, role or policy depends on the bundled code, so these synths skip esbuild (the
// deploy smoke test bundles once and loads every function).
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

function synthWithNag(build: (app: App) => Stack) {
  const app = new App({ context: NO_BUNDLING });
  const stack = build(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, synth: () => app.synth() };
}

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

describe('CloseloopStack', () => {
  const { stack, synth } = synthWithNag((app) => new CloseloopStack(app, 'Test'));
  const assembly = synth();
  const template = Template.fromStack(stack);
  const statements = () =>
    (
      Object.values(template.findResources('AWS::IAM::Policy')) as Array<{
        Properties: { PolicyDocument: { Statement: Statement[] } };
      }>
    ).flatMap((p) => p.Properties.PolicyDocument.Statement);
  const machineWith = (substitution: string) =>
    (
      Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as Array<{
        Properties: Record<string, unknown>;
      }>
    ).find((m) => substitution in ((m.Properties.DefinitionSubstitutions as object) ?? {}))!;

  it('passes cdk-nag AwsSolutions with nothing unacknowledged', () => {
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations: unknown[] }>;
    };
    const nag = report.pluginReports.filter((p) => p.pluginName === 'AwsSolutions');
    expect(nag.flatMap((p) => p.violations)).toEqual([]);
  });

  it('fails the nag check when a construct breaks a rule (the check is live)', () => {
    const { synth: bad } = synthWithNag((app) => {
      const s = new Stack(app, 'Bad');
      new Bucket(s, 'Unlogged');
      return s;
    });
    expect(bad).toThrow(/The S3 Bucket has server access logs disabled. \(AwsSolutions\)/);
  });

  it('keeps the findings table: point-in-time recovery, deletion protection, retained, on-demand', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    });
  });

  it('has the same GSIs, keys and projections as `closeloop init`', () => {
    const table = Object.values(template.findResources('AWS::DynamoDB::Table'))[0] as {
      Properties: { GlobalSecondaryIndexes: unknown[] };
    };
    expect(table.Properties.GlobalSecondaryIndexes).toEqual(createTableInput('closeloop').GlobalSecondaryIndexes);
    expect(INDEXES.map((i) => i.name)).toContain('byScope');
  });

  it('runs both ingest functions on Node.js 24, arm64, with X-Ray and the table and key configured', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^closeloop: ingest') },
    });
    expect(Object.keys(functions)).toHaveLength(2);
    for (const fn of Object.values(functions) as Array<{ Properties: Record<string, unknown> }>) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        Environment: {
          Variables: expect.objectContaining({
            CLOSELOOP_TABLE: expect.anything(),
            CLOSELOOP_DEPLOYMENT_KEY_SECRET: expect.anything(),
          }),
        },
      });
    }
  });

  it('grants the ingest roles only the DynamoDB actions ingest uses, on the table and its named indexes', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{
      Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } };
    }>;
    const dynamo = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
    const ingest = dynamo.filter((s) => [s.Action].flat().includes('dynamodb:BatchWriteItem'));
    const tickets = dynamo.filter(
      (s) => [s.Action].flat().includes('dynamodb:UpdateItem') || [s.Action].flat().join() === 'dynamodb:Query',
    );
    const reports = dynamo.filter((s) => [s.Action].flat().sort().join() === 'dynamodb:GetItem,dynamodb:Query');
    const audit = dynamo.filter((s) => [s.Action].flat().includes('dynamodb:Scan'));
    const lifecycle = dynamo.filter(
      (s) => !ingest.includes(s) && !tickets.includes(s) && !reports.includes(s) && !audit.includes(s),
    );
    expect(reports).toHaveLength(2); // the report API and the export worker read only
    // The digest writer and the audit verifier: the base table's items (Scan) and a chain's events (Query), no index, no write.
    expect(audit).toHaveLength(2);
    for (const statement of audit) {
      expect([statement.Action].flat().sort()).toEqual(['dynamodb:Query', 'dynamodb:Scan']);
      expect(JSON.stringify(statement.Resource)).not.toContain('/index/');
    }
    expect(ingest).toHaveLength(3); // report ingest, Security Hub ingest, credential hygiene
    expect(lifecycle).toHaveLength(5); // lifecycle step, starter, decisions; rotation step, rotation events (the rotation function itself has no table access)
    expect(tickets).toHaveLength(5); // sync and webhooks (outbox, leases, tracker), the notifier (notices, digests); the relay only queries; the scanner write-back
    for (const statement of ingest)
      expect([statement.Action].flat().sort()).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
      ]);
    for (const statement of lifecycle)
      expect([statement.Action].flat().sort()).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
      ]);
    for (const statement of dynamo) {
      expect(JSON.stringify(statement.Resource)).not.toContain('index/*');
      expect([statement.Action].flat()).not.toEqual(expect.arrayContaining(['dynamodb:DeleteItem']));
    }
  });

  it('routes S3 uploads through SQS with a DLQ, and alarms on the DLQs', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { QueueConfigurations: [Match.objectLike({ Events: ['s3:ObjectCreated:*'] })] },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }) });
    // DLQs of report ingest, Security Hub ingest, ticket sync, rotation events, report exports, scanner write-back,
    // notifier, audit digest runs; failed rotation executions; notifier errors; the digest writer failed, stopped,
    // or found the trail disagreeing with its digests.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 13);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [Match.anyValue()],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('ingests Security Hub "Findings - Imported" events with a DLQ on the target', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.securityhub'], 'detail-type': ['Security Hub Findings - Imported'] },
      Targets: [
        Match.objectLike({
          DeadLetterConfig: Match.anyValue(),
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 8 }),
        }),
      ],
    });
  });

  it('ingests the new Security Hub\'s OCSF "Findings Imported V2" events into the same function, with a DLQ', () => {
    const rules = template.findResources('AWS::Events::Rule', {
      Properties: { EventPattern: { source: ['aws.securityhub'], 'detail-type': ['Findings Imported V2'] } },
    });
    expect(Object.keys(rules)).toHaveLength(1);
    const v2 = Object.values(rules)[0] as { Properties: { Targets: Array<Record<string, unknown>> } };
    const [asff] = Object.values(
      template.findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { 'detail-type': ['Security Hub Findings - Imported'] } },
      }),
    ) as Array<{ Properties: { Targets: Array<Record<string, unknown>> } }>;
    expect(v2.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: asff!.Properties.Targets[0]!.Arn,
        DeadLetterConfig: expect.anything(),
        RetryPolicy: expect.objectContaining({ MaximumRetryAttempts: 8 }),
      }),
    ]);
  });

  it('keeps reports private, encrypted, TLS-only and access-logged', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'reports/' }),
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  it('deploys the lifecycle from the same ASL file, Standard, with logging ALL and X-Ray', () => {
    const definition = readFileSync(
      join(__dirname, '..', '..', '..', 'statemachines', 'finding-lifecycle.asl.json'),
      'utf8',
    );
    const machine = machineWith('LifecycleStepFunctionArn');
    expect(machine.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: expect.objectContaining({ Level: 'ALL', IncludeExecutionData: true }),
      DefinitionSubstitutions: {
        LifecycleStepFunctionArn: expect.anything(),
        SecretRotationStateMachineArn: expect.anything(),
      },
      DefinitionS3Location: expect.objectContaining({ Key: expect.stringMatching(/\.json$/) }),
    });
    // DefinitionBody.fromFile ships the file as an asset: the same bytes the local runner executes.
    const key = (machine.Properties.DefinitionS3Location as { Key: string }).Key;
    expect(readFileSync(join(assembly.directory, `asset.${key}`), 'utf8')).toBe(definition);
  });

  it('deploys the secret rotation machine from its ASL file, Standard, with logging ALL and X-Ray', () => {
    const definition = readFileSync(
      join(__dirname, '..', '..', '..', 'statemachines', 'secret-rotation.asl.json'),
      'utf8',
    );
    const machine = machineWith('RotationStepFunctionArn');
    expect(machine.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: expect.objectContaining({ Level: 'ALL', IncludeExecutionData: true }),
    });
    const key = (machine.Properties.DefinitionS3Location as { Key: string }).Key;
    expect(readFileSync(join(assembly.directory, `asset.${key}`), 'utf8')).toBe(definition);
  });

  it('gives auditors a role that can read and export reports and nothing else; the report functions only read the table', () => {
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: { Description: Match.stringLikeRegexp('^closeloop auditor') },
    });
    expect(Object.keys(roles)).toHaveLength(1);
    const [roleId, role] = Object.entries(roles)[0]! as [string, { Properties: Record<string, unknown> }];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{
      Properties: { Roles: Array<{ Ref: string }>; PolicyDocument: { Statement: Statement[] } };
    }>;
    const statementsOf = (ref: string) =>
      policies
        .filter((p) => p.Properties.Roles.some((r) => r.Ref === ref))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const statements = statementsOf(roleId);
    expect(statements).toEqual([expect.objectContaining({ Action: 'execute-api:Invoke', Effect: 'Allow' })]);
    const resources = JSON.stringify(statements[0]!.Resource);
    expect(resources).toMatch(/\/GET\/reports\/\*"/);
    expect(resources).toMatch(/\/POST\/reports\/\*\/exports"/);
    expect(resources).not.toMatch(/findings|webhooks/);

    const roleOf = (description: string) =>
      (
        Object.values(
          template.findResources('AWS::Lambda::Function', { Properties: { Description: description } }),
        ) as Array<{ Properties: { Role: { 'Fn::GetAtt': [string, string] } } }>
      )[0]!.Properties.Role['Fn::GetAtt'][0];
    const api = statementsOf(roleOf('closeloop: auditor reports API'));
    const worker = statementsOf(roleOf('closeloop: auditor report exports (background)'));
    const actions = (st: Statement[]) => st.flatMap((x) => [x.Action].flat());
    for (const fn of [api, worker]) {
      expect(
        actions(fn)
          .filter((a) => a.startsWith('dynamodb:'))
          .sort(),
      ).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
      expect(actions(fn).filter((a) => /^(states|iam):/.test(a))).toEqual([]);
    }
    // Secrets: the API reads only the key that signs its cursors, never the deployment key.
    expect(actions(worker).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    const secretReads = api.filter((x) => [x.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    const cursorKey = Object.keys(
      template.findResources('AWS::SecretsManager::Secret', {
        Properties: { Description: 'closeloop report API: HMAC key of the paging cursors' },
      }),
    );
    expect(cursorKey).toHaveLength(1);
    expect(secretReads.map((x) => x.Resource)).toEqual([{ Ref: cursorKey[0] }]);
    expect(actions(api).filter((a) => a.startsWith('sqs:'))).toEqual([]);
    // The worker may only hand a failed export to its dead-letter queue.
    expect(
      worker.filter((x) => [x.Action].flat().some((a) => a.startsWith('sqs:'))).map((x) => [x.Action].flat().sort()),
    ).toEqual([['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']]);
    // The API: records requests (request.json only), reads export files to sign links, starts the worker.
    const s3Of = (st: Statement[]) =>
      st
        .filter((x) => [x.Action].flat().some((a) => a.startsWith('s3:')))
        .map((x) => [[x.Action].flat().join(), JSON.stringify(x.Resource).replace(/.*"(\/exports[^"]*)".*/, '$1')]);
    expect(s3Of(api).sort()).toEqual([
      ['s3:GetObject', '/exports/*'],
      ['s3:PutObject', '/exports/*/request.json'],
    ]);
    expect(s3Of(worker)).toEqual([['s3:PutObject', '/exports/*']]);
    expect(api.filter((x) => [x.Action].flat().includes('lambda:InvokeFunction'))).toHaveLength(1);
    // The export bucket: private, encrypted, TLS only, access-logged, files expire.
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { LogFilePrefix: 'report-exports/', DestinationBucketName: Match.anyValue() },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30 })] },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  describe('the audit digests', () => {
    const writerRole = () =>
      (
        Object.values(
          template.findResources('AWS::Lambda::Function', {
            Properties: { Description: 'closeloop: audit trail digest writer' },
          }),
        ) as Array<{ Properties: { Role: { 'Fn::GetAtt': [string, string] } } }>
      )[0]!.Properties.Role['Fn::GetAtt'][0];
    const bucketId = () =>
      Object.keys(template.findResources('AWS::S3::Bucket', { Properties: { ObjectLockEnabled: true } }))[0]!;
    const keyId = () =>
      Object.keys(template.findResources('AWS::KMS::Key', { Properties: { KeySpec: 'ECC_NIST_P256' } }))[0]!;
    const policies = () =>
      Object.values(template.findResources('AWS::IAM::Policy')) as Array<{
        Properties: { Roles: Array<{ Ref: string }>; PolicyDocument: { Statement: Statement[] } };
      }>;

    it('keeps digests in an Object Lock bucket (compliance mode, retention from the policy), private, TLS only, logged', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: { LogFilePrefix: 'audit-digests/', DestinationBucketName: Match.anyValue() },
        PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true, RestrictPublicBuckets: true }),
      });
      expect(
        template.findResources('AWS::S3::Bucket', { Properties: { ObjectLockEnabled: true } })[bucketId()]!,
      ).toMatchObject({
        DeletionPolicy: 'Retain',
      });
    });

    it('signs with an asymmetric SIGN_VERIFY key whose policy lets the digest writer alone sign', () => {
      const key = template.findResources('AWS::KMS::Key', { Properties: { KeySpec: 'ECC_NIST_P256' } })[keyId()]! as {
        Properties: {
          KeyUsage: string;
          KeyPolicy: { Statement: Array<Statement & { Effect: string; Sid: string; Principal: unknown }> };
        };
        DeletionPolicy: string;
      };
      expect(key.Properties.KeyUsage).toBe('SIGN_VERIFY');
      expect(key.DeletionPolicy).toBe('Retain');
      const statements = key.Properties.KeyPolicy.Statement;
      const allowing = (action: string) =>
        statements.filter(
          (st) =>
            st.Effect === 'Allow' &&
            [st.Action]
              .flat()
              .some((a) => a === action || a === 'kms:*' || (a.endsWith('*') && action.startsWith(a.slice(0, -1)))),
        );
      expect(allowing('kms:Sign').map((st) => st.Sid)).toEqual(['SignOnlyAsTheDigestWriter']);
      expect(JSON.stringify(allowing('kms:Sign')[0]!.Principal)).toContain(writerRole());
      expect(statements.find((st) => st.Sid === 'NobodyElseSigns')).toMatchObject({
        Effect: 'Deny',
        Action: 'kms:Sign',
        Principal: { AWS: '*' },
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [writerRole(), 'Arn'] } } },
      });
    });

    it('gives the writer exactly what it needs, and no other role kms:Sign or a write to the digest bucket', () => {
      const own = policies()
        .filter((p) => p.Properties.Roles.some((r) => r.Ref === writerRole()))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
      const actions = own.flatMap((st) => [st.Action].flat()).sort();
      expect(actions).toEqual(
        [
          'dynamodb:Query',
          'dynamodb:Scan',
          'kms:Sign',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          's3:GetObject',
          's3:ListBucket',
          's3:PutObject',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:SendMessage',
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ].sort(),
      );
      const others = policies()
        .filter((p) => !p.Properties.Roles.some((r) => r.Ref === writerRole()))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
      expect(others.length).toBeGreaterThan(20);
      const signs = (a: string) => a === '*' || a === 'kms:*' || a === 'kms:Sign' || a === 'kms:Sign*';
      expect(others.filter((st) => [st.Action].flat().some(signs))).toEqual([]);
      const touchesDigests = (st: Statement) =>
        JSON.stringify(st.Resource).includes(bucketId()) || [st.Resource].flat().includes('*');
      const writes = (a: string) => a === '*' || a === 's3:*' || /^s3:(Put|Delete|Restore|Replicate|Bypass)/.test(a);
      expect(others.filter((st) => touchesDigests(st) && [st.Action].flat().some(writes))).toEqual([]);
      // And the bucket policy refuses writes by anyone else, and deletions by anyone.
      const bucketPolicy = Object.values(template.findResources('AWS::S3::BucketPolicy')).find((p) =>
        JSON.stringify((p as { Properties: { Bucket: unknown } }).Properties.Bucket).includes(bucketId()),
      ) as { Properties: { PolicyDocument: { Statement: Array<Statement & { Effect: string; Sid?: string }> } } };
      const sids = bucketPolicy.Properties.PolicyDocument.Statement.map((st) => `${st.Effect} ${st.Sid ?? ''}`);
      expect(sids).toEqual(expect.arrayContaining(['Deny OnlyTheDigestWriterWrites', 'Deny NobodyDeletesOrUnlocks']));
    });

    it('runs the writer on the policy schedule, one at a time, with a DLQ and alarms (failed, stopped, anomalies)', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        Description: 'closeloop: seal the audit trail every 60 minutes',
        ScheduleExpression: 'rate(1 hour)',
        Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue(), RetryPolicy: Match.anyValue() })],
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'closeloop: audit trail digest writer',
        ReservedConcurrentExecutions: 1,
        Environment: {
          Variables: Match.objectLike({
            CLOSELOOP_DIGEST_BUCKET: { Ref: bucketId() },
            CLOSELOOP_DIGEST_KEY: { 'Fn::GetAtt': [keyId(), 'Arn'] },
          }),
        },
      });
      for (const description of [/digest writer failed/, /no audit digest run/, /disagrees with its digests/])
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmDescription: Match.stringLikeRegexp(description.source),
          AlarmActions: [Match.anyValue()],
        });
    });

    it("takes the schedule and the retention from the deploy file's policy", () => {
      const { stack: configured } = synthWithNag(
        (app) =>
          new CloseloopStack(app, 'Configured', {
            policy: { audit: { digestIntervalMinutes: 15, digestRetentionDays: 2557 } },
          }),
      );
      const t = Template.fromStack(configured);
      t.hasResourceProperties('AWS::S3::Bucket', {
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2557 } },
        },
      });
      t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    });

    it('gives auditors a verifier role that reads the table and the digests and fetches the public key, nothing else', () => {
      const role = Object.keys(
        template.findResources('AWS::IAM::Role', {
          Properties: { Description: Match.stringLikeRegexp('^closeloop audit verifier') },
        }),
      );
      expect(role).toHaveLength(1);
      const actions = policies()
        .filter((p) => p.Properties.Roles.some((r) => r.Ref === role[0]))
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .flatMap((st) => [st.Action].flat())
        .sort();
      expect(actions).toEqual(['dynamodb:Query', 'dynamodb:Scan', 'kms:GetPublicKey', 's3:GetObject', 's3:ListBucket']);
    });
  });

  it('puts every findings and decisions route behind IAM authorisation; only the three signed webhooks are open', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as Array<{
      Properties: { HttpMethod: string; AuthorizationType: string };
    }>;
    const routes = methods.filter((m) => m.Properties.HttpMethod !== 'OPTIONS');
    expect(routes.filter((m) => m.Properties.HttpMethod === 'POST')).toHaveLength(13); // decisions (9), webhooks (Jira, Jira DC, ServiceNow), report exports
    expect(routes.filter((m) => m.Properties.HttpMethod === 'GET')).toHaveLength(4); // findings, a finding, reports, an export
    expect(routes.filter((m) => m.Properties.AuthorizationType === 'AWS_IAM')).toHaveLength(14);
    expect(routes.filter((m) => m.Properties.AuthorizationType === 'NONE')).toHaveLength(3);
  });

  it('has no people API without an identity provider in the policy', () => {
    expect(template.findResources('AWS::ApiGatewayV2::Api')).toEqual({});
  });

  it("with the policy's identity provider: the same decision routes and function behind its JWT authorizer, nag-clean", () => {
    const issuer = 'https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0';
    const { stack: people, synth: synthPeople } = synthWithNag(
      (app) =>
        new CloseloopStack(app, 'People', {
          policy: {
            identity: { oidc: { issuer, audience: ['api://closeloop'], principalClaim: 'preferred_username' } },
          },
        }),
    );
    const report = JSON.parse(readFileSync(join(synthPeople().directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations: unknown[] }>;
    };
    expect(report.pluginReports.filter((p) => p.pluginName === 'AwsSolutions').flatMap((p) => p.violations)).toEqual(
      [],
    );
    const t = Template.fromStack(people);
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: issuer, Audience: ['api://closeloop'] },
    });
    const routes = Object.values(t.findResources('AWS::ApiGatewayV2::Route')) as Array<{
      Properties: { RouteKey: string; AuthorizationType: string };
    }>;
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(
      FINDING_ROUTES.map((r) => `${r.method} ${r.resource}`).sort(),
    );
    expect(new Set(routes.map((r) => r.Properties.AuthorizationType))).toEqual(new Set(['JWT']));
    const decisions = Object.keys(
      t.findResources('AWS::Lambda::Function', { Properties: { Description: 'closeloop: lifecycle decisions API' } }),
    );
    expect(decisions).toHaveLength(1);
    t.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [decisions[0], 'Arn'] },
    });
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('authorizer.claims.sub') },
    });
    t.hasOutput('PeopleApi', {});
  });

  it('syncs tickets from an SQS queue with partial batch failures, a DLQ and a scheduled outbox relay', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 50,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: 'closeloop: relay pending ticket work',
      ScheduleExpression: 'rate(1 minute)',
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: Match.stringLikeRegexp('ticketing credentials'),
    });
    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }) });
  });

  it('notifies on a schedule: the notifier publishes to its encrypted topic only, reads its webhook secret, retries, and alarms via a DLQ and on errors', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: 'closeloop: send notification digests',
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2 }, DeadLetterConfig: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'closeloop notifications',
      KmsMasterKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: Match.stringLikeRegexp('Slack or Teams webhook URL'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 0,
      AlarmActions: [Match.anyValue()],
    });
    const notifier = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      (f.Properties as { Description?: string }).Description?.startsWith('closeloop: tell people'),
    )!;
    expect(Object.keys((notifier.Properties as { Environment: { Variables: object } }).Environment.Variables)).toEqual(
      expect.arrayContaining(['CLOSELOOP_TABLE', 'CLOSELOOP_NOTIFY_SECRET', 'CLOSELOOP_NOTIFY_TOPIC_ARN']),
    );
    const publish = statements().filter((st) => [st.Action].flat().includes('sns:Publish'));
    expect(publish).toHaveLength(1);
    expect([publish[0]!.Action].flat()).toEqual(['sns:Publish']);
    expect(JSON.stringify(publish[0]!.Resource)).toContain('NotificationsTopic');
    const kms = statements().filter((st) => JSON.stringify(st.Resource).includes('NotificationsTopicKey'));
    expect(kms.map((st) => [st.Action].flat().sort())).toEqual([['kms:Decrypt', 'kms:GenerateDataKey']]);
  });

  it('lets the decisions and webhook Lambdas, report ingest and credential hygiene (clean re-scans) and the rotation machine resume waits, and only the ingests, the sweep, the lifecycle and the rotation events start executions', () => {
    const withAction = (action: string) => statements().filter((s) => [s.Action].flat().includes(action));
    expect(withAction('states:SendTaskSuccess')).toHaveLength(5);
    // the sweep; the lifecycle (continue-as-new, and starting a rotation); the rotation events (retiring old keys);
    // the three ingests (S3 reports, Security Hub, credential hygiene), right after their commit
    expect(withAction('states:StartExecution')).toHaveLength(7);
    const lifecycleArn = (s: { Resource: unknown }) => JSON.stringify(s.Resource).includes('-finding-lifecycle');
    const ingestStarts = withAction('states:StartExecution').filter(
      (s) => lifecycleArn(s) && [s.Action].flat().length === 1,
    );
    expect(ingestStarts.length).toBeGreaterThanOrEqual(3);
    // Machines named by ARN pattern use Step Functions' colon form (arn:…:stateMachine:name).
    for (const s of [...withAction('states:StartExecution'), ...withAction('states:SendTaskSuccess')])
      expect(JSON.stringify(s.Resource)).not.toContain('stateMachine/');
  });

  it('scopes rotation: Secrets Manager only on secrets tagged closeloop:rotator, the failure tag only, no IAM without named users', () => {
    const secretsManager = statements().filter(
      (s) =>
        [s.Action]
          .flat()
          .some((a) =>
            /^secretsmanager:(PutSecretValue|RotateSecret|UpdateSecretVersionStage|GetSecretValue)$/.test(a),
          ) && JSON.stringify(s.Resource).includes(':secret:*'),
    );
    expect(secretsManager.length).toBeGreaterThanOrEqual(2);
    for (const s of secretsManager)
      expect(s.Condition).toEqual({ StringLike: { 'aws:ResourceTag/closeloop:rotator': '*' } });
    const tagging = statements().filter((s) => [s.Action].flat().includes('secretsmanager:UntagResource'));
    expect(tagging).toEqual([
      expect.objectContaining({
        Condition: expect.objectContaining({
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['closeloop:rotation-failed-step'] },
        }),
      }),
    ]);
    const writesIam = statements().filter((s) =>
      [s.Action].flat().some((a) => /^iam:(CreateAccessKey|UpdateAccessKey|DeleteAccessKey)$/.test(a)),
    );
    expect(writesIam).toEqual([]);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.secretsmanager'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        detail: { eventName: ['RotationSucceeded', 'RotationFailed', 'RotationAbandoned'] },
      },
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: 'closeloop: credential hygiene (NHI7, NHI1)',
      ScheduleExpression: 'rate(1 day)',
    });
  });

  it('with ServiceNow configured, the lifecycle step reads the ticketing secret to ask the CMDB for owners', () => {
    const t = Template.fromStack(
      new CloseloopStack(new App({ context: NO_BUNDLING }), 'WithServiceNow', {
        ticketing: {
          servicenow: {
            SERVICENOW_URL: 'https://acme.service-now.com',
            SERVICENOW_USER: 'closeloop',
            SERVICENOW_TABLE: 'sn_si_task',
          },
        },
      }),
    );
    const step = Object.values(
      t.findResources('AWS::Lambda::Function', { Properties: { Description: 'closeloop: finding lifecycle step' } }),
    ) as Array<{ Properties: { Environment: { Variables: Record<string, unknown> } } }>;
    expect(step).toHaveLength(1);
    expect(step[0]!.Properties.Environment.Variables).toMatchObject({
      SERVICENOW_URL: 'https://acme.service-now.com',
      CLOSELOOP_TICKETING_SECRET: expect.anything(),
    });
  });

  it('with managed secrets and users configured: rotation schedules, and IAM key actions only on the users named', () => {
    const { stack: configured, synth: synthConfigured } = synthWithNag(
      (app) =>
        new CloseloopStack(app, 'Configured', {
          rotation: {
            managedSecretArns: [
              'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/payments-ci/access-key-AbCdEf',
            ],
            managedIamUserArns: ['arn:aws:iam::123456789012:user/payments-ci'],
            containmentIamUserArns: ['arn:aws:iam::123456789012:user/legacy/*'],
            scheduleDays: 14,
          },
        }),
    );
    const configuredReport = JSON.parse(
      readFileSync(join(synthConfigured().directory, 'validation-report.json'), 'utf8'),
    ) as { pluginReports: Array<{ pluginName: string; violations: unknown[] }> };
    const t = Template.fromStack(configured);
    t.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/payments-ci/access-key-AbCdEf',
      RotationRules: { ScheduleExpression: 'rate(14 days)' },
    });
    const all = (
      Object.values(t.findResources('AWS::IAM::Policy')) as Array<{
        Properties: { PolicyDocument: { Statement: Statement[] } };
      }>
    ).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const keyWrites = all.filter((s) =>
      [s.Action].flat().some((a) => /^iam:(CreateAccessKey|UpdateAccessKey|DeleteAccessKey)$/.test(a)),
    );
    expect(keyWrites.length).toBeGreaterThan(0);
    for (const s of keyWrites)
      for (const r of [s.Resource].flat())
        expect(['arn:aws:iam::123456789012:user/payments-ci', 'arn:aws:iam::123456789012:user/legacy/*']).toContain(r);
    const createKey = keyWrites.filter((s) => [s.Action].flat().includes('iam:CreateAccessKey'));
    expect(createKey.map((s) => s.Resource).sort()).toEqual([
      'arn:aws:iam::123456789012:user/legacy/*',
      'arn:aws:iam::123456789012:user/payments-ci',
    ]); // containment (step), managed (rotation function)
    expect(
      configuredReport.pluginReports.filter((p) => p.pluginName === 'AwsSolutions').flatMap((p) => p.violations),
    ).toEqual([]);
  });

  it('with quarantine containment: attaching and detaching AWS’s quarantine policy only, only on the managed users', () => {
    const { stack: configured, synth: synthConfigured } = synthWithNag(
      (app) =>
        new CloseloopStack(app, 'Quarantine', {
          policy: { rotation: { containment: 'quarantine' } },
          rotation: {
            managedSecretArns: [
              'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/payments-ci/access-key-AbCdEf',
            ],
            managedIamUserArns: ['arn:aws:iam::123456789012:user/payments-ci'],
          },
        }),
    );
    const report = JSON.parse(readFileSync(join(synthConfigured().directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations: unknown[] }>;
    };
    const all = (
      Object.values(Template.fromStack(configured).findResources('AWS::IAM::Policy')) as Array<{
        Properties: { PolicyDocument: { Statement: Statement[] } };
      }>
    ).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const attach = all.filter((st) => [st.Action].flat().includes('iam:AttachUserPolicy'));
    expect(attach).toEqual([
      expect.objectContaining({
        Action: ['iam:AttachUserPolicy', 'iam:DetachUserPolicy'],
        Resource: 'arn:aws:iam::123456789012:user/payments-ci',
        Condition: {
          ArnEquals: {
            'iam:PolicyARN': {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AWSCompromisedKeyQuarantineV3']],
            },
          },
        },
      }),
    ]);
    expect(report.pluginReports.filter((p) => p.pluginName === 'AwsSolutions').flatMap((p) => p.violations)).toEqual(
      [],
    );
    // The default (deactivate) grants no policy attachment at all.
    expect(statements().filter((st) => [st.Action].flat().includes('iam:AttachUserPolicy'))).toEqual([]);
  });
});
