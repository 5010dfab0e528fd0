import { AuthError } from "@mcp-langgraph/auth-provider";
import { CoreError } from "@mcp-langgraph/core";
import { SessionError } from "@mcp-langgraph/session";
import { describe, expect, it } from "vitest";
import { failureHeaders, httpFailureOf } from "../src/http-errors.ts";

describe("httpFailureOf: the one map from package error codes to HTTP", () => {
  it.each([
    [new AuthError("TOKEN_INVALID", "x"), 401],
    [new AuthError("API_KEY_INVALID", "x"), 401],
    [new AuthError("INVALID_CREDENTIALS", "x"), 401],
    [new AuthError("INVALID_ARGUMENT", "key name must be 1-64 printable characters"), 400],
    [new AuthError("API_KEY_LIMIT", "x"), 409],
    [new AuthError("NOT_FOUND", "x"), 404],
    [new AuthError("FORBIDDEN", "x"), 403],
    [new AuthError("AUTH_UNAVAILABLE", "x", { details: { reason: "overloaded" } }), 503],
    [new AuthError("AUTH_UNAVAILABLE", "x"), 503],
    [new SessionError("SESSION_UNAVAILABLE", "x"), 503],
    [new SessionError("SESSION_CLOSED", "x"), 503],
    [new SessionError("SESSION_INVALID_INPUT", "x"), 400],
    [new CoreError("BULKHEAD_FULL", "x"), 503],
    [new CoreError("TIMEOUT", "x"), 503],
    [new DOMException("The operation timed out.", "TimeoutError"), 503],
  ])("maps %s to %i, and every 503 carries Retry-After", (error, status) => {
    const failure = httpFailureOf(error);
    expect(failure?.status).toBe(status);
    if (status === 503) expect(Number(failureHeaders(failure!)["retry-after"])).toBeGreaterThan(0);
    else expect(failureHeaders(failure!)).toEqual({});
  });

  it("leaves bugs and configuration errors unmapped (a logged 500), and never echoes their messages", () => {
    expect(httpFailureOf(new Error("secret detail"))).toBeUndefined();
    expect(httpFailureOf(new AuthError("AUTH_CONFIG", "x"))).toBeUndefined();
    expect(httpFailureOf(new SessionError("SESSION_CORRUPT", "x"))).toBeUndefined();
    expect(httpFailureOf(new AuthError("TOKEN_INVALID", "secret detail"))?.message).not.toContain("secret");
  });
});
