import type { NhiType } from '@core/finding/model';
import type { ExposureKind } from '@core/finding/standards';

/** What an identity posture finding is about. */
export interface NhiClassification {
  kind: ExposureKind;
  nhiType: NhiType;
  /**
   * A short, stable name of the issue, so two products reporting it on one resource correlate
   * (Security Hub IAM.3, CIS 1.14 and Prowler's iam_rotate_access_key_90_days are one issue).
   */
  issue: string;
}

/** What a posture finding (ASFF or OCSF) says about itself. */
export interface CheckInput {
  /** Product or tool name, lower-cased (`security hub`, `prowler`, `iam access analyzer`). */
  product: string;
  /** The check or control id: Prowler's check, a Security Hub control (`IAM.3`), a CIS id. */
  checkId: string;
  /** Free text to match phrases in: control id, generator, title, types. */
  text: string;
  /** Finding types (ASFF `Types`, OCSF `finding_info.types`). */
  types: string[];
  /** Resource types as the finding gives them (`AwsIamAccessKey`, `AWS::IAM::AccessKey`). */
  resourceTypes: string[];
}

interface Rule {
  test: (c: CheckInput) => boolean;
  classification: NhiClassification | ((c: CheckInput) => NhiClassification);
}

const check = (pattern: RegExp) => (c: CheckInput) => pattern.test(c.checkId) || pattern.test(c.text);
const own = (kind: ExposureKind, nhiType: NhiType) => (c: CheckInput) => ({
  kind,
  nhiType,
  issue: c.checkId.replace(/^prowler-/, ''),
});

/**
 * Which identity posture checks are about non-human identities, first match wins. Security
 * Hub controls, CIS recommendations and Prowler checks (AWS, Azure/Entra, GCP, Kubernetes,
 * M365, OCI, Alibaba Cloud) on access keys, unused credentials, root keys, role trust,
 * cross-account access, service principals, service accounts and their keys, and secrets
 * found in resources. Everything else is skipped and counted.
 */
