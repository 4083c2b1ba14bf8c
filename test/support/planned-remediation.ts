import type { FindingStore } from '@core/finding/ports';
import { remediationNotConfigured, type RemediationPort } from '@core/lifecycle/ports';
import { isPreAuthorized, type Policy } from '@core/policy/policy';

/**
 * Remediation as if a managed secret held every API key and cloud key of the hub: their rotation
 * can run, so one the policy does not pre-authorize waits for an approver (the plan comes first:
 * issue 17.2). Once approved, or for anything else, this hub has no rotation configured and the
 * owner fixes it.
 */
export function plannedRotations(store: FindingStore, policy: Policy): RemediationPort {
  return {
    remediate: async (request) => {
      const f = await store.get(request.findingId);
      const rotatable = f !== undefined && ['api_key', 'cloud_access_key'].includes(f.nhiType);
      if (!rotatable || request.lifecycle.signal?.decision === 'approved' || isPreAuthorized('rotate', f, policy))
        return remediationNotConfigured.remediate(request);
      return { remediation: 'needs_approval', reason: `rotating the secret that holds ${f.id} needs an approval` };
    },
  };
}
