// asl-validator ships JavaScript only; this is the part of its API the tests use.
declare module 'asl-validator' {
  interface AslValidationResult {
    isValid: boolean;
    errors: Array<{ message: string }>;
    errorsText: (separator?: string) => string;
  }
  export default function validateAsl(definition: unknown): AslValidationResult;
}
