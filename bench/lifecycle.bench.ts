/**
 * State transitions per lifecycle path, on the real step handlers and DynamoDB Local, with the
 * real rotation machine against the stateful Secrets Manager / IAM / STS fakes (the rotation is
 * its own execution on AWS, so its transitions are reported separately).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RemediationPort } from '../core/lifecycle/ports';
import { DEFAULT_POLICY } from '../core/policy/policy';
import { ingestReportFiles } from '../connectors/sources/ingest-reports';
import { LocalLifecycleRunner } from '../local/lifecycle-runner';
import { LocalRotationRunner } from '../local/rotation-runner';
import { aGitleaksRecord } from '../test/support/factories';
import { aRotationWorld } from '../test/support/rotation';
import { freshTable, type BenchTopic } from './harness';

export interface LifecycleResult {
  autoRemediationTransitions: number;
  autoRemediationPath: string;
  autoRemediationStatus: string;
  rotationMachineTransitions: number;
  rotationMachinePath: string;
  approvalThenRemediationTransitions: number;
  approvalRequestTransitions: number | undefined;
  duplicateStartStartedExecution: boolean;
  target: number;
}

export const lifecycleBench: BenchTopic<LifecycleResult> = {
  name: 'lifecycle',
  async run(ctx) {
    const { client } = await ctx.dynamo();
    const clock = ctx.clock;
    const world = aRotationWorld();
    try {
      const users = ['bench-a', 'bench-b', 'bench-c'].map((u) => world.managedIamUser(u));
      const file = join(ctx.dir, 'lifecycle.json');
      writeFileSync(
        file,
        JSON.stringify(
          users.map((u, i) =>
            aGitleaksRecord({
              RuleID: 'aws-access-token',
              Secret: u.key.AccessKeyId,
              Match: `key=${u.key.AccessKeyId}`,
              StartLine: 10 + i,
              Fingerprint: `bench:${i}`,
            }),
          ),
        ),
      );
      const store = await freshTable(client, 'bench-lifecycle');
      await ingestReportFiles([file], { store, clock, hasher: world.hasher });
      const [a, b, c] = await store.list();
      const autoPolicy = {
        ...DEFAULT_POLICY,
        preAuthorized: [
          {
            action: 'rotate' as const,
            nhiTypes: ['cloud_access_key' as const],
            severities: ['critical' as const, 'high' as const, 'medium' as const, 'low' as const, 'info' as const],
            onlyWhenActive: false,
          },
        ],
      };
      const ownerPolicy = { ...DEFAULT_POLICY, preAuthorized: [] };
      const rotationPaths: string[][] = [];
      const remediationFor = (policy: typeof DEFAULT_POLICY): RemediationPort => {
        const rotations = new LocalRotationRunner({ store, clock, policy, control: world.control });
        return {
          remediate: async (request) => {
            const run = await rotations.run(request);
            rotationPaths.push(run.path);
            return run.outcome;
          },
        };
      };
      const autoRunner = new LocalLifecycleRunner({
        store,
        clock,
        policy: autoPolicy,
        remediation: remediationFor(autoPolicy),
      });
      const auto = await autoRunner.start(a!);
      const autoRotation = rotationPaths.at(-1) ?? [];
      const ownerRunner = new LocalLifecycleRunner({
        store,
        clock,
        policy: ownerPolicy,
        remediation: remediationFor(ownerPolicy),
      });
      const first = await ownerRunner.start(b!);
      const approved = await ownerRunner.resume((await store.get(b!.id))!, 'approval_decided', {
        signal: { decision: 'approved', by: 'bench' },
      });
      const duplicate = await autoRunner.start((await store.get(a!.id))!);
      const approval = await ownerRunner.start(c!);
      return {
        autoRemediationTransitions: auto!.path.length,
        autoRemediationPath: auto!.path.join(' > '),
        autoRemediationStatus: (await store.get(a!.id))!.status,
        rotationMachineTransitions: autoRotation.length,
        rotationMachinePath: autoRotation.join(' > '),
        approvalThenRemediationTransitions: (first?.path.length ?? 0) + approved.path.length,
        approvalRequestTransitions: approval?.path.length,
        duplicateStartStartedExecution: duplicate !== undefined,
        target: 16,
      };
    } finally {
      world.restore();
    }
  },
  print: (lc) => [
    `lifecycle: happy path (auto-remediation) ${lc.autoRemediationTransitions} state transitions (target ≤ ${lc.target}), finding ${lc.autoRemediationStatus}: ${lc.autoRemediationPath}`,
    `lifecycle: its rotation execution ${lc.rotationMachineTransitions} transitions (locally no grace/deletion wait): ${lc.rotationMachinePath}`,
    `lifecycle: approval then remediation ${lc.approvalThenRemediationTransitions} transitions over two executions; a duplicate start started an execution: ${lc.duplicateStartStartedExecution}`,
  ],
};
