import type { AuditAction } from '../audit/actions';
import type { Clock } from '../shared/clock';
import { CloseloopError } from '../shared/errors';
import { updateFinding } from '../finding/update';
import type { Evidence, Finding } from '../finding/model';
import { isPreAuthorized, type Policy } from '../policy/policy';
import { redactText } from '../shared/redaction';
import type { FindingStore } from '../finding/ports';
import {
  quarantinePolicyArn,
  rotationTokenFor,
  type RemediationOutcome,
  type RemediationPlan,
  type RotationState,
  type RotationStepName,
} from './model';
import type { ManagedSecretStore } from './managed-secrets';
import type { AccessKeyRef, CredentialControl } from './ports';

/** What a rotation step needs; built once per Lambda environment or local hub. */
export interface RotationDeps {
  store: FindingStore;
  clock: Clock;
  policy: Policy;
  control: CredentialControl;
  /** Records of managed secrets: where a retirement after a scheduled rotation is recorded. */
  secrets?: ManagedSecretStore;
}

const ACTOR = 'closeloop:rotation';
const HOUR_S = 3600;

/** A step that cannot go on: the machine's Catch routes it to RecordFailure, naming the state. */
export class RotationStepError extends CloseloopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RotationStepError';
  }
}

const keyEvidenceRef = (key: AccessKeyRef) => `iam:user/${key.userName}#key-hmac:${key.keyRef}`;

/**
 * Runs one step of statemachines/secret-rotation.asl.json. The same function serves the
 * rotation-step Lambda and the local runner; `deps.control` is AWS or the dry run.
 */
export async function runRotationStep(
  step: RotationStepName,
  input: RotationState,
  deps: RotationDeps,
): Promise<RotationState> {
  const state = await runOne(step, input, deps);
  const calls = deps.control.drainCalls();
  return calls.length > 0 ? { ...state, calls: [...(state.calls ?? []), ...calls] } : state;
}

type Note = { action: AuditAction; reason: string; evidenceRef?: string; data?: Record<string, unknown> };

/**
 * Records what a step did: on the finding (remediation), or on the managed secret's record
 * (retirement after a scheduled rotation). `evidence` is added to the finding only.
 */
async function record(
  state: RotationState,
  deps: RotationDeps,
  step: RotationStepName,
  note: Note,
  evidence?: (at: string) => Evidence,
  status?: Finding['status'],
): Promise<void> {
  if (state.findingId) {
    await updateFinding(deps.store, deps.clock, state.findingId, (f, at) => ({
      finding: {
        ...f,
        ...(status ? { status } : {}),
        ...(evidence ? { evidence: [...f.evidence, evidence(at)] } : {}),
      },
      events: [{ actor: ACTOR, ...note, ...(status && status !== f.status ? { from: f.status, to: status } : {}) }],
    }));
    return;
  }
  const plan = state.plan;
  if (!deps.secrets || !plan?.secretArn)
    throw new RotationStepError(`nothing to record ${note.action} on: no finding and no managed secret`);
  await deps.secrets.record(
    {
      secretArn: plan.secretArn,
      name: plan.secretName ?? plan.secretArn,
      ...(plan.rotator ? { rotator: plan.rotator } : {}),
      deliveryId: `${state.rotationToken ?? 'none'}:${step}`,
      event: { actor: ACTOR, ...note },
    },
    deps.clock.now().toISOString(),
  );
}

/** What one rotation step gets, with the helpers every step shares. */
interface StepInput {
  state: RotationState;
  deps: RotationDeps;
  step: RotationStepName;
  /** Evidence recorded by this step, marked simulated in a dry run. */
  evidence(kind: Evidence['kind'], ref: string, at: string): Evidence;
  /** Appended to what a dry run records. */
  dryRunNote: string;
}
type Step = (input: StepInput) => Promise<RotationState>;

async function runOne(step: RotationStepName, state: RotationState, deps: RotationDeps): Promise<RotationState> {
  const simulated = deps.control.simulated;
  return STEPS[step]({
    state,
    deps,
    step,
    evidence: (kind, ref, at) => ({ kind, ref, at, recordedBy: ACTOR, simulated }),
    dryRunNote: simulated ? ' (dry run: simulated, not closing evidence)' : '',
  });
}

