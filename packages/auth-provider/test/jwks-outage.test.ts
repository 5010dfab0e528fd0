import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalProvider, createOidcProvider, type LocalProvider } from "../src/index.ts";
import { expectAuthError } from "./helpers.ts";

describe("JWKS endpoint outage (stale-if-error)", () => {
  let server: Server;
  let base: string;
  let issuerSide: LocalProvider;
  let jwksUp = true;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      if (!jwksUp) {
        res.statusCode = 503;
        res.end();
        return;
      }
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(issuerSide.jwks()));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    issuerSide = await createLocalProvider({ issuer: base, audience: "urn:mcp", users: [] });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // jwksCacheMaxAgeMs 0 makes every verification refetch, so each one meets the outage.
  const verifier = (jwksMaxStaleMs?: number) =>
    createOidcProvider({
      issuer: base,
      audience: "urn:mcp",
      jwksUri: `${base}/jwks`,
      jwksCacheMaxAgeMs: 0,
      cache: false,
      ...(jwksMaxStaleMs === undefined ? {} : { jwksMaxStaleMs }),
    });

  it("keeps verifying with the last good keys while the issuer's JWKS is down", async () => {
    jwksUp = true;
    const oidc = await verifier();
    const { accessToken } = await issuerSide.issueToken({ username: "alice", roles: [] });
    expect((await oidc.verifyToken(accessToken)).username).toBe("alice");
    jwksUp = false;
    expect((await oidc.verifyToken(accessToken)).username).toBe("alice");
  });

  it("fails with AUTH_UNAVAILABLE once the last good keys are older than jwksMaxStaleMs", async () => {
    jwksUp = true;
    const oidc = await verifier(0);
    const { accessToken } = await issuerSide.issueToken({ username: "alice", roles: [] });
    await oidc.verifyToken(accessToken);
    jwksUp = false;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await expectAuthError(oidc.verifyToken(accessToken), "AUTH_UNAVAILABLE", "jwks_unavailable");
  });

  it("never serves stale keys for a key id they do not contain", async () => {
    jwksUp = true;
    const oidc = await verifier();
    await oidc.verifyToken((await issuerSide.issueToken({ username: "alice", roles: [] })).accessToken);
    jwksUp = false;
    const other = await createLocalProvider({ issuer: base, audience: "urn:mcp", users: [] });
    const { accessToken } = await other.issueToken({ username: "mallory", roles: [] });
    await expectAuthError(oidc.verifyToken(accessToken), "TOKEN_INVALID", "unknown_kid");
  });
});
