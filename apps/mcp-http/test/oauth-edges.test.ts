import { freePort } from "@mcp-langgraph/tooling/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { startTestServer as startOnPortZero } from "./helpers.ts";
import { authorizeUrl, Browserless, pkcePair, registerClient } from "./oauth-client.ts";

// Issue 14: the authorization server's refusals, each with the right OAuth error and no side
// effect, and the login page's CSRF and CSP protections (no browser needed for these).

const REDIRECT = "http://127.0.0.1:9/cb";

/** On a real port: the issuer and the audience are URLs with the port in them. */
async function startTestServer(env: Record<string, string> = {}) {
  return startOnPortZero({ PORT: String(await freePort()), ...env });
}

describe("the embedded authorization server's refusals", () => {
  let server: RunningHttpServer;
  let resource: string;
  let clientId: string;
  const { challenge } = pkcePair();

  beforeAll(async () => {
    server = await startTestServer();
    resource = `${server.url}/mcp`;
    clientId = (await registerClient(server.url, [REDIRECT])).body.client_id as string;
  });
  afterAll(() => server.close());

  const authorize = (overrides: Record<string, string | undefined>) =>
    fetch(
      authorizeUrl(
        server.url,
        { clientId, redirectUri: REDIRECT, challenge, resource },
        { state: "s1", ...overrides },
      ),
      { redirect: "manual" },
    );
  const redirectError = async (response: Response) => {
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get("location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    return location.searchParams.get("error");
  };

  it("publishes RFC 8414 metadata naming every endpoint, S256 only", async () => {
    const metadata = (await (
      await fetch(`${server.url}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: server.url,
      authorization_endpoint: `${server.url}/oauth/authorize`,
      token_endpoint: `${server.url}/oauth/token`,
      revocation_endpoint: `${server.url}/oauth/revoke`,
      registration_endpoint: `${server.url}/oauth/register`,
      code_challenge_methods_supported: ["S256"],
      response_types_supported: ["code"],
      client_id_metadata_document_supported: true,
    });
    const resourceMetadata = await (await fetch(`${server.url}/.well-known/oauth-protected-resource`)).json();
    expect(resourceMetadata).toMatchObject({
      authorization_servers: [server.url],
      scopes_supported: ["mcp"],
    });
  });

  it("refuses a resource other than this server's with invalid_target", async () => {
    expect(await redirectError(await authorize({ resource: "https://other.example/mcp" }))).toBe(
      "invalid_target",
    );
  });

  it("refuses an authorization request without resource with invalid_target", async () => {
    expect(await redirectError(await authorize({ resource: undefined }))).toBe("invalid_target");
  });

  it("refuses PKCE plain and a request without PKCE", async () => {
    expect(await redirectError(await authorize({ code_challenge_method: "plain" }))).toBe("invalid_request");
    expect(
      await redirectError(await authorize({ code_challenge: undefined, code_challenge_method: undefined })),
    ).toBe("invalid_request");
  });

  it("answers an unregistered redirect URI on its own page and never redirects there", async () => {
    const response = await authorize({ redirect_uri: "http://127.0.0.1:9/elsewhere" });
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
    expect(await response.text()).toContain("invalid_redirect_uri");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
  });

  it("serves the login page with a strict CSP, labelled fields and the client named; refuses a forged form", async () => {
    const browser = new Browserless();
    const start = await browser.get(
      authorizeUrl(server.url, { clientId, redirectUri: REDIRECT, challenge, resource }),
    );
    const interaction = `${server.url}${start.headers.get("location")}`;
    const loginPage = await browser.get(interaction);
    const html = await loginPage.text();
    const csp = loginPage.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(html).not.toContain("<script");
    expect(html).toContain('<label for="username">User name</label>');
    expect(html).toContain('<label for="password">Password</label>');
    expect(html).toContain("Raw Client");
    expect(html).toContain(resource);

    const post = (csrf: string | undefined, password: string) =>
      browser.get(`${interaction}/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ ...(csrf === undefined ? {} : { csrf }), username: "alice", password }),
      });
    // The right password with a forged or missing token changes nothing: no redirect, no session.
    const forged = await post("forged", "alice-pw");
    expect(forged.status).toBe(403);
    expect(forged.headers.get("location")).toBeNull();
    expect((await post(undefined, "alice-pw")).status).toBe(403);
    // The page's own token goes through (and a wrong password is answered on the page).
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    const wrong = await post(csrf, "nope");
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("Wrong user name or password.");
  });

  it("refuses a form posted to an interaction this browser is not in", async () => {
    const response = await fetch(`${server.url}/oauth/interaction/not-mine/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "csrf=x&username=alice&password=alice-pw",
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("expired or was opened in another browser");
  });
});

describe("client registration policy", () => {
  it("by default registers loopback and https redirect URIs only", async () => {
    const server = await startTestServer();
    try {
      expect((await registerClient(server.url, ["http://127.0.0.1:8123/cb"])).status).toBe(201);
      expect((await registerClient(server.url, ["https://claude.ai/api/mcp/auth_callback"])).status).toBe(
        201,
      );
      for (const uri of ["http://evil.example/cb", "cursor://anysphere.cursor-retrieval/oauth/callback"]) {
        const refused = await registerClient(server.url, [uri]);
        expect(refused.status).toBe(400);
        expect(refused.body.error).toBe("invalid_redirect_uri");
      }
    } finally {
      await server.close();
    }
  });

  it("with OAUTH_REGISTRATION=open accepts other schemes; with off has no registration endpoint", async () => {
    const open = await startTestServer({ OAUTH_REGISTRATION: "open" });
    try {
      const native = await registerClient(
        open.url,
        ["cursor://anysphere.cursor-retrieval/oauth/callback"],
        "Cursor",
        {
          application_type: "native",
        },
      );
      expect(native.status).toBe(201);
    } finally {
      await open.close();
    }
    const off = await startTestServer({ OAUTH_REGISTRATION: "off" });
    try {
      const metadata = (await (await fetch(`${off.url}/.well-known/openid-configuration`)).json()) as Record<
        string,
        unknown
      >;
      expect(metadata.registration_endpoint).toBeUndefined();
      expect((await registerClient(off.url, [REDIRECT])).status).toBe(404);
    } finally {
      await off.close();
    }
  });

  it("refuses a client ID metadata document on a private address unless allowed for development", async () => {
    const server = await startTestServer();
    try {
      const { challenge: pkce } = pkcePair();
      const response = await fetch(
        authorizeUrl(server.url, {
          clientId: "https://127.0.0.1:9/client.json",
          redirectUri: REDIRECT,
          challenge: pkce,
          resource: `${server.url}/mcp`,
        }),
        { redirect: "manual" },
      );
      expect(response.status).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(await response.text()).toContain("invalid_client");
    } finally {
      await server.close();
    }
  });
});
