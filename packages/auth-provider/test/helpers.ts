import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { expect } from "vitest";
import { type AuthError, isAuthError } from "../src/index.ts";
import type { CryptoKey } from "../src/types.ts";

export interface TestKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function makeKey(alg: "EdDSA" | "ES256" | "RS256" = "EdDSA"): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return {
    privateKey,
    publicKey,
    privateJwk: await exportJWK(privateKey),
    publicJwk: await exportJWK(publicKey),
  };
}

export interface SignOptions {
  alg: string;
  kid: string;
  typ?: string;
  key: CryptoKey | Uint8Array;
  claims: Record<string, unknown>;
}

export function sign({ alg, kid, typ = "at+jwt", key, claims }: SignOptions): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, kid, typ }).sign(key);
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Base64url of a JSON value, for hand-built tokens. */
export const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export async function expectAuthError(
  promise: Promise<unknown>,
  code: string,
  reason?: string,
): Promise<AuthError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected AuthError ${code}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  if (!isAuthError(error)) throw error;
  expect(error.code).toBe(code);
  if (reason !== undefined) expect(error.reason).toBe(reason);
  return error;
}
