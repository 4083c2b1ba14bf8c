import { z } from 'zod';
import { RefusedError } from '../shared/errors';
import type { Policy } from './policy';

/**
 * Who authenticated a request, as the hub's edge saw it. Nothing here comes from what the
 * caller wrote in a body: an AWS ARN is SigV4's verdict (API Gateway), OIDC claims are the
 * enterprise IdP's (API Gateway's JWT authorizer checked signature, issuer, audience and expiry),
 * a ticket user is the ticketing system's (a signed webhook), a local name is the keyboard's.
 */
export type Caller =
  | { kind: 'aws'; arn: string }
  | { kind: 'oidc'; issuer: string; subject: string; claims: Readonly<Record<string, unknown>> }
  | { kind: 'ticket'; system: 'jira' | 'jira-dc' | 'servicenow'; user: string; email?: string }
  | { kind: 'local'; name: string };

/** A caller as a policy principal: the name policy rules compare, and the full identity the audit trail keeps. */
export interface Actor {
  /** The principal the policy names (owner checks, roles, separation of duties). */
  name: string;
  /** What authenticated the caller, in full: an ARN, `oidc:<issuer>#<subject>`, `jira:<accountId>`, `local:<name>`. */
  identity: string;
}

/** An IAM principal as its ARN says (API Gateway's `requestContext.identity.userArn`). */
export type AwsPrincipal =
  | { type: 'user'; arn: string; partition: string; account: string; name: string }
  | {
      type: 'role_session';
      arn: string;
      partition: string;
      account: string;
      roleName: string;
      /** The role's ARN without its path (an assumed-role ARN does not carry the path). */
      roleArn: string;
      session: string;
    }
  | { type: 'other'; arn: string };

const USER_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):user\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/;
const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/;
const ASSUMED_ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/([\w+=,.@-]+)$/;

/** What an IAM ARN names: an IAM user, a role session, or something else (root, a federated user). */
export function parseAwsPrincipal(arn: string): AwsPrincipal {
  const user = USER_ARN.exec(arn);
  if (user) return { type: 'user', arn, partition: user[1]!, account: user[2]!, name: user[3]! };
  const session = ASSUMED_ROLE_ARN.exec(arn);
  if (session) {
    const [, partition, account, roleName, name] = session as unknown as [string, string, string, string, string];
    return {
      type: 'role_session',
      arn,
      partition,
      account,
      roleName,
      roleArn: `arn:${partition}:iam::${account}:role/${roleName}`,
      session: name,
    };
  }
  return { type: 'other', arn };
}

/** IAM Identity Center's permission-set roles: AWS sets their session name to the user's Identity Center user name. */
export const IDENTITY_CENTER_ROLE_PREFIX = 'AWSReservedSSO_';

/** A role ARN reduced to what an assumed-role ARN can be compared with: partition, account, name. */
function roleKey(roleArn: string): string | undefined {
  const m = ROLE_ARN.exec(roleArn);
  return m ? `${m[1]}:${m[2]}:${m[3]!.toLowerCase()}` : undefined;
}

/**
 * One identity a policy principal is bound to. Exactly one kind per entry:
 * - `iamUser`: an IAM user's ARN;
 * - `iamRole`: whoever holds a session of that role (the role is the authority; the session
 *   name is not read), or with `session`, only that session of a role whose session names are
 *   trusted (IAM Identity Center, or listed in `identity.sessionPinningRoles`);
 * - `identityCenter`: an IAM Identity Center user name, through any permission-set role;
 * - `oidc`: an enterprise-IdP subject (`sub`), optionally of one `issuer`;
 * - `jira`: a Jira Cloud accountId or email; `jiraDc`: a Jira Data Center user name or email;
 *   `servicenow`: a ServiceNow user name (`sys_user.user_name`) or email.
 */
export const IdentityBindingSchema = z
  .object({
    iamUser: z.string().regex(USER_ARN, 'must be an IAM user ARN such as arn:aws:iam::123456789012:user/alice'),
    iamRole: z.string().regex(ROLE_ARN, 'must be an IAM role ARN such as arn:aws:iam::123456789012:role/Approver'),
    session: z.string().min(1),
    identityCenter: z.string().min(1),
    oidc: z.string().min(1),
    issuer: z.url(),
    jira: z.string().min(1),
    jiraDc: z.string().min(1),
    servicenow: z.string().min(1),
  })
  .partial()
  .strict()
  .superRefine((b, ctx) => {
    const kinds = (['iamUser', 'iamRole', 'identityCenter', 'oidc', 'jira', 'jiraDc', 'servicenow'] as const).filter(
      (k) => b[k] !== undefined,
    );
    if (kinds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `must name exactly one of iamUser, iamRole, identityCenter, oidc, jira, jiraDc, servicenow (got ${kinds.length === 0 ? 'none' : kinds.join(', ')})`,
      });
    if (b.session !== undefined && b.iamRole === undefined)
      ctx.addIssue({ code: 'custom', message: '"session" goes with "iamRole"' });
    if (b.issuer !== undefined && b.oidc === undefined)
      ctx.addIssue({ code: 'custom', message: '"issuer" goes with "oidc"' });
  });
export type IdentityBinding = z.infer<typeof IdentityBindingSchema>;