/** Finds what can fix the finding (a managed secret, a leaked IAM key) and checks the policy or the approval. */
const plan: Step = async ({ state, deps, dryRunNote }) => {
  const { store, clock, policy, control } = deps;
  const simulated = control.simulated;
  if (!state.findingId || !state.generation)
    throw new RotationStepError('a remediation plan needs a finding id and generation');
  const id = state.findingId;
  const finding = await store.get(id);
  if (!finding) throw new RotationStepError(`finding ${id} not found`);
  const approved = state.lifecycle?.signal?.decision === 'approved';
  const planned = await planRemediation(finding, approved, deps);
  const { lifecycle: _read, ...rest } = state;
  const base: RotationState = {
    ...rest,
    approved,
    simulated,
    plan: planned,
    rotationToken: rotationTokenFor(id, state.generation, state.lifecycleTaskToken),
    checks: 0,
    maxChecks: policy.rotation.maxChecks,
    // The credential of a finding was exposed: its old key gets no grace period (that is for
    // scheduled rotations of keys nobody saw, the `retire` mode).
    graceSeconds: 0,
    deleteAfterSeconds: policy.rotation.deleteAfterDays * 24 * HOUR_S,
  };
  if (planned.action === 'rotate_secret' || planned.action === 'contain_key') {
    await updateFinding(store, clock, id, (f) => ({
      finding: { ...f, status: 'remediating' },
      events: [
        {
          actor: ACTOR,
          action: 'remediation.started',
          from: f.status,
          to: 'remediating',
          reason: `${planned.reason}${dryRunNote}`,
          data: { action: planned.action, simulated, ...(planned.secretName ? { secret: planned.secretName } : {}) },
        },
      ],
    }));
    return base;
  }
  const outcome: RemediationOutcome = {
    remediation: planned.action === 'needs_approval' ? 'needs_approval' : 'not_configured',
    reason: planned.reason,
    simulated,
  };
  await updateFinding(store, clock, id, (f) => ({
    finding: f,
    events: [
      {
        actor: ACTOR,
        action: planned.action === 'needs_approval' ? 'remediation.needs_approval' : 'remediation.unavailable',
        reason: planned.reason,
      },
    ],
  }));
  return { ...base, outcome };
};

/** RotateSecret with the token derived from the finding: a retry joins the same rotation. */
const startRotation: Step = async ({ state, deps }) => {
  const { secretArn } = requirePlan(state, 'rotate_secret');
  await deps.control.startRotation(secretArn!, state.rotationToken!);
  return { ...state, checks: 0 };
};

/** Is the new version AWSCURRENT, still AWSPENDING, or failed? Bounded by `maxChecks`. */
const checkRotation: Step = async ({ state, deps }) => {
  const { secretArn } = requirePlan(state, 'rotate_secret');
  const progress = await deps.control.rotationProgress(secretArn!, state.rotationToken!);
  const checks = (state.checks ?? 0) + 1;
  if (progress.status === 'failed')
    return { ...state, checks, progress: 'failed', failedStep: `Secrets Manager ${progress.failedStep}` };
  if (progress.status === 'pending' && checks >= (state.maxChecks ?? deps.policy.rotation.maxChecks)) {
    return {
      ...state,
      checks,
      progress: 'timed_out',
      failedStep: `CheckRotation (still AWSPENDING after ${checks} checks)`,
    };
  }
  return { ...state, checks, progress: progress.status };
};

/**
 * Contains the leaked key a managed secret holds before rotating it (policy `rotation.containment`):
 * deactivated at once (evidence key_deactivated), or its user quarantined with AWS's managed policy
 * until the rotation has replaced it.
 */
