import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  APP_CLIENT,
  makeRsaJwk,
  type OidcTestServer,
  SERVICE_CLIENT,
  startOidcServer,
} from "@mcp-langgraph/testkit/oidc";
import type { JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createOidcProvider,
  type OidcProvider,
  type OidcProviderOptions,
  parseRoleMapping,
} from "../src/index.ts";
import { expectAuthError } from "./helpers.ts";

let idp: OidcTestServer;
let spareKeys: JWK[];

beforeAll(async () => {
  // RSA generation is slow on a shared CPU: make every key the suite needs at once.
  spareKeys = await Promise.all(["k1", "k2", "k3", "k4"].map(makeRsaJwk));
  idp = await startOidcServer();
});
afterAll(() => idp.close());

function connect(extra: Partial<OidcProviderOptions> = {}): Promise<OidcProvider> {
  return createOidcProvider({
    issuer: idp.issuer,
    audience: idp.resource,
    resource: idp.resource,
    clientId: APP_CLIENT.clientId,
    clientSecret: APP_CLIENT.clientSecret,
    scopes: ["openid", "offline_access", "mcp:tools"],
    ...extra,
  });
}

describe("OIDC provider against a real oidc-provider issuer", () => {
  it("discovers the issuer's endpoints", async () => {
    const oidc = await connect();
    expect(oidc.metadata).toEqual({
      issuer: idp.issuer,
      jwks_uri: `${idp.issuer}/jwks`,
      token_endpoint: `${idp.issuer}/token`,
      introspection_endpoint: `${idp.issuer}/token/introspection`,
    });
  });

  it("logs in with a password and maps Keycloak-shaped claims to the principal", async () => {
    const oidc = await connect();
    const tokens = await oidc.authenticate("alice", "alice-pw");
    expect(tokens).toMatchObject({ tokenType: "Bearer", expiresIn: 300 });
    expect(tokens.refreshToken).toEqual(expect.any(String));
    const principal = await oidc.verifyToken(tokens.accessToken);
    expect(principal).toMatchObject({
      userId: "user:alice",
      username: "alice",
      scopes: ["mcp:tools"],
      groups: ["/acme", "/acme/engineering"],
      clientId: APP_CLIENT.clientId,
      sessionId: "sess-alice",
      kind: "user",
    });
    // realm roles plus this client's roles; another client's roles never leak in
    expect([...principal.roles].sort()).toEqual(["admin", "tool-executor", "user"]);
    expect(principal.expiresAt.getTime()).toBe((principal.claims.exp as number) * 1000);
  });

  it("feeds role mapping: Keycloak groups and roles become OpenFGA tuples on login", async () => {
    const oidc = await connect();
    const principal = await oidc.verifyToken((await oidc.authenticate("alice", "alice-pw")).accessToken);
    const mapping = parseRoleMapping(`
rules:
  - when: { group: "/{org}" }
    grant: { relation: member, object: "organization:{org}" }
  - when: { role: tool-executor }
    grant: { relation: executor, object: "tool:agent_chat" }
`);
    expect(mapping.tuplesFor(principal)).toEqual([
      { user: "user:alice", relation: "member", object: "organization:acme" },
      { user: "user:alice", relation: "executor", object: "tool:agent_chat" },
    ]);
  });

  it("refuses a wrong password and an unknown user alike", async () => {
    const oidc = await connect();
    const wrong = await expectAuthError(oidc.authenticate("alice", "nope"), "INVALID_CREDENTIALS");
    const unknown = await expectAuthError(oidc.authenticate("nobody", "nope"), "INVALID_CREDENTIALS");
    expect(unknown.message).toBe(wrong.message);
  });

  it("refreshes tokens, and refuses a rotated-out refresh token", async () => {
    const oidc = await connect();
    const first = await oidc.authenticate("bob", "bob-pw");
    const second = await oidc.refresh(first.refreshToken!);
    expect((await oidc.verifyToken(second.accessToken)).username).toBe("bob");
    expect(second.refreshToken).not.toBe(first.refreshToken);
    await expectAuthError(oidc.refresh(first.refreshToken!), "TOKEN_INVALID", "refresh_rejected");
    await expectAuthError(oidc.refresh(""), "TOKEN_INVALID", "malformed");
  });

  it("issues client-credentials tokens that verify as service principals", async () => {
    const oidc = await connect();
    const tokens = await oidc.clientCredentials({
      clientId: SERVICE_CLIENT.clientId,
      clientSecret: SERVICE_CLIENT.clientSecret,
      scopes: ["mcp:tools"],
    });
    const principal = await oidc.verifyToken(tokens.accessToken);
    expect(principal).toMatchObject({
      userId: `service_principal:${SERVICE_CLIENT.clientId}`,
      username: SERVICE_CLIENT.clientId,
      kind: "service_principal",
      clientId: SERVICE_CLIENT.clientId,
      roles: ["service"],
      scopes: ["mcp:tools"],
    });
  });

  it("refuses a service principal's wrong secret as INVALID_CREDENTIALS", async () => {
    const oidc = await connect();
    await expectAuthError(
      oidc.clientCredentials({ clientId: SERVICE_CLIENT.clientId, clientSecret: "wrong" }),
      "INVALID_CREDENTIALS",
    );
  });

  it("reports its own misconfigured client secret as AUTH_CONFIG", async () => {
    const oidc = await connect({ clientSecret: "not-the-secret" });
    await expectAuthError(oidc.authenticate("alice", "alice-pw"), "AUTH_CONFIG", "invalid_client");
  });

  it("says NOT_SUPPORTED for password login without a client", async () => {
    const oidc = await createOidcProvider({ issuer: idp.issuer, audience: idp.resource });
    await expectAuthError(oidc.authenticate("alice", "alice-pw"), "NOT_SUPPORTED");
  });

  it("introspects opaque tokens (RFC 7662) when enabled", async () => {
    const opaque = await connect({
      audience: idp.opaqueResource,
      resource: idp.opaqueResource,
      introspection: true,
    });
    const { accessToken } = await opaque.clientCredentials({ scopes: ["mcp:tools"] });
    expect(accessToken.split(".")).toHaveLength(1);
    const principal = await opaque.verifyToken(accessToken);
    expect(principal).toMatchObject({ kind: "service_principal", clientId: APP_CLIENT.clientId });
    const forOtherAudience = await connect({ introspection: true });
    await expectAuthError(forOtherAudience.verifyToken(accessToken), "TOKEN_INVALID", "audience");
    await expectAuthError(forOtherAudience.verifyToken("not-a-real-token"), "TOKEN_INVALID", "inactive");
  });

  it("follows a key rotation: an unknown kid triggers one JWKS refetch", async () => {
    const server = await startOidcServer([spareKeys[0]!]);
    try {
      const options = {
        issuer: server.issuer,
        audience: server.resource,
        resource: server.resource,
        clientId: APP_CLIENT.clientId,
        clientSecret: APP_CLIENT.clientSecret,
        jwksCooldownMs: 0,
      };
      const oidc = await createOidcProvider(options);
      const before = await oidc.clientCredentials();
      expect((await oidc.verifyToken(before.accessToken)).clientId).toBe(APP_CLIENT.clientId);
      const fetchesBefore = server.jwksRequests;

      server.rotateKeys([spareKeys[1]!, spareKeys[0]!]);
      const after = await oidc.clientCredentials();
      expect(JSON.parse(Buffer.from(after.accessToken.split(".")[0]!, "base64url").toString()).kid).toBe(
        "k2",
      );
      expect((await oidc.verifyToken(after.accessToken)).clientId).toBe(APP_CLIENT.clientId);
      expect(server.jwksRequests).toBe(fetchesBefore + 1);
    } finally {
      await server.close();
    }
  });

  it("rejects an unknown kid without refetching again inside the cooldown", async () => {
    const server = await startOidcServer([spareKeys[2]!]);
    try {
      const oidc = await createOidcProvider({
        issuer: server.issuer,
        audience: server.resource,
        resource: server.resource,
        clientId: APP_CLIENT.clientId,
        clientSecret: APP_CLIENT.clientSecret,
        jwksCooldownMs: 60_000,
      });
      await oidc.verifyToken((await oidc.clientCredentials()).accessToken);
      const fetches = server.jwksRequests;
      server.rotateKeys([spareKeys[3]!]);
      const rotated = (await oidc.clientCredentials()).accessToken;
      await expectAuthError(oidc.verifyToken(rotated), "TOKEN_INVALID", "unknown_kid");
      await expectAuthError(oidc.verifyToken(rotated), "TOKEN_INVALID", "unknown_kid");
      expect(server.jwksRequests).toBe(fetches);
    } finally {
      await server.close();
    }
  });

  it("rejects a verification whose caller aborts", async () => {
    const oidc = await connect();
    const { accessToken } = await oidc.clientCredentials();
    const controller = new AbortController();
    controller.abort(new Error("cancelled"));
    await expect(oidc.verifyToken(accessToken, { signal: controller.signal })).rejects.toThrow("cancelled");
  });

  describe("refuses bad configuration at creation", () => {
    it("a discovery document naming another issuer", async () => {
      await expectAuthError(
        createOidcProvider({
          issuer: `${idp.issuer}/`,
          audience: idp.resource,
          discoveryUrl: `${idp.issuer}/.well-known/openid-configuration`,
        }),
        "AUTH_CONFIG",
      );
    });
    it("a plain-http issuer on a non-loopback host", async () => {
      await expectAuthError(
        createOidcProvider({ issuer: "http://keycloak.example/realms/x", audience: "a" }),
        "AUTH_CONFIG",
      );
    });
    it("an HS256 entry in the algorithm allow-list", async () => {
      await expectAuthError(
        createOidcProvider({ issuer: idp.issuer, audience: "a", algorithms: ["HS256" as never] }),
        "AUTH_CONFIG",
      );
    });
    it("introspection without client credentials", async () => {
      await expectAuthError(
        createOidcProvider({ issuer: idp.issuer, audience: "a", introspection: true }),
        "AUTH_CONFIG",
      );
    });
    it("an unreachable issuer (AUTH_UNAVAILABLE)", async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise((resolve) => closed.close(resolve));
      await expectAuthError(
        createOidcProvider({ issuer: `http://127.0.0.1:${port}`, audience: "a", httpTimeoutMs: 500 }),
        "AUTH_UNAVAILABLE",
      );
    });
  });
});
