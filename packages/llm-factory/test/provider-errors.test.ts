import { CoreError } from "@mcp-langgraph/core";
import { describe, expect, it } from "vitest";
import { guardErrorToLlmError } from "../src/guarded-call.ts";
import { isLlmError, LlmError } from "../src/index.ts";
import { isRetryable, retryAfterOf, toLlmError } from "../src/provider-errors.ts";

const context = { provider: "openai", model: "gpt-4o-mini" };

describe("toLlmError", () => {
  it("reads Retry-After as seconds, as an HTTP date, and as retry-after-ms", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterOf({ headers: new Headers({ "retry-after": "3" }) }, now)).toBe(3_000);
    expect(retryAfterOf({ headers: { "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" } }, now)).toBe(5_000);
    expect(retryAfterOf({ headers: new Headers({ "retry-after-ms": "250", "retry-after": "9" }) }, now)).toBe(
      250,
    );
    expect(retryAfterOf({ $response: { headers: { "retry-after": "2" } } }, now)).toBe(2_000);
    expect(retryAfterOf({ headers: { "retry-after": "whenever" } }, now)).toBeUndefined();
  });

  it("classifies AWS service exceptions by their HTTP status", () => {
    const throttled = Object.assign(new Error("slow down"), {
      name: "ThrottlingException",
      $metadata: { httpStatusCode: 429 },
    });
    expect(toLlmError(throttled, context).code).toBe("LLM_RATE_LIMITED");
  });

  it("classifies network resets as transient and retryable", () => {
    const reset = new TypeError("fetch failed", {
      cause: Object.assign(new Error("read"), { code: "ECONNRESET" }),
    });
    const error = toLlmError(reset, context);
    expect(error.code).toBe("LLM_UNAVAILABLE");
    expect(isRetryable(error)).toBe(true);
  });

  it("does not retry an unrecognised failure", () => {
    const error = toLlmError(new RangeError("something odd"), context);
    expect(error.code).toBe("LLM_UNAVAILABLE");
    expect(isRetryable(error)).toBe(false);
  });

  it("keeps provider error bodies out of the message", () => {
    const leaky = Object.assign(new Error("prompt was: my secret plan"), { status: 400 });
    const error = toLlmError(leaky, context);
    expect(error.message).not.toContain("secret");
    expect(error.cause).toBe(leaky);
  });

  it("passes LlmErrors through unchanged", () => {
    const original = new LlmError("LLM_AUTH", "nope");
    expect(toLlmError(original, context)).toBe(original);
  });

  it("translates the shared guards' errors", () => {
    const open = guardErrorToLlmError(
      new CoreError("CIRCUIT_OPEN", "open", { details: { retryInMs: 5 } }),
      context,
    );
    expect(open).toMatchObject({ code: "LLM_UNAVAILABLE", details: { circuit: "open", retryInMs: 5 } });
    const full = guardErrorToLlmError(new CoreError("BULKHEAD_FULL", "full"), context);
    expect(full).toMatchObject({ code: "LLM_OVERLOADED", details: { local: true } });
    expect(isLlmError(full)).toBe(true);
  });
});

describe("isLlmError", () => {
  it("recognises LlmErrors by brand and family, not by shape", () => {
    const foreign = new LlmError("LLM_TIMEOUT", "late");
    expect(isLlmError({ ...foreign })).toBe(false);
    expect(isLlmError(foreign)).toBe(true);
    expect(isLlmError(new Error("plain"))).toBe(false);
    expect(isLlmError(new CoreError("TIMEOUT", "core"))).toBe(false);
  });
});
