import { isAbortError, raceAbort } from "@mcp-langgraph/core";
import { decodeProtectedHeader, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { AuthError, isAuthError, tokenInvalid } from "./errors.js";

/** Asymmetric algorithms only: `none` and every HS* are never accepted. */
export const ASYMMETRIC_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export const DEFAULT_MAX_TOKEN_BYTES = 16 * 1024;
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
const DEFAULT_TOKEN_TYPES = ["jwt", "at+jwt"];
const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]+$/;

export interface JwtPolicy {
  issuer: string;
  audience: string;
  algorithms: readonly string[];
  clockToleranceSeconds: number;
  maxTokenBytes: number;
  /** Accepted `typ` header values, lower-case, without the "application/" prefix. */
  tokenTypes?: readonly string[];
}

export interface VerifiedJwt {
  payload: JWTPayload & { exp: number };
  kid: string;
}

/** Rejects algorithm lists that would weaken verification; used on every provider's options. */
export function checkAlgorithms(algorithms: readonly string[]): string[] {
  if (algorithms.length === 0) throw new AuthError("AUTH_CONFIG", "the algorithm allow-list is empty");
  for (const alg of algorithms) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new AuthError(
        "AUTH_CONFIG",
        `algorithm ${JSON.stringify(alg)} is not allowed; use ${ASYMMETRIC_ALGORITHMS.join(", ")}`,
      );
    }
  }
  return [...algorithms];
}

/**
 * Strict JWT verification shared by every provider. Cheap structural checks
 * (size, segments, header, alg, typ, kid) run before any key lookup, so an
 * attacker's garbage never triggers a JWKS fetch.
 */
export async function verifyJwt(
  token: unknown,
  keys: JWTVerifyGetKey,
  policy: JwtPolicy,
  signal?: AbortSignal,
): Promise<VerifiedJwt> {
  signal?.throwIfAborted();
  const kid = checkStructure(token, policy);
  const verification = jwtVerify(token as string, keys, {
    issuer: policy.issuer,
    audience: policy.audience,
    algorithms: [...policy.algorithms],
    clockTolerance: policy.clockToleranceSeconds,
    requiredClaims: ["iss", "aud", "exp"],
  });
  try {
    const { payload } = await (signal ? raceAbort(verification, signal) : verification);
    return { payload: payload as VerifiedJwt["payload"], kid };
  } catch (error) {
    if (signal?.aborted && error === signal.reason) throw error;
    throw toAuthError(error);
  }
}

function checkStructure(token: unknown, policy: JwtPolicy): string {
  if (typeof token !== "string" || token.length === 0) {
    throw tokenInvalid("malformed", "token must be a non-empty string");
  }
  if (token.length > policy.maxTokenBytes) {
    throw tokenInvalid("too_large", `token exceeds ${policy.maxTokenBytes} bytes`);
  }
  const segments = token.split(".");
  if (segments.length !== 3) {
    throw tokenInvalid("malformed", `token has ${segments.length} segments, expected 3 (JWS compact)`);
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw tokenInvalid("malformed", "token header is not base64url-encoded JSON", cause);
  }
  if (typeof header.alg !== "string" || !policy.algorithms.includes(header.alg)) {
    throw tokenInvalid("algorithm", `token algorithm ${JSON.stringify(header.alg)} is not allowed`);
  }
  const type = typeof header.typ === "string" ? header.typ.toLowerCase().replace(/^application\//, "") : "";
  if (!(policy.tokenTypes ?? DEFAULT_TOKEN_TYPES).includes(type)) {
    throw tokenInvalid("type", `token type ${JSON.stringify(header.typ)} is not an access-token type`);
  }
  if (typeof header.kid !== "string" || header.kid.length === 0) {
    throw tokenInvalid("kid", "token header names no key id (kid)");
  }
  if (!segments.every((segment) => BASE64URL_SEGMENT.test(segment))) {
    throw tokenInvalid("malformed", "token segments must be non-empty base64url");
  }
  return header.kid;
}

const CLAIM_REASONS: Record<string, string> = { iss: "issuer", aud: "audience", nbf: "not_yet_valid" };

/** Maps jose's failures to AuthError; anything unrecognised fails closed as TOKEN_INVALID. */
function toAuthError(error: unknown): AuthError {
  if (isAuthError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return new AuthError("TOKEN_EXPIRED", "token has expired", { details: { reason: "expired" } });
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const claim = String((error as { claim?: unknown }).claim);
      const reason = CLAIM_REASONS[claim] ?? "claims";
      return tokenInvalid(reason, `token claim ${JSON.stringify(claim)} failed validation`);
    }
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return tokenInvalid("signature", "token signature does not verify");
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return tokenInvalid("unknown_kid", "no single signing key matches the token's kid");
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return tokenInvalid("algorithm", "token algorithm does not match an allowed key");
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return tokenInvalid("malformed", "token is not a valid signed JWT");
    case "ERR_JWKS_TIMEOUT":
      return new AuthError("AUTH_UNAVAILABLE", "fetching the issuer's signing keys timed out", {
        details: { reason: "jwks_timeout" },
      });
    case "ERR_JWKS_INVALID":
    case "ERR_JOSE_GENERIC":
      return new AuthError("AUTH_UNAVAILABLE", "the issuer's signing keys could not be loaded", {
        details: { reason: "jwks_unavailable" },
        cause: error,
      });
    default:
      if (isAbortError(error) || error instanceof TypeError) {
        return new AuthError("AUTH_UNAVAILABLE", "the issuer's signing keys could not be fetched", {
          details: { reason: "jwks_unavailable" },
          cause: error,
        });
      }
      return tokenInvalid("malformed", "token could not be verified", error);
  }
}