const containExposedKey: Step = async (input) => {
  const { state, deps, dryRunNote } = input;
  const { secretArn, secretName } = requirePlan(state, 'rotate_secret');
  const key = await deps.control.currentAccessKey(secretArn!);
  if (!key) throw new RotationStepError(`${secretName ?? secretArn} holds no IAM access key`);
  const ref = keyEvidenceRef(key);
  if (deps.policy.rotation.containment === 'quarantine') {
    await deps.control.quarantineUser(key.userName);
    await record(state, deps, input.step, {
      action: 'key.quarantined',
      evidenceRef: ref,
      reason: `the leaked key of ${key.userName} is contained: ${quarantinePolicyArn().split('/').pop()} attached to ${key.userName} until the rotation of ${secretName} has replaced the key, then the key is deactivated${dryRunNote}`,
      data: { userName: key.userName, policy: 'AWSCompromisedKeyQuarantineV3' },
    });
    return { ...state, contained: { ...key, how: 'quarantined' } };
  }
  await deps.control.deactivateAccessKey(key);
  await record(
    state,
    deps,
    input.step,
    {
      action: 'key.contained',
      evidenceRef: ref,
      reason: `the leaked key of ${key.userName} is deactivated before the rotation of ${secretName} replaces it${dryRunNote}`,
      data: { userName: key.userName, how: 'deactivated' },
    },
    (at) => input.evidence('key_deactivated', ref, at),
  );
  return { ...state, contained: { ...key, how: 'deactivated' } };
};

/**
 * Deactivates the rotated-out key (evidence key_deactivated): after a scheduled rotation, when its
 * grace period is over; after a leaked key's rotation, at once. A leaked key containment already
 * deactivated needs nothing more; one it quarantined is deactivated now and its user's quarantine
 * lifted (the new key belongs to the same user).
 */
const deactivateOldKey: Step = async (input) => {
  const { state, deps, dryRunNote } = input;
  const { secretArn } = requirePlan(state, 'rotate_secret');
  const old = await deps.control.previousAccessKey(secretArn!);
  const contained = state.contained;
  if (old && !(contained?.how === 'deactivated' && contained.keyRef === old.keyRef)) {
    await deps.control.deactivateAccessKey(old);
    const ref = keyEvidenceRef(old);
    const when =
      state.mode === 'retire'
        ? `after the ${deps.policy.rotation.graceHours} h grace period`
        : 'at once: it was exposed, so it gets no grace period';
    await record(
      state,
      deps,
      input.step,
      {
        action: 'key.deactivated',
        evidenceRef: ref,
        reason: `the rotated-out key of ${old.userName} is inactive ${when}${dryRunNote}`,
      },
      (at) => input.evidence('key_deactivated', ref, at),
    );
  }
  if (contained?.how === 'quarantined') {
    await deps.control.liftQuarantine(contained.userName);
    await record(state, deps, input.step, {
      action: 'key.quarantine_lifted',
      reason: `the leaked key of ${contained.userName} is replaced and inactive: the quarantine policy is detached from ${contained.userName}${dryRunNote}`,
      data: { userName: contained.userName },
    });
  }
  return old ? { ...state, oldKey: old } : state; // no old key: a freshly imported secret's first rotation
};

/** A new AWSCURRENT version; the old key inactive. */
const verify: Step = async ({ state, deps }) => {
  const { secretArn, rotator } = requirePlan(state, 'rotate_secret');
  const progress = await deps.control.rotationProgress(secretArn!, state.rotationToken!);
  if (progress.status !== 'succeeded')
    throw new RotationStepError(`the new version is not AWSCURRENT (${progress.status})`);
  if (rotator === 'iam_access_key' && state.oldKey) {
    const status = await deps.control.accessKeyStatus(state.oldKey);
    if (status === 'Active') throw new RotationStepError(`the old key of ${state.oldKey.userName} is still active`);
  }
  return state;
};

/** Evidence rotation_record on the finding (or the managed secret's record) and an audit event. */
const recordEvidence: Step = async (input) => {
  const { state, deps } = input;
  const simulated = deps.control.simulated;
  const { secretArn, secretName } = requirePlan(state, 'rotate_secret');
  const ref = `${secretArn}#version:${state.rotationToken}`;
  const reason = simulated
    ? 'rotation simulated (dry run): not closing evidence'
    : `rotated ${secretName}: a new AWSCURRENT version, the old one no longer current`;
  await record(
    state,
    deps,
    input.step,
    {
      action: state.findingId ? 'remediation.completed' : 'rotation.verified',
      evidenceRef: ref,
      reason,
      data: { simulated, calls: state.calls ?? [] },
    },
    (at) => input.evidence('rotation_record', ref, at),
    'verifying',
  );
  return {
    ...state,
    outcome: {
      remediation: 'done',
      reason: simulated ? 'rotation simulated (dry run)' : `rotated ${secretName}`,
      simulated,
    },
  };
};

