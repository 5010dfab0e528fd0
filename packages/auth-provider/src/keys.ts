import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { AuthError } from "./errors.js";
import type { CryptoKey, JsonWebKey } from "./types.js";

export type LocalAlgorithm = "EdDSA" | "ES256";

export interface SigningKey {
  alg: LocalAlgorithm;
  kid: string;
  privateKey: CryptoKey;
  /** Public half, ready for a JWKS document. */
  publicJwk: JWK;
}

const CURVES: Record<LocalAlgorithm, { kty: string; crv: string }> = {
  EdDSA: { kty: "OKP", crv: "Ed25519" },
  ES256: { kty: "EC", crv: "P-256" },
};

/** Generates a fresh key pair, or imports a configured private JWK after checking it fits `alg`. */
export async function loadSigningKey(alg: LocalAlgorithm, privateJwk?: JsonWebKey): Promise<SigningKey> {
  const expected = CURVES[alg];
  if (expected === undefined) {
    throw new AuthError(
      "AUTH_CONFIG",
      `signing algorithm must be EdDSA or ES256, got ${JSON.stringify(alg)}`,
    );
  }
  let privateKey: CryptoKey;
  let publicJwk: JWK;
  if (privateJwk === undefined) {
    const pair = await generateKeyPair(alg, { crv: expected.crv, extractable: false });
    privateKey = pair.privateKey;
    publicJwk = await exportJWK(pair.publicKey);
  } else {
    if (
      privateJwk.kty !== expected.kty ||
      privateJwk.crv !== expected.crv ||
      typeof privateJwk.d !== "string"
    ) {
      throw new AuthError(
        "AUTH_CONFIG",
        `the configured private key must be a private ${expected.kty}/${expected.crv} JWK for ${alg}`,
      );
    }
    try {
      privateKey = (await importJWK({ ...privateJwk, ext: false }, alg)) as CryptoKey;
    } catch (cause) {
      throw new AuthError("AUTH_CONFIG", `the configured private key is not a valid ${alg} JWK`, { cause });
    }
    const { kty, crv, x, y } = privateJwk;
    publicJwk = y === undefined ? { kty, crv, x } : { kty, crv, x, y };
  }
  const kid = await calculateJwkThumbprint(publicJwk);
  return { alg, kid, privateKey, publicJwk: { ...publicJwk, kid, alg, use: "sig" } };
}

/**
 * A fresh private JWK (with its `kid` and `alg`) for a local issuer and an authorization server
 * that must sign with the same key; a process without LOCAL_SIGNING_KEY makes one at start-up.
 */
export async function generateSigningJwk(alg: LocalAlgorithm = "EdDSA"): Promise<JsonWebKey> {
  const expected = CURVES[alg];
  if (expected === undefined) throw new AuthError("AUTH_CONFIG", "signing algorithm must be EdDSA or ES256");
  const { privateKey } = await generateKeyPair(alg, { crv: expected.crv, extractable: true });
  const jwk = await exportJWK(privateKey);
  const { kty, crv, x, y } = jwk;
  const kid = await calculateJwkThumbprint(y === undefined ? { kty, crv, x } : { kty, crv, x, y });
  return { ...jwk, kid, alg, use: "sig" } as JsonWebKey;
}
