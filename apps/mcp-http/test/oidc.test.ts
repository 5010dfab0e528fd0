// A real OpenID Provider (oidc-provider) standing in for Keycloak, from the auth-provider package's tests.
import { APP_CLIENT, type OidcTestServer, startOidcServer } from "@mcp-langgraph/testkit/oidc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, INITIALIZE, login, postMcp, startTestServer, textOf } from "./helpers.ts";

let idp: OidcTestServer;
let app: RunningHttpServer;

beforeAll(async () => {
  idp = await startOidcServer();
  app = await startTestServer({
    AUTH_PROVIDER: "oidc",
    OIDC_ISSUER: idp.issuer,
    OIDC_AUDIENCE: idp.resource,
    OIDC_CLIENT_ID: APP_CLIENT.clientId,
    OIDC_CLIENT_SECRET: APP_CLIENT.clientSecret,
  });
}, 30_000);
afterAll(async () => {
  await app?.close();
  await idp?.close();
});

describe("mcp-http with AUTH_PROVIDER=oidc", () => {
  it("logs in through the issuer and runs the agent with its JWT access token", async () => {
    const token = await login(app.url, "alice", "alice-pw");
    const { client } = await connect(app.url, token);
    try {
      const result = await client.callTool({ name: "agent_chat", arguments: { message: "what is 40 + 2?" } });
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toContain("42");
    } finally {
      await client.close();
    }
  });

  it("names the issuer as the authorization server in the resource metadata", async () => {
    const metadata = (await (await fetch(`${app.url}/.well-known/oauth-protected-resource`)).json()) as {
      resource: string;
      authorization_servers: string[];
    };
    expect(metadata).toMatchObject({ resource: idp.resource, authorization_servers: [idp.issuer] });
    expect((await fetch(`${app.url}/.well-known/jwks.json`)).status).toBe(404);
  });

  it("refuses wrong passwords, tampered tokens and tokens of another issuer", async () => {
    const wrong = await fetch(`${app.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: "nope" }),
    });
    expect(wrong.status).toBe(401);

    const token = await login(app.url, "bob", "bob-pw");
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as Record<string, unknown>;
    const elevated = Buffer.from(JSON.stringify({ ...claims, realm_access: { roles: ["admin"] } })).toString(
      "base64url",
    );
    const tampered = `${header}.${elevated}.${signature}`;
    expect((await postMcp(app.url, INITIALIZE, { authorization: `Bearer ${tampered}` })).status).toBe(401);

    const local = await startTestServer();
    try {
      const foreign = await login(local.url, "alice", "alice-pw");
      expect((await postMcp(app.url, INITIALIZE, { authorization: `Bearer ${foreign}` })).status).toBe(401);
    } finally {
      await local.close();
    }
  });
});
