/**
 * AWS on-demand list prices the cost model uses, in one place: us-east-1, x86 Lambda, Step
 * Functions Standard workflows, DynamoDB on-demand (Standard table class, after the November 2024
 * price cut), SQS standard queues. Free tiers are ignored. Change them here (and the date) when
 * AWS changes them or for another region.
 */
export const PRICES = {
  /** When these list prices were taken from the AWS pricing pages. */
  asOf: '2025-06-01',
  region: 'us-east-1',
  /** Step Functions Standard: per state transition ($0.025 per 1,000). */
  stateTransition: 0.025 / 1000,
  /** DynamoDB on-demand: per write request unit ($0.625 per million). */
  writeRequestUnit: 0.625 / 1e6,
  /** DynamoDB on-demand: per read request unit ($0.125 per million). */
  readRequestUnit: 0.125 / 1e6,
  /** DynamoDB storage: per GB-month ($0.25). */
  storageGbMonth: 0.25,
  /** Lambda: per request ($0.20 per million). */
  lambdaRequest: 0.2 / 1e6,
  /** Lambda (x86): per GB-second. */
  lambdaGbSecond: 0.0000166667,
  /** SQS standard: per request ($0.40 per million). */
  sqsRequest: 0.4 / 1e6,
} as const;
