const ERROR_BRAND = Symbol.for("@mcp-langgraph/coded-error");

export interface CodedErrorOptions {
  cause?: unknown;
  /** Safe, client-presentable facts about the failure (never secrets or tokens). */
  details?: Record<string, unknown>;
}

/**
 * Base of every package's error class: a stable string `code` plus the family
 * (package) it belongs to. Type guards check a global-symbol brand instead of
 * `instanceof`, so they keep working when two copies of a package end up in
 * one process (duplicated bundles, mixed ESM/CJS installs).
 */
export class CodedError<Code extends string = string> extends Error {
  readonly family: string;
  readonly code: Code;
  readonly details: Record<string, unknown> | undefined;

  constructor(family: string, code: Code, message: string, options: CodedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CodedError";
    this.family = family;
    this.code = code;
    this.details = options.details;
    Object.defineProperty(this, ERROR_BRAND, { value: true, enumerable: false });
  }
}

export function isCodedError(value: unknown, family?: string): value is CodedError {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<CodedError> & { [ERROR_BRAND]?: unknown };
  if (candidate[ERROR_BRAND] !== true || typeof candidate.code !== "string") return false;
  return family === undefined || candidate.family === family;
}

export type CoreErrorCode =
  | "TIMEOUT"
  | "ABORTED"
  | "CIRCUIT_OPEN"
  | "BULKHEAD_FULL"
  /** A rate counter's store (Redis) failed: limits cannot be known, so callers fail closed. */
  | "RATE_STORE_UNAVAILABLE";

/** Errors raised by the shared resilience helpers themselves. */
export class CoreError extends CodedError<CoreErrorCode> {
  constructor(code: CoreErrorCode, message: string, options?: CodedErrorOptions) {
    super("core", code, message, options);
    this.name = "CoreError";
  }
}

export const isCoreError = (value: unknown): value is CoreError => isCodedError(value, "core");
