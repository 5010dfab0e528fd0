import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createOidcProvider } from "../src/index.ts";
import { expectAuthError } from "./helpers.ts";

/** A loopback issuer whose token endpoint answers with a scripted status and body. */
async function startIssuer(tokenAnswer: { status: number; body: unknown }) {
  const state = { tokenRequests: 0 };
  let issuer = "";
  const server: Server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    if (req.url === "/.well-known/openid-configuration") {
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token` }));
      return;
    }
    state.tokenRequests++;
    res.statusCode = tokenAnswer.status;
    res.end(JSON.stringify(tokenAnswer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { issuer, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("issuer resilience", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(() => close?.());

  it("opens the circuit after consecutive outages and then fails fast without calling the issuer", async () => {
    const idp = await startIssuer({ status: 503, body: { error: "temporarily_unavailable" } });
    close = idp.close;
    const oidc = await createOidcProvider({
      issuer: idp.issuer,
      audience: "urn:mcp",
      clientId: "app",
      clientSecret: "secret",
      circuitBreaker: { failureThreshold: 3, resetTimeoutMs: 60_000 },
    });
    for (let i = 0; i < 3; i++) {
      await expectAuthError(oidc.authenticate("alice", "pw"), "AUTH_UNAVAILABLE", "issuer_error");
    }
    await expectAuthError(oidc.authenticate("alice", "pw"), "AUTH_UNAVAILABLE", "circuit_open");
    expect(idp.state.tokenRequests).toBe(3);
  });

  it("does not count the caller's own OAuth errors against the issuer", async () => {
    const idp = await startIssuer({ status: 400, body: { error: "invalid_grant" } });
    close = idp.close;
    const oidc = await createOidcProvider({
      issuer: idp.issuer,
      audience: "urn:mcp",
      clientId: "app",
      clientSecret: "secret",
      circuitBreaker: { failureThreshold: 2 },
    });
    for (let i = 0; i < 4; i++) {
      await expectAuthError(oidc.authenticate("alice", "wrong"), "INVALID_CREDENTIALS");
    }
    expect(idp.state.tokenRequests).toBe(4);
  });

  it("refuses a token response without a bearer access token", async () => {
    const idp = await startIssuer({ status: 200, body: { access_token: "x", token_type: "mac" } });
    close = idp.close;
    const oidc = await createOidcProvider({ issuer: idp.issuer, audience: "urn:mcp", clientId: "app" });
    await expectAuthError(oidc.clientCredentials(), "AUTH_UNAVAILABLE", "issuer_error");
  });
});
