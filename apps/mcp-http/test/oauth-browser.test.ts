import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium, requireChromium } from "@mcp-langgraph/testkit/browser";
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from "@modelcontextprotocol/client";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { textOf } from "./helpers.ts";
import { authorizeUrl, claimsOf, MemoryOAuthClient, pkcePair, registerClient } from "./oauth-client.ts";
import { type SpawnedApp, spawnApp } from "./spawn.ts";

// Issue 14: a real MCP client logs in by itself. The official SDK client runs its OAuth flow
// (discovery from the 401, registration, PKCE + resource) against the built app on embedded
// defaults, and a real browser fills in the login page.

const REDIRECT = "http://127.0.0.1:9/oauth/callback";
// The README's picture of the login page: rewritten only when asked (its port changes every run, so
// writing it on every run would leave the checkout modified); otherwise the shot goes to a temp file.
const SCREENSHOT =
  process.env.UPDATE_SCREENSHOTS === "1"
    ? fileURLToPath(new URL("../../../docs/images/login-page.png", import.meta.url))
    : join(tmpdir(), `login-page-${process.pid}.png`);
const runs = requireChromium();

describe.skipIf(!runs)("OAuth sign-in through the login page in a browser", () => {
  let app: SpawnedApp;
  let browser: Browser;
  let resource: string;

  beforeAll(async () => {
    [app, browser] = await Promise.all([
      spawnApp({ LOCAL_USERS: "alice:alice-pw:user|admin,bob:bob-pw:user" }),
      launchChromium(),
    ]);
    resource = `${app.url}/mcp`;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    app?.child.kill("SIGTERM");
    await app?.exited;
  });

  /** Opens the authorization URL in a fresh browser profile; the redirect to the client is caught, not followed. */
  async function openLogin(url: string): Promise<{ page: Page; redirected: Promise<URL> }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const redirected = new Promise<URL>((resolve) => {
      void page.route(`${REDIRECT}**`, async (route) => {
        resolve(new URL(route.request().url()));
        await route.fulfill({ status: 200, contentType: "text/plain", body: "signed in" });
      });
    });
    await page.goto(url);
    return { page, redirected };
  }

  async function signIn(page: Page, username: string, password: string) {
    await page.getByLabel("User name").fill(username);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in and allow" }).click();
  }

  /** The SDK's whole flow for one user; returns the connected client and its access token. */
  async function sdkLogin(username: string, password: string, screenshot?: string) {
    const oauth = new MemoryOAuthClient(REDIRECT);
    const first = new StreamableHTTPClientTransport(new URL(resource), { authProvider: oauth });
    await expect(new Client({ name: "oauth-test", version: "1" }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    const authorization = oauth.authorizationUrl;
    if (!authorization) throw new Error("the SDK did not start an authorization");
    expect(authorization.searchParams.get("resource")).toBe(resource);
    expect(authorization.searchParams.get("code_challenge_method")).toBe("S256");

    const { page, redirected } = await openLogin(authorization.href);
    expect(await page.locator("#client-name").textContent()).toBe("Browser Test Client");
    expect(await page.locator("#redirect-host").textContent()).toBe("127.0.0.1:9");
    expect(await page.locator("#resource").textContent()).toBe(resource);
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    await signIn(page, username, password);
    const callback = await redirected;
    await page.context().close();
    expect(callback.searchParams.get("error")).toBeNull();
    // The whole callback (code and RFC 9207 `iss`), as a client hands it over.
    await first.finishAuth(callback.searchParams);

    const client = new Client({ name: "oauth-test", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: oauth }));
    return { client, accessToken: oauth.tokens()?.access_token ?? "", oauth };
  }

  it("lets the SDK client discover, register, sign in with PKCE and resource, then call agent_chat", async () => {
    const { client, accessToken, oauth } = await sdkLogin("alice", "alice-pw", SCREENSHOT);
    try {
      const result = await client.callTool({
        name: "agent_chat",
        arguments: { message: "What is (6 + 1) * 6?" },
      });
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toContain("42");
      // The local issuer's token shape, so authentication, authorization and logout are unchanged.
      expect(claimsOf(accessToken)).toMatchObject({
        iss: app.url,
        aud: resource,
        sub: "alice",
        preferred_username: "alice",
        roles: ["user", "admin"],
        sid: expect.any(String),
        scope: "mcp",
      });
      expect(oauth.tokens()?.refresh_token).toEqual(expect.any(String));
    } finally {
      await client.close();
    }
  }, 60_000);

  it("gives a second user signing in through the same flow their own identity, ended by their logout", async () => {
    const { client, accessToken } = await sdkLogin("bob", "bob-pw");
    try {
      expect(claimsOf(accessToken)).toMatchObject({ sub: "bob", preferred_username: "bob", roles: ["user"] });
      const result = await client.callTool({ name: "agent_chat", arguments: { message: "What is 2 + 2?" } });
      expect(textOf(result)).toContain("4");
    } finally {
      await client.close();
    }
    const logout = await fetch(`${app.url}/auth/logout`, {
      method: "POST",
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(logout.status).toBe(204);
    const after = await fetch(`${app.url}/auth/logout`, {
      method: "POST",
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(after.status).toBe(401);
  }, 60_000);

  it("answers a wrong password on the page, with no redirect to the client", async () => {
    const { body } = await registerClient(app.url, [REDIRECT]);
    const { challenge } = pkcePair();
    const url = authorizeUrl(app.url, {
      clientId: body.client_id as string,
      redirectUri: REDIRECT,
      challenge,
      resource,
    });
    const { page } = await openLogin(url);
    const loginPage = page.url();
    const answered = page.waitForResponse((response) => response.request().method() === "POST");
    await signIn(page, "alice", "not-her-password");
    expect((await answered).status()).toBe(401);
    expect(await page.getByRole("alert").textContent()).toBe("Wrong user name or password.");
    expect(page.url().startsWith(`${app.url}/oauth/interaction/`)).toBe(true);
    expect(page.url()).toContain(loginPage.split("/").pop());
    await page.context().close();
  }, 60_000);

  it("refuses a code without its PKCE verifier, then a replayed code, with invalid_grant", async () => {
    const { body } = await registerClient(app.url, [REDIRECT]);
    const clientId = body.client_id as string;
    const { verifier, challenge } = pkcePair();
    const { page, redirected } = await openLogin(
      authorizeUrl(app.url, { clientId, redirectUri: REDIRECT, challenge, resource }),
    );
    await signIn(page, "alice", "alice-pw");
    const code = (await redirected).searchParams.get("code") ?? "";
    await page.context().close();
    const exchange = (extra: Record<string, string>) =>
      fetch(`${app.url}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          client_id: clientId,
          code,
          redirect_uri: REDIRECT,
          resource,
          ...extra,
        }),
      });
    const noVerifier = await exchange({});
    expect(noVerifier.status).toBe(400);
    expect(await noVerifier.json()).toMatchObject({
      error: expect.stringMatching(/^invalid_(grant|request)$/),
    });
    const first = await exchange({ code_verifier: verifier });
    // oidc-provider consumes the code on the failed attempt too: a code is good for one try.
    const replay = first.status === 200 ? await exchange({ code_verifier: verifier }) : first;
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: "invalid_grant" });
  }, 60_000);
});
