import type { Finding } from '@core/finding/model';
import type { FindingStore } from '@core/finding/ports';
import { remediationNotConfigured } from '@core/lifecycle/ports';
import type { ResumeAt, Signal } from '@core/lifecycle/state';
import type { Policy } from '@core/policy/policy';
import type { Clock } from '@core/shared/clock';
import { LocalLifecycleRunner } from '@local/lifecycle-runner';

/**
 * A local lifecycle runner with nothing to remediate with, and the decision deps whose signaller
 * resumes its lifecycles: what tests of evidence that resumes an owner-fix wait (a clean re-scan,
 * the credential hygiene run) need.
 */
export function localDecisions(store: FindingStore, clock: Clock, policy: Policy) {
  const lifecycles = new LocalLifecycleRunner({ store, clock, policy, remediation: remediationNotConfigured });
  const deps = {
    store,
    clock,
    policy,
    signaller: {
      signal: async (finding: Finding, resumeAt: ResumeAt, signal: Signal) =>
        (await lifecycles.resume(finding, resumeAt, { signal })).outcome,
    },
  };
  return { lifecycles, deps };
}