/** Deletes the deactivated key, `deleteAfterDays` later; an audit event. */
const deleteOldKey: Step = async ({ state, deps, step, dryRunNote }) => {
  if (!state.oldKey) return state;
  await deps.control.deleteAccessKey(state.oldKey);
  await record(state, deps, step, {
    action: 'key.deleted',
    evidenceRef: keyEvidenceRef(state.oldKey),
    reason: `the rotated-out key of ${state.oldKey.userName} deleted ${deps.policy.rotation.deleteAfterDays} days after deactivation${dryRunNote}`,
  });
  return state;
};

/** Deactivates the leaked key; a replacement key in a new secret; the owner is told where. */
const containKey: Step = async (input) => {
  const { state, deps, dryRunNote } = input;
  const { store, clock, control } = deps;
  const simulated = control.simulated;
  const id = state.findingId!;
  const planned = requirePlan(state, 'contain_key');
  // The plan found it (user and key HMAC): no second search through every user of the account.
  const finding = planned.keyRef ? undefined : await store.get(id);
  const key =
    planned.userName && planned.keyRef
      ? (await control.accessKeyStatus({ userName: planned.userName, keyRef: planned.keyRef })) === 'deleted'
        ? undefined
        : { userName: planned.userName, keyRef: planned.keyRef }
      : finding
        ? await control.findLeakedAccessKey(finding)
        : undefined;
  if (!key)
    throw new RotationStepError(`the leaked key of ${planned.userName ?? 'its user'} is no longer in the account`);
  await control.deactivateAccessKey(key);
  const replacement = await control.createReplacementKey(key.userName, id);
  const where = replacement
    ? `a replacement key is in Secrets Manager secret ${replacement.name}`
    : `no replacement created: ${key.userName} already has two access keys`;
  await updateFinding(store, clock, id, (f, at) => ({
    finding: {
      ...f,
      status: 'verifying',
      evidence: [...f.evidence, input.evidence('key_deactivated', keyEvidenceRef(key), at)],
    },
    events: [
      {
        actor: ACTOR,
        action: 'key.contained',
        from: f.status,
        to: 'verifying',
        evidenceRef: keyEvidenceRef(key),
        reason: `leaked key of ${key.userName} deactivated; ${where}; the owner moves its consumers to the new key${dryRunNote}`,
        data: {
          simulated,
          ...(replacement ? { replacementSecret: replacement.secretArn } : {}),
          calls: state.calls ?? [],
        },
      },
    ],
  }));
  return {
    ...state,
    oldKey: key,
    ...(replacement ? { replacementSecretArn: replacement.secretArn } : {}),
    outcome: { remediation: 'done', reason: `leaked key deactivated; ${where}`, simulated },
  };
};