/** How callers are identified (who may be trusted for what), beside the principals' bindings. */
export const IdentitySettingsSchema = z
  .object({
    /**
     * Roles whose trust policy pins the session name to an identity the caller cannot choose
     * (`sts:RoleSessionName` = `${aws:username}`, or the session name equal to an IdP-set
     * `sts:SourceIdentity`): their session names are trusted as people's names.
     */
    sessionPinningRoles: z
      .array(z.string().regex(ROLE_ARN, 'must be an IAM role ARN such as arn:aws:iam::123456789012:role/Approver'))
      .default([]),
    /** Trust the session names of IAM Identity Center roles (`AWSReservedSSO_*`), which AWS sets to the user name. */
    identityCenter: z.boolean().default(true),
    /** People through the enterprise IdP: API Gateway's JWT authorizer (an HTTP API beside the IAM one). */
    oidc: z
      .object({
        /** The IdP's issuer, exactly as the tokens' `iss` (Entra ID: `https://login.microsoftonline.com/<tenant>/v2.0`). */
        issuer: z.url({ protocol: /^https$/ }),
        /** Accepted `aud` (or `client_id`) values: the API's app registration / audience. */
        audience: z.array(z.string().min(1)).min(1),
        /** The claim that names the principal, e.g. `preferred_username`, `email`, `upn`; `sub` by default. */
        principalClaim: z.string().min(1).default('sub'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .default({ sessionPinningRoles: [], identityCenter: true });
export type IdentitySettings = z.infer<typeof IdentitySettingsSchema>;

/** Whether the session name of this role session is set by something other than the caller. */
export function sessionNameTrusted(
  principal: Extract<AwsPrincipal, { type: 'role_session' }>,
  settings: IdentitySettings,
): boolean {
  if (settings.identityCenter && principal.roleName.startsWith(IDENTITY_CENTER_ROLE_PREFIX)) return true;
  const key = roleKey(principal.roleArn);
  return settings.sessionPinningRoles.some((r) => roleKey(r) === key);
}

/** Whether a role's session names may be bound (`iamRole` + `session`): an Identity Center role or a pinning one. */
export function roleTrustsSessionNames(roleArn: string, settings: IdentitySettings): boolean {
  const m = ROLE_ARN.exec(roleArn);
  if (!m) return false;
  if (settings.identityCenter && m[3]!.startsWith(IDENTITY_CENTER_ROLE_PREFIX)) return true;
  return settings.sessionPinningRoles.some((r) => roleKey(r) === roleKey(roleArn));
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Whether a caller is this bound identity. */
function bound(binding: IdentityBinding, caller: Caller, settings: IdentitySettings): boolean {
  switch (caller.kind) {
    case 'aws': {
      const p = parseAwsPrincipal(caller.arn);
      if (binding.iamUser !== undefined) return p.type === 'user' && p.arn === binding.iamUser;
      if (p.type !== 'role_session') return false;
      if (binding.iamRole !== undefined) {
        if (roleKey(binding.iamRole) !== roleKey(p.roleArn)) return false;
        return binding.session === undefined || (sessionNameTrusted(p, settings) && same(binding.session, p.session));
      }
      if (binding.identityCenter !== undefined)
        return (
          settings.identityCenter &&
          p.roleName.startsWith(IDENTITY_CENTER_ROLE_PREFIX) &&
          same(binding.identityCenter, p.session)
        );
      return false;
    }
    case 'oidc':
      return (
        binding.oidc !== undefined &&
        binding.oidc === caller.subject &&
        (binding.issuer === undefined || binding.issuer === caller.issuer)
      );
    case 'ticket': {
      const value = { jira: binding.jira, 'jira-dc': binding.jiraDc, servicenow: binding.servicenow }[caller.system];
      return (
        value !== undefined && (value === caller.user || (caller.email !== undefined && same(value, caller.email)))
      );
    }
    case 'local':
      return false;
  }
}

/** The full identity of a caller, as the audit trail records it. */
export function describeCaller(caller: Caller): string {
  switch (caller.kind) {
    case 'aws':
      return caller.arn;
    case 'oidc':
      return `oidc:${caller.issuer}#${caller.subject}`;
    case 'ticket':
      return `${caller.system}:${caller.user}`;
    case 'local':
      return `local:${caller.name}`;
  }
}

/**
 * The policy principal a caller is, by identities nobody can choose for themselves:
 * 1. a principal bound to the caller's identity (`principals[].identities`);
 * 2. otherwise a name the caller did not choose: an IAM user's ARN; for a role session, the
 *    role's ARN (the role is the authority), or the session name when AWS (Identity Center) or
 *    the role's trust policy (`identity.sessionPinningRoles`) set it; an IdP token's configured
 *    claim; a ticket user's email when the ticketing system shows it, else `jira:<accountId>` /
 *    `servicenow:<user>`; a local name as typed (the CLI and `serve` on loopback trust the keyboard).
 * A session name the caller chose is never a person's name: `assume-role --role-session-name alice`
 * makes the role's ARN act, not alice.
 */
export function resolveActor(caller: Caller, policy: Pick<Policy, 'principals' | 'identity'>): Actor {
  const identity = describeCaller(caller);
  const match = policy.principals.find((p) => (p.identities ?? []).some((b) => bound(b, caller, policy.identity)));
  if (match) return { name: match.name, identity };
  switch (caller.kind) {
    case 'aws': {
      const p = parseAwsPrincipal(caller.arn);
      if (p.type === 'role_session')
        return { name: sessionNameTrusted(p, policy.identity) ? p.session : p.roleArn, identity };
      return { name: p.arn, identity };
    }
    case 'oidc': {
      const claim = policy.identity.oidc?.principalClaim ?? 'sub';
      const value = claim === 'sub' ? caller.subject : caller.claims[claim];
      if (typeof value !== 'string' || value.trim() === '')
        throw new RefusedError(`the identity provider's token has no "${claim}" claim to name the principal`);
      return { name: value.trim(), identity };
    }
    case 'ticket':
      return { name: caller.email ?? identity, identity };
    case 'local':
      return { name: caller.name, identity };
  }
}
