import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizeUrl, Browserless, claimsOf, pkcePair } from "./oauth-client.ts";
import { type SpawnedApp, spawnApp } from "./spawn.ts";

// Issue 14's Client ID Metadata Documents, the path that succeeds: a client whose client_id is the
// https URL of its metadata, never registered, signs a user in and gets a token for /mcp. The
// document is served over real TLS by a certificate the app trusts (NODE_EXTRA_CA_CERTS).

const REDIRECT = "http://127.0.0.1:9/cb";

/** A self-signed certificate for 127.0.0.1, made with the openssl command line. */
function selfSignedCertificate(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    { stdio: "ignore" },
  );
  return { key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8"), certFile };
}

describe("a client identified by its Client ID Metadata Document", () => {
  let dir: string;
  let documents: Server;
  let app: SpawnedApp;
  let clientId: string;
  let fetched = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cimd-"));
    const tls = selfSignedCertificate(dir);
    documents = createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
      if (request.url !== "/client.json") {
        response.writeHead(404).end();
        return;
      }
      fetched++;
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          client_id: clientId,
          client_name: "Metadata Document Client",
          redirect_uris: [REDIRECT],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "none",
        }),
      );
    });
    await new Promise<void>((resolve) => documents.listen(0, "127.0.0.1", resolve));
    const address = documents.address();
    if (!address || typeof address === "string") throw new Error("no port");
    clientId = `https://127.0.0.1:${address.port}/client.json`;
    app = await spawnApp({
      LOCAL_USERS: "alice:alice-pw:user",
      OAUTH_CLIENT_METADATA_ALLOW_PRIVATE: "true",
      NODE_EXTRA_CA_CERTS: tls.certFile,
    });
  });

  afterAll(async () => {
    app?.child.kill("SIGTERM");
    await app?.exited;
    await new Promise((resolve) => documents?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("fetches the document, names the client on the login page, and issues a token for /mcp to the user who signs in", async () => {
    const resource = `${app.url}/mcp`;
    const { verifier, challenge } = pkcePair();
    const browser = new Browserless();
    const start = await browser.get(
      authorizeUrl(app.url, { clientId, redirectUri: REDIRECT, challenge, resource }, { state: "st" }),
    );
    expect(start.status).toBe(303);
    expect(fetched).toBeGreaterThan(0);
    const interaction = new URL(start.headers.get("location") ?? "", app.url).href;
    const page = await browser.get(interaction);
    const html = await page.text();
    expect(html).toContain("Metadata Document Client");
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    expect(csrf).toBeDefined();
    const signedIn = await browser.get(`${interaction}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf: csrf ?? "", username: "alice", password: "alice-pw" }),
    });
    const back = await browser.follow(app.url, signedIn, REDIRECT);
    expect(back.searchParams.get("state")).toBe("st");
    const code = back.searchParams.get("code");
    expect(code).toBeTruthy();

    const token = await fetch(`${app.url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: code ?? "",
        code_verifier: verifier,
        redirect_uri: REDIRECT,
        client_id: clientId,
        resource,
      }),
    });
    const body = (await token.json()) as Record<string, unknown>;
    expect(token.status, JSON.stringify(body)).toBe(200);
    const accessToken = String(body.access_token);
    expect(claimsOf(accessToken)).toMatchObject({ aud: resource, sub: "alice" });

    const initialize = await fetch(resource, {
      method: "POST",
      headers: {
        authorization: `Bearer ${accessToken}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-11-25",
          capabilities: {},
          clientInfo: { name: "cimd", version: "1" },
        },
      }),
    });
    expect(initialize.status).toBe(200);
    expect(initialize.headers.get("mcp-session-id")).toBeTruthy();
  });
});
