import type { RemediationOutcome } from '../rotation/model';
import type { LifecycleState } from './state';

/** What the lifecycle's Remediate state hands the rotation machine. */
export interface RemediationRequest {
  findingId: string;
  generation: number;
  /** The lifecycle's state: the rotation reads an approval from its signal. */
  lifecycle: LifecycleState;
  lifecycleTaskToken: string;
}

/**
 * Automated remediation as the lifecycle sees it: run the rotation machine for a finding and
 * get its outcome. On AWS the Remediate state starts statemachines/secret-rotation.asl.json
 * itself; locally the runner calls this port (local/rotation-runner.ts).
 */
export interface RemediationPort {
  remediate(request: RemediationRequest): Promise<RemediationOutcome>;
}

/** No rotation at all: every automated remediation falls back to the owner. */
export const remediationNotConfigured: RemediationPort = {
  remediate: async () => ({ remediation: 'not_configured', reason: 'rotation not configured' }),
};
