/** Base of every error closeloop raises on purpose. Messages never contain a secret. */
export class CloseloopError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CloseloopError';
  }
}

/** Options of an error about what a caller gave: the request fields its message names. */
export interface FieldErrorOptions extends ErrorOptions {
  /**
   * The fields the message names, as the API's body names them (`reason`, `evidence.ref`), so
   * that each front end can speak its own language (the CLI says `--reason`).
   */
  fields?: readonly string[];
}

/** Input that cannot be used as given: a bad argument, an unreadable report. */
export class InputError extends CloseloopError {
  /** The request fields the message names (see FieldErrorOptions). */
  readonly fields: readonly string[];
  constructor(message: string, options?: FieldErrorOptions) {
    super(message, options);
    this.name = 'InputError';
    this.fields = options?.fields ?? [];
  }
}

/** A report file that cannot be read as its format at all (nothing from it is written). */
export class UnreadableReportError extends InputError {
  constructor(
    readonly file: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${detail}`, options);
    this.name = 'UnreadableReportError';
  }
}

/** Missing or invalid configuration, found at start-up. */
export class ConfigurationError extends CloseloopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigurationError';
  }
}

/** A finding id that does not exist in the store. */
export class FindingNotFoundError extends CloseloopError {
  constructor(
    readonly findingId: string,
    options?: ErrorOptions,
  ) {
    super(`finding ${findingId} not found`, options);
    this.name = 'FindingNotFoundError';
  }
}

/** Optimistic-concurrency retries ran out: another writer kept changing the same finding. */
export class ConcurrentUpdateError extends CloseloopError {
  constructor(
    readonly findingId: string,
    options?: ErrorOptions,
  ) {
    super(`finding ${findingId} kept changing under concurrent writers; retries exhausted`, options);
    this.name = 'ConcurrentUpdateError';
  }
}

/** An action the policy refuses (separation of duties, missing role, wrong phase). Nothing changed. */
export class RefusedError extends CloseloopError {
  /** The request fields the message names (see FieldErrorOptions). */
  readonly fields: readonly string[];
  constructor(message: string, options?: FieldErrorOptions) {
    super(message, options);
    this.name = 'RefusedError';
    this.fields = options?.fields ?? [];
  }
}

/**
 * A call to an external system whose outcome is unknown (timeout, connection lost, 5xx after
 * the request was sent): it may or may not have taken effect, so it is never blindly repeated.
 */
export class AmbiguousOutcomeError extends CloseloopError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AmbiguousOutcomeError';
  }
}

/**
 * Whether an external call certainly did not take effect (the system refused it: 4xx). Only
 * then may a create be recorded as refused; any other failure leaves it uncertain.
 */
export function definitelyNotApplied(err: unknown): boolean {
  return err instanceof CloseloopError && (err as { notApplied?: unknown }).notApplied === true;
}