const RULES: Rule[] = [
  {
    test: (c) => c.product.includes('access analyzer') || c.product.includes('access-analyzer'),
    classification: (c) =>
      /unused/i.test(`${c.types.join(' ')} ${c.text}`)
        ? { kind: 'unused_credential', nhiType: 'service_account', issue: 'unused-access' }
        : { kind: 'excessive_access', nhiType: 'service_account', issue: 'external-access' },
  },
  {
    test: check(/\biam\.3\b|iam_rotate_access_key|access keys? (are|should be) rotated|rotate.*access key/i),
    classification: { kind: 'stale_credential', nhiType: 'cloud_access_key', issue: 'access-key-not-rotated' },
  },
  {
    test: check(
      /\biam\.(8|22)\b|iam_disable_\d+_days_credentials|iam_user_accesskey_unused|unused (iam user )?credentials|credentials unused/i,
    ),
    classification: { kind: 'unused_credential', nhiType: 'cloud_access_key', issue: 'unused-credentials' },
  },
  {
    test: check(/\biam\.4\b|iam_no_root_access_key|root (user )?access key|ram_no_root_access_key/i),
    classification: { kind: 'root_credential', nhiType: 'cloud_access_key', issue: 'root-access-key' },
  },
  {
    test: check(/iam_user_two_active_access_key|two active access keys|more than one active access key/i),
    classification: { kind: 'multiple_active_keys', nhiType: 'cloud_access_key', issue: 'multiple-active-keys' },
  },
  // Secrets found in resources (Lambda variables, user data, task definitions, stack outputs…).
  {
    test: (c) =>
      !/core_no_secrets_envs/.test(c.checkId) &&
      /_no_secrets|_find_secrets|_secrets_user_data|_no_environment_secrets|ssm_document_secrets|_no_sensitive_credentials/.test(
        c.checkId,
      ),
    classification: own('leaked_secret', 'generic_secret'),
  },
  // Long-lived or unrotated keys and secrets.
  {
    test: check(
      /ram_rotate_access_key|iam_user_no_setup_initial_access_key|iam_user_with_temporary_credentials|iam_no_expired_server_certificates|iam_sa_no_user_managed_keys|iam_sa_user_managed_key_rotate|apikeys_key_rotated|apikeys_key_exists|storage_key_rotation|storage_account_key_access_disabled|keyvault_(rbac|non_rbac)_secret_expiration|entra_app_registration_credential_not_expired|entra_service_principal_no_secrets|identity_user_(api_keys|auth_tokens|customer_secret_keys|db_passwords)_rotated|objectstorage_access_key_expiration|organizations_service_account_secrets_expiration|secretsmanager_automatic_rotation|secretsmanager_secret_rotated|secretmanager_secret_rotation|apiserver_no_token_auth_file|bedrock_api_key_no_long_term_credentials|app_function_access_keys_configured|authentication_token_not_expired/,
    ),
    classification: (c) => ({
      kind: 'stale_credential',
      nhiType: /certificate/.test(c.checkId)
        ? 'certificate'
        : /_sa_|service_account|service_principal|app_registration/.test(c.checkId)
          ? 'service_account'
          : /access_key|accesskey|ram_/.test(c.checkId)
            ? 'cloud_access_key'
            : /secret/.test(c.checkId)
              ? 'generic_secret'
              : 'api_key',
      issue: c.checkId.replace(/^prowler-/, ''),
    }),
  },
  // Unused identities and keys.
  {
    test: check(
      /iam_sa_user_managed_key_unused|iam_service_account_unused|entra_app_registration_client_secret_unused|secretsmanager_secret_unused|iam_role_access_not_stale|authentication_no_stale_tokens/,
    ),
    classification: (c) => ({
      kind: 'unused_credential',
      nhiType: /secret/.test(c.checkId) ? 'generic_secret' : 'service_account',
      issue: c.checkId.replace(/^prowler-/, ''),
    }),
  },
  // Role trust, cross-account access and over-privileged workload identities.
  {
    test: check(
      /iam_role_(permissive_trust_relationship|administratoraccess_policy|cross_account|cross_service_confused_deputy)|iam_no_custom_policy_permissive_role_assumption|_cross_account_(access|layers|sharing)|iam_sa_no_administrative_privileges|iam_no_service_roles_at_project_level|iam_role_sa_enforce_separation_of_duties|default_service_account|gke_cluster_no_default_service_account|app_function_identity_without_admin_privileges|entra_service_principal_privileged_role|entra_app_registration_no_unused_privileged_permissions|rbac_minimize_service_account_token_creation|rbac_minimize_secret_access|rbac_cluster_admin_usage|apikeys_api_restrictions_configured|bedrock_api_key_no_administrative_privileges|identity_tenancy_admin_users_no_api_keys|iam_api_keys_no_root_owned|iam_workload_identity_pool_provider_attribute_condition|apitoken_not_super_admin/,
    ),
    classification: (c) => ({
      kind: 'excessive_access',
      nhiType: /apikeys|api_key|apitoken/.test(c.checkId) ? 'api_key' : 'service_account',
      issue: c.checkId.replace(/^prowler-/, ''),
    }),
  },
  // How workloads authenticate: service-account signing keys and lookups, static token files.
  {
    test: check(
      /apiserver_service_account_(key_file_set|lookup_true|plugin)|controllermanager_service_account_(credentials|private_key_file)/,
    ),
    classification: own('insecure_authentication', 'service_account'),
  },
  {
    test: (c) =>
      c.resourceTypes.some((t) => t === 'AwsIamAccessKey' || t === 'AWS::IAM::AccessKey') ||
      c.types.some((t) => /IAMUser|CredentialAccess|InstanceCredentialExfiltration/.test(t)),
    classification: { kind: 'anomalous_use', nhiType: 'cloud_access_key', issue: 'anomalous-credential-use' },
  },
];

const classified = new Map<string, NhiClassification | null>();

/** The NHI classification of a posture check, or undefined when it is not about non-human identities. */
export function classifyCheck(input: CheckInput): NhiClassification | undefined {
  // A report repeats a few checks over many resources: each is classified once.
  const key = [
    input.product,
    input.checkId,
    input.text,
    input.types.join('\u0001'),
    input.resourceTypes.join('\u0001'),
  ].join('\u0000');
  let result = classified.get(key);
  if (result === undefined) {
    const rule = RULES.find((r) => r.test(input));
    result = !rule
      ? null
      : typeof rule.classification === 'function'
        ? rule.classification(input)
        : rule.classification;
    if (classified.size > 10_000) classified.clear();
    classified.set(key, result);
  }
  return result ?? undefined;
}
