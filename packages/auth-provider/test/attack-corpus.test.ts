/**
 * The attack corpus, each case against the OIDC verifier wired to a
 * real oidc-provider issuer. Forged tokens are signed with the issuer's own
 * key where the attack needs a valid signature, so only the attacked check
 * can be what rejects them.
 */
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { APP_CLIENT, makeRsaJwk, type OidcTestServer, startOidcServer } from "@mcp-langgraph/testkit/oidc";
import { importJWK, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOidcProvider, type OidcProvider } from "../src/index.ts";
import type { CryptoKey } from "../src/types.ts";
import { b64, expectAuthError, nowSeconds, sign } from "./helpers.ts";

let idp: OidcTestServer;
let oidc: OidcProvider;
let issuerJwk: JWK;
let issuerKey: CryptoKey;
let genuine: string;

beforeAll(async () => {
  issuerJwk = await makeRsaJwk("issuer-key");
  issuerKey = (await importJWK(issuerJwk, "RS256")) as CryptoKey;
  idp = await startOidcServer([issuerJwk]);
  oidc = await createOidcProvider({
    issuer: idp.issuer,
    audience: idp.resource,
    resource: idp.resource,
    clientId: APP_CLIENT.clientId,
    clientSecret: APP_CLIENT.clientSecret,
    jwksCooldownMs: 0,
    cache: false,
  });
  genuine = (await oidc.authenticate("alice", "alice-pw")).accessToken;
});
afterAll(() => idp.close());

const claims = (overrides: Record<string, unknown> = {}) => ({
  iss: idp.issuer,
  aud: idp.resource,
  sub: "alice",
  preferred_username: "alice",
  iat: nowSeconds(),
  exp: nowSeconds() + 300,
  ...overrides,
});

const forge = (overrides: Record<string, unknown> = {}, header: { kid?: string; typ?: string } = {}) =>
  sign({
    alg: "RS256",
    kid: header.kid ?? "issuer-key",
    typ: header.typ,
    key: issuerKey,
    claims: claims(overrides),
  });

const segments = (token: string) => token.split(".") as [string, string, string];