/** AWSPENDING removed and the pending credential discarded (AWSCURRENT untouched); an escalation naming the step. */
const recordFailure: Step = async ({ state, deps, step }) => {
  const { store, clock, policy, control } = deps;
  const simulated = control.simulated;
  const planned = state.plan;
  const failedStep = state.failedStep ?? 'unknown step';
  const cause = state.error?.Cause
    ? describeCause(state.error.Cause)
    : state.progress === 'failed'
      ? 'the rotation Lambda reported a failure'
      : '';
  if (planned?.action === 'rotate_secret' && planned.secretArn && state.rotationToken && state.mode !== 'retire')
    await control.abandonRotation(planned.secretArn, state.rotationToken);
  const contained =
    state.contained?.how === 'quarantined'
      ? `; the leaked key stays contained (${state.contained.userName} keeps the quarantine policy until the key is replaced)`
      : state.contained?.how === 'deactivated'
        ? '; the leaked key stays deactivated'
        : '';
  const reason =
    state.mode === 'retire'
      ? `retiring the rotated-out key failed at ${failedStep}${cause ? `: ${cause}` : ''}; escalated to ${policy.escalationContact}`
      : `rotation failed at ${failedStep}${cause ? `: ${cause}` : ''}; the secret stays on its previous AWSCURRENT version${contained}; escalated to ${policy.escalationContact}; the owner fixes it`;
  const data = { failedStep, escalatedTo: policy.escalationContact };
  if (state.findingId) {
    await updateFinding(store, clock, state.findingId, (f) => ({
      finding: { ...f, status: f.status === 'remediating' ? 'open' : f.status },
      events: [
        {
          actor: ACTOR,
          action: 'remediation.failed',
          ...(f.status === 'remediating' ? { from: 'remediating', to: 'open' } : {}),
          reason,
          data,
        },
      ],
    }));
  } else {
    await record(state, deps, step, { action: 'rotation.failed', reason, data });
  }
  return { ...state, outcome: { remediation: 'failed', reason, failedStep, simulated } };
};

/** The step table: one function per Task state of statemachines/secret-rotation.asl.json. */
const STEPS: Readonly<Record<RotationStepName, Step>> = {
  plan,
  start_rotation: startRotation,
  check_rotation: checkRotation,
  deactivate_old_key: deactivateOldKey,
  verify,
  record_evidence: recordEvidence,
  delete_old_key: deleteOldKey,
  contain_key: containKey,
  contain_exposed_key: containExposedKey,
  record_failure: recordFailure,
};

async function planRemediation(finding: Finding, approved: boolean, deps: RotationDeps): Promise<RemediationPlan> {
  const { control, policy } = deps;
  const managed = await control.findManagedSecret(finding);
  if (managed) {
    // A leaked IAM key is contained before the rotation replaces it; other credentials only the rotation can replace.
    const containFirst = managed.rotator === 'iam_access_key';
    const containment = policy.rotation.containment === 'quarantine' ? 'quarantine its user' : 'deactivate it';
    const plan: RemediationPlan = {
      action: 'rotate_secret',
      reason: containFirst
        ? `contain the leaked key (${containment}), then rotate ${managed.name} (${managed.rotator.replace(/_/g, ' ')})`
        : `rotate ${managed.name} (${managed.rotator.replace(/_/g, ' ')})`,
      secretArn: managed.secretArn,
      secretName: managed.name,
      rotator: managed.rotator,
      ...(containFirst ? { containFirst } : {}),
    };
    if (approved || isPreAuthorized('rotate', finding, policy)) return plan;
    return {
      ...plan,
      action: 'needs_approval',
      reason: `rotating ${managed.name} needs approval by someone holding the ${policy.approverRoles[finding.severity]} role`,
    };
  }
  if (finding.nhiType === 'cloud_access_key') {
    const key = await control.findLeakedAccessKey(finding);
    if (key) {
      const plan: RemediationPlan = {
        action: 'contain_key',
        reason: `deactivate the leaked key of ${key.userName} and store a replacement in a new secret`,
        userName: key.userName,
        keyRef: key.keyRef,
      };
      if (approved || isPreAuthorized('deactivate_key', finding, policy)) return plan;
      return {
        ...plan,
        action: 'needs_approval',
        reason: `deactivating the leaked key of ${key.userName} needs approval by someone holding the ${policy.approverRoles[finding.severity]} role (policy does not pre-authorize deactivate_key)`,
      };
    }
  }
  return {
    action: 'none',
    reason:
      'rotation not configured for this credential: no managed secret (tag closeloop:rotator) holds it and no IAM access key in this account matches it',
  };
}

function requirePlan(state: RotationState, action: RemediationPlan['action']): RemediationPlan {
  if (state.plan?.action !== action)
    throw new RotationStepError(`expected a ${action} plan, found ${state.plan?.action ?? 'none'}`);
  return state.plan;
}

/** The message of a Lambda error Cause (JSON with errorMessage) or the text itself, shortened. */
function describeCause(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    return redactText(parsed.errorMessage ?? cause).slice(0, 300);
  } catch {
    return redactText(cause).slice(0, 300);
  }
}
