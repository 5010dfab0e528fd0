import type { webcrypto } from "node:crypto";
import type { JWK } from "jose";

/** A JSON Web Key (RFC 7517), including `kid`, `alg` and `use`. */
export type JsonWebKey = JWK;
export type CryptoKey = webcrypto.CryptoKey;

/** Who is calling, as established from a verified token or API key. */
export interface Principal {
  /** The authorization subject: "user:<username>" for people, "service_principal:<clientId>" for services. */
  userId: string;
  username: string;
  roles: string[];
  scopes: string[];
  /** Identity-provider groups (Keycloak "groups" claim), e.g. "/acme/engineering". */
  groups?: string[];
  /** "service_principal" for client-credentials identities; absent or "user" for people. */
  kind?: "user" | "service_principal";
  clientId?: string;
  /** From the token's `sid` claim. */
  sessionId?: string;
  expiresAt: Date;
  /** The verified token's full claim set (read-only copy). */
  claims: Record<string, unknown>;
}

export interface TokenSet {
  accessToken: string;
  tokenType: "Bearer";
  /** Seconds until the access token expires. */
  expiresIn: number;
  refreshToken?: string;
  idToken?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** Anything that can turn a bearer credential into a Principal. */
export interface AuthProvider {
  verifyToken(token: string, opts?: CallOptions): Promise<Principal>;
}