describe("attack corpus: every case is rejected with a typed error", () => {
  it("control: a genuine token and a correctly forged one verify", async () => {
    expect((await oidc.verifyToken(genuine)).username).toBe("alice");
    expect((await oidc.verifyToken(await forge())).username).toBe("alice");
  });

  it('alg "none" (unsigned token)', async () => {
    const token = `${b64({ alg: "none", typ: "at+jwt", kid: "issuer-key" })}.${b64(claims())}.`;
    await expectAuthError(oidc.verifyToken(token), "TOKEN_INVALID", "algorithm");
  });

  it("HS256 signed with the issuer's public key (algorithm confusion)", async () => {
    const { kty, n, e } = issuerJwk;
    const publicKeyAsSecret = JSON.stringify({ kty, n, e });
    const input = `${b64({ alg: "HS256", typ: "at+jwt", kid: "issuer-key" })}.${b64(claims())}`;
    const mac = createHmac("sha256", publicKeyAsSecret).update(input).digest("base64url");
    await expectAuthError(oidc.verifyToken(`${input}.${mac}`), "TOKEN_INVALID", "algorithm");
  });

  it("expired token", async () => {
    const token = await forge({ iat: nowSeconds() - 600, exp: nowSeconds() - 120 });
    await expectAuthError(oidc.verifyToken(token), "TOKEN_EXPIRED", "expired");
  });

  it("nbf in the future", async () => {
    const token = await forge({ nbf: nowSeconds() + 600 });
    await expectAuthError(oidc.verifyToken(token), "TOKEN_INVALID", "not_yet_valid");
  });

  it("wrong issuer", async () => {
    const token = await forge({ iss: `${idp.issuer}/evil` });
    await expectAuthError(oidc.verifyToken(token), "TOKEN_INVALID", "issuer");
  });

  it("wrong audience: a real token the issuer minted for another resource", async () => {
    const forOther = await createOidcProvider({
      issuer: idp.issuer,
      audience: idp.otherResource,
      resource: idp.otherResource,
      clientId: APP_CLIENT.clientId,
      clientSecret: APP_CLIENT.clientSecret,
    });
    const { accessToken } = await forOther.clientCredentials();
    expect((await forOther.verifyToken(accessToken)).clientId).toBe(APP_CLIENT.clientId);
    await expectAuthError(oidc.verifyToken(accessToken), "TOKEN_INVALID", "audience");
  });

  it("tampered payload (roles escalated, signature kept)", async () => {
    const [header, payload, signature] = segments(genuine);
    const escalated = {
      ...JSON.parse(Buffer.from(payload, "base64url").toString()),
      realm_access: { roles: ["root"] },
    };
    await expectAuthError(
      oidc.verifyToken(`${header}.${b64(escalated)}.${signature}`),
      "TOKEN_INVALID",
      "signature",
    );
  });

  it("tampered header (extra parameter, signature kept)", async () => {
    const [header, payload, signature] = segments(genuine);
    const altered = {
      ...JSON.parse(Buffer.from(header, "base64url").toString()),
      jku: "https://evil.example/jwks",
    };
    await expectAuthError(
      oidc.verifyToken(`${b64(altered)}.${payload}.${signature}`),
      "TOKEN_INVALID",
      "signature",
    );
  });

  it("unknown kid, still unknown after a JWKS refetch", async () => {
    const before = idp.jwksRequests;
    const token = await forge({}, { kid: "no-such-key" });
    await expectAuthError(oidc.verifyToken(token), "TOKEN_INVALID", "unknown_kid");
    expect(idp.jwksRequests).toBe(before + 1);
  });

  it("malformed base64 in a segment", async () => {
    const [header, , signature] = segments(genuine);
    await expectAuthError(
      oidc.verifyToken(`${header}.@@not*base64@@.${signature}`),
      "TOKEN_INVALID",
      "malformed",
    );
  });

  it("header that is not JSON", async () => {
    const [, payload, signature] = segments(genuine);
    const notJson = Buffer.from("{alg: RS256").toString("base64url");
    await expectAuthError(
      oidc.verifyToken(`${notJson}.${payload}.${signature}`),
      "TOKEN_INVALID",
      "malformed",
    );
  });

  it("wrong segment count (two and four segments)", async () => {
    const [header, payload, signature] = segments(genuine);
    await expectAuthError(oidc.verifyToken(`${header}.${payload}`), "TOKEN_INVALID", "malformed");
    await expectAuthError(
      oidc.verifyToken(`${header}.${payload}.${signature}.x`),
      "TOKEN_INVALID",
      "malformed",
    );
  });

  it("oversized token (> 16 KB) is refused before any key lookup", async () => {
    const before = idp.jwksRequests;
    const token = await forge({ padding: "x".repeat(17 * 1024) });
    await expectAuthError(oidc.verifyToken(token), "TOKEN_INVALID", "too_large");
    expect(idp.jwksRequests).toBe(before);
  });

  it("a typ that is not an access-token type (e.g. a logout token)", async () => {
    const token = await forge({}, { typ: "logout+jwt" });
    await expectAuthError(oidc.verifyToken(token), "TOKEN_INVALID", "type");
  });

  it("no kid in the header", async () => {
    const token = await forge({}, { kid: "" });
    await expectAuthError(oidc.verifyToken(token), "TOKEN_INVALID", "kid");
  });

  it("an ID token presented as an access token", async () => {
    const { idToken } = await oidc.refresh((await oidc.authenticate("alice", "alice-pw")).refreshToken!);
    expect(idToken).toEqual(expect.any(String));
    const error = await expectAuthError(oidc.verifyToken(idToken!), "TOKEN_INVALID");
    expect(["type", "audience"]).toContain(error.reason);
  });

  it("not a string at all", async () => {
    await expectAuthError(oidc.verifyToken(undefined as unknown as string), "TOKEN_INVALID", "malformed");
  });

  it("a JWKS fetch that hangs is bounded by the HTTP timeout", async () => {
    const hanging = await startHangingIssuer();
    try {
      const verifier = await createOidcProvider({
        issuer: hanging.issuer,
        audience: "urn:test",
        httpTimeoutMs: 300,
      });
      const token = await sign({
        alg: "RS256",
        kid: "issuer-key",
        key: issuerKey,
        claims: { iss: hanging.issuer, aud: "urn:test", sub: "alice", exp: nowSeconds() + 60 },
      });
      await expectAuthError(verifier.verifyToken(token), "AUTH_UNAVAILABLE", "jwks_timeout");
    } finally {
      await hanging.close();
    }
  });

  it("a token endpoint that hangs is bounded by the HTTP timeout", async () => {
    const hanging = await startHangingIssuer();
    try {
      const client = await createOidcProvider({
        issuer: hanging.issuer,
        audience: "urn:test",
        clientId: "app",
        clientSecret: "secret",
        httpTimeoutMs: 300,
      });
      await expectAuthError(client.authenticate("alice", "pw"), "AUTH_UNAVAILABLE", "timeout");
    } finally {
      await hanging.close();
    }
  });
});

/** Serves discovery, then never answers the JWKS or token endpoint. */
async function startHangingIssuer(): Promise<{ issuer: string; close(): Promise<void> }> {
  let issuer = "";
  const server: Server = createServer((req, res) => {
    if (req.url === "/.well-known/openid-configuration") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token` }));
    }
    // /jwks and /token: left open on purpose
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
