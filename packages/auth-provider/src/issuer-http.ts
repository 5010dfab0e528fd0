import { type Bulkhead, type CircuitBreaker, isCoreError, withDeadline } from "@mcp-langgraph/core";
import { AuthError, isAuthError } from "./errors.js";
import type { CallOptions } from "./types.js";

/** Issuer responses beyond this size are refused: a discovery or token response is a few KB. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface IssuerHttpOptions {
  timeoutMs: number;
  bulkhead: Bulkhead;
  /** Opened by consecutive outages (see isIssuerFailure) so a down issuer fails fast. */
  breaker: CircuitBreaker;
}

export interface ClientAuth {
  clientId: string;
  clientSecret?: string;
}

export interface OAuthErrorBody {
  error: string;
  status: number;
}

/** GET a JSON document from the issuer, bounded by the deadline and the bulkhead. */
export function getIssuerJson(url: string, http: IssuerHttpOptions, { signal }: CallOptions = {}) {
  return send(url, { method: "GET", headers: { accept: "application/json" } }, http, signal).then(
    ({ status, body }) => {
      if (status !== 200) {
        throw new AuthError("AUTH_UNAVAILABLE", `issuer answered ${status} for ${url}`, {
          details: { reason: "issuer_error", status },
        });
      }
      return body;
    },
  );
}

/**
 * POSTs an OAuth form (token or introspection endpoint) with client_secret_basic
 * authentication (RFC 6749 §2.3.1: both parts form-encoded before base64).
 * Resolves the JSON body on 200, or an OAuthErrorBody for a 4xx OAuth error.
 */
export async function postIssuerForm(
  url: string,
  form: Record<string, string>,
  client: ClientAuth,
  http: IssuerHttpOptions,
  { signal }: CallOptions = {},
): Promise<{ ok: true; body: Record<string, unknown> } | { ok: false; error: OAuthErrorBody }> {
  const headers: Record<string, string> = {
    accept: "application/json",
    "content-type": "application/x-www-form-urlencoded",
  };
  const params = new URLSearchParams(form);
  if (client.clientSecret === undefined) {
    params.set("client_id", client.clientId);
  } else {
    const user = encodeURIComponent(client.clientId);
    const password = encodeURIComponent(client.clientSecret);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  }
  const { status, body } = await send(
    url,
    { method: "POST", headers, body: params.toString() },
    http,
    signal,
  );
  if (status === 200) return { ok: true, body };
  if (status >= 400 && status < 500 && typeof body.error === "string") {
    return { ok: false, error: { error: body.error, status } };
  }
  throw new AuthError("AUTH_UNAVAILABLE", `issuer answered ${status} at its ${new URL(url).pathname}`, {
    details: { reason: "issuer_error", status },
  });
}

async function send(
  url: string,
  init: RequestInit,
  { timeoutMs, bulkhead, breaker }: IssuerHttpOptions,
  signal: AbortSignal | undefined,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const attempt = async () => {
    try {
      return await withDeadline(
        (deadline) =>
          bulkhead.run(async () => {
            const response = await fetch(url, { ...init, redirect: "error", signal: deadline });
            const text = await response.text();
            if (response.status >= 500 || text.length > MAX_RESPONSE_BYTES) {
              throw new AuthError(
                "AUTH_UNAVAILABLE",
                `issuer answered ${response.status} at ${new URL(url).pathname}`,
                {
                  details: { reason: "issuer_error", status: response.status },
                },
              );
            }
            return { status: response.status, body: parseObject(text, response.status) };
          }, deadline),
        {
          timeoutMs,
          ...(signal ? { signal } : {}),
          onTimeout: (ms) =>
            new AuthError("AUTH_UNAVAILABLE", `issuer did not answer within ${ms} ms`, {
              details: { reason: "timeout" },
            }),
        },
      );
    } catch (error) {
      throw toUnavailable(error, signal);
    }
  };
  try {
    return await breaker.execute(attempt);
  } catch (error) {
    throw toUnavailable(error, signal);
  }
}

/** Counts against the issuer's circuit: outages and timeouts, not load shedding or the caller's abort. */
export function isIssuerFailure(error: unknown): boolean {
  return isAuthError(error) && error.code === "AUTH_UNAVAILABLE" && error.reason !== "overloaded";
}

function toUnavailable(error: unknown, signal: AbortSignal | undefined): unknown {
  if ((signal?.aborted && error === signal.reason) || isAuthError(error)) return error;
  const reason = !isCoreError(error)
    ? "unreachable"
    : error.code === "BULKHEAD_FULL"
      ? "overloaded"
      : error.code === "CIRCUIT_OPEN"
        ? "circuit_open"
        : "unreachable";
  return new AuthError("AUTH_UNAVAILABLE", "issuer is unreachable", { details: { reason }, cause: error });
}

function parseObject(text: string, status: number): Record<string, unknown> {
  // RFC 7009: a successful revocation answers 200 with an empty body.
  if (status === 200 && text === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  throw new AuthError("AUTH_UNAVAILABLE", `issuer answered ${status} with a body that is not a JSON object`, {
    details: { reason: "issuer_error", status },
  });
}
