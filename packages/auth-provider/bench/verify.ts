/**
 * Verification throughput: cold RS256 (OIDC verifier, JWKS over loopback), cold
 * EdDSA (local issuer), and the cache hit path. Prints figures; asserts nothing.
 * Run: pnpm --filter @mcp-langgraph/auth-provider bench
 */
import { hash } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createLocalProvider, createOidcProvider } from "../src/index.ts";

const COLD_TOKENS = 2000;
const CACHED_CALLS = 2_000_000;
const CONCURRENCY = 32;

const print = (line: string) => process.stdout.write(`${line}\n`);

async function measure(label: string, count: number, run: () => Promise<void>) {
  const started = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const perSecond = count / seconds;
  print(`${label.padEnd(48)} ${Math.round(perSecond).toLocaleString("en-US").padStart(12)} verifications/s`);
  return perSecond;
}

async function inBatches(tokens: string[], verify: (token: string) => Promise<unknown>) {
  for (let i = 0; i < tokens.length; i += CONCURRENCY) {
    await Promise.all(tokens.slice(i, i + CONCURRENCY).map(verify));
  }
}

async function sequential(tokens: string[], verify: (token: string) => Promise<unknown>) {
  for (const token of tokens) await verify(token);
}

// RS256 issuer: JWKS served on loopback, as Keycloak would.
const { privateKey: rsaPrivate, publicKey: rsaPublic } = await generateKeyPair("RS256", {
  extractable: true,
});
const rsaJwk = { ...(await exportJWK(rsaPublic)), kid: "rsa-1", alg: "RS256", use: "sig" };
const server = createServer((_req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ keys: [rsaJwk] }));
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const audience = `${issuer}/mcp`;
const oidcCold = await createOidcProvider({ issuer, audience, jwksUri: `${issuer}/jwks`, cache: false });
const oidcCached = await createOidcProvider({ issuer, audience, jwksUri: `${issuer}/jwks` });

const exp = Math.floor(Date.now() / 1000) + 3600;
const rsaTokens = await Promise.all(
  Array.from({ length: COLD_TOKENS }, (_, i) =>
    new SignJWT({ preferred_username: `user${i}`, scope: "mcp:tools", realm_access: { roles: ["user"] } })
      .setProtectedHeader({ alg: "RS256", kid: "rsa-1", typ: "at+jwt" })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(`user${i}`)
      .setExpirationTime(exp)
      .sign(rsaPrivate),
  ),
);
await oidcCold.verifyToken(rsaTokens[0] as string); // load the JWKS once

const localCold = await createLocalProvider({
  issuer,
  audience,
  users: [],
  cache: false,
  tokenTtlSeconds: 3600,
});
const edTokens = await Promise.all(
  Array.from({ length: COLD_TOKENS }, (_, i) =>
    localCold
      .issueToken({ username: `user${i}`, roles: ["user"] }, { scopes: ["mcp:tools"] })
      .then((t) => t.accessToken),
  ),
);

print(`node ${process.version}, ${COLD_TOKENS} distinct tokens per cold run, batches of ${CONCURRENCY}`);
await measure("cold RS256 (OIDC, sequential)", COLD_TOKENS, () =>
  sequential(rsaTokens, (t) => oidcCold.verifyToken(t)),
);
await measure("cold RS256 (OIDC, concurrent)", COLD_TOKENS, () =>
  inBatches(rsaTokens, (t) => oidcCold.verifyToken(t)),
);
await measure("cold EdDSA (local, sequential)", COLD_TOKENS, () =>
  sequential(edTokens, (t) => localCold.verifyToken(t)),
);
await measure("cold EdDSA (local, concurrent)", COLD_TOKENS, () =>
  inBatches(edTokens, (t) => localCold.verifyToken(t)),
);

const hot = rsaTokens[1] as string;
await oidcCached.verifyToken(hot);
await measure(`cached, same token (${hot.length} B), awaited each call`, CACHED_CALLS, async () => {
  for (let i = 0; i < CACHED_CALLS; i++) await oidcCached.verifyToken(hot);
});

// The cache key is a SHA-256 of the whole token: this row is the ceiling the cached path can reach.
await measure("reference: SHA-256 of that token alone", CACHED_CALLS, async () => {
  for (let i = 0; i < CACHED_CALLS; i++) hash("sha256", hot, "base64");
});

server.close();
