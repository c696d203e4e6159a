/**
 * The one error a validation report is thrown as: `ValidationError` (render/issues.ts). It
 * carries Pulumi's RunError brand, so the Pulumi CLI prints the report without a stack trace,
 * and the pure layers stay free of Pulumi imports. `InvalidArgumentsError` is its former name.
 */
import { ValidationError } from "./render/issues";

/** @deprecated the same class as ValidationError; use that. */
export const InvalidArgumentsError = ValidationError;
/** @deprecated the same class as ValidationError; use that. */
export type InvalidArgumentsError = ValidationError;
