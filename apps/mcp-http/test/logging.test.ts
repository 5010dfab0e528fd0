import type { ServerResponse } from "node:http";
import { startFgaDevServer } from "@mcp-langgraph/authz/dev-server";
import {
  type LoopbackServer,
  openAIWire,
  type RecordedRequest,
  startLoopbackServer,
  TEXT_REPLY,
} from "@mcp-langgraph/testkit/llm-loopback";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connect, login } from "./helpers.ts";
import { type SpawnedApp, spawnApp } from "./spawn.ts";

type LogLine = Record<string, unknown> & { msg?: string; reqId?: string; level?: number };

const linesOf = (app: SpawnedApp): LogLine[] =>
  app
    .stdout()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine);

const accessLines = (app: SpawnedApp) => linesOf(app).filter((line) => line.msg === "request");

describe("request ids and the access log", () => {
  let app: SpawnedApp;
  beforeAll(async () => {
    app = await spawnApp({ LOG_LEVEL: "info", LOCAL_USERS: "alice:alice-pw:user" });
  });
  afterAll(() => {
    app?.child.kill();
  });

  it("echoes a caller's x-request-id and writes it on the request's access line", async () => {
    const response = await fetch(`${app.url}/health/live?probe=1`, {
      headers: { "x-request-id": "probe-42.a:b" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe("probe-42.a:b");
    await vi.waitFor(() =>
      expect(accessLines(app)).toContainEqual(
        expect.objectContaining({
          reqId: "probe-42.a:b",
          method: "GET",
          route: "/health/live",
          status: 200,
          level: 30,
          durationMs: expect.any(Number),
        }),
      ),
    );
    // The query string is not logged.
    expect(app.stdout()).not.toContain("probe=1");
  });

  it("generates an id when the request has none, or one that is too long or has unsafe characters", async () => {
    const given = [undefined, "x".repeat(129), 'forged" "level":50', "new\nline"];
    const ids: string[] = [];
    for (const id of given) {
      const headers: Record<string, string> =
        id === undefined || id.includes("\n") ? {} : { "x-request-id": id };
      const response = await fetch(`${app.url}/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ username: "alice", password: "wrong-password" }),
      });
      expect(response.status).toBe(401);
      const echoed = response.headers.get("x-request-id") ?? "";
      expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
      ids.push(echoed);
    }
    expect(new Set(ids).size).toBe(given.length);
    await vi.waitFor(() => {
      const logged = accessLines(app).filter((line) => line.route === "/auth/login");
      for (const id of ids)
        expect(logged).toContainEqual(expect.objectContaining({ reqId: id, status: 401 }));
    });
    expect(app.stdout()).not.toContain("forged");
  });

  it("gives a request rejected before any route (Host guard) an id and an access line", async () => {
    const response = await fetch(`${app.url}/mcp`, {
      method: "POST",
      headers: { origin: "http://evil.example", "x-request-id": "guarded-1" },
      body: "{}",
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("x-request-id")).toBe("guarded-1");
    await vi.waitFor(() =>
      expect(accessLines(app)).toContainEqual(expect.objectContaining({ reqId: "guarded-1", status: 403 })),
    );
  });
});

describe("secrets stay out of the log at LOG_LEVEL=debug", () => {
  const PASSWORD = "alice-very-secret-password";
  const PROVIDER_KEY = "sk-provider-key-never-logged-0123456789";
  let provider: LoopbackServer;
  let app: SpawnedApp;

  beforeAll(async () => {
    let calls = 0;
    // A provider that fails its first call with an error naming the key it was sent (as some
    // vendors do for a bad key), then answers: the retry and the error reach the log.
    provider = await startLoopbackServer((request: RecordedRequest, response: ServerResponse) => {
      calls++;
      if (calls === 1) {
        response.writeHead(500, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            error: {
              message: `Upstream failed for key ${String(request.headers.authorization)}`,
              type: "server_error",
            },
          }),
        );
        return;
      }
      return openAIWire.reply(request, response, TEXT_REPLY);
    });
    app = await spawnApp({
      LOG_LEVEL: "debug",
      LOCAL_USERS: `alice:${PASSWORD}:user`,
      API_KEYS: "on",
      LLM_PROVIDER: "openai",
      MODEL_NAME: "gpt-4o-mini",
      OPENAI_API_KEY: PROVIDER_KEY,
      OPENAI_BASE_URL: `${provider.url}/v1`,
    });
  });
  afterAll(async () => {
    app?.child.kill();
    await provider?.close();
  });

  it("logs requests, retries and failures without the password, tokens, API keys or provider key", async () => {
    // A failed and a good login, the token on /mcp, an API key minted and used, a model call retried.
    await fetch(`${app.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: `${PASSWORD}-wrong` }),
    });
    const token = await login(app.url, "alice", PASSWORD);
    const created = await fetch(`${app.url}/auth/api-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "ci" }),
    });
    expect(created.status).toBe(201);
    const { api_key: apiKey } = (await created.json()) as { api_key: string };
    // A bad bearer value of the key's shape, and a malformed token.
    await fetch(`${app.url}/auth/api-keys`, { headers: { authorization: `Bearer ${apiKey}x` } });
    await fetch(`${app.url}/mcp`, { method: "POST", headers: { authorization: `Bearer ${token}.tampered` } });

    for (const credential of [token, apiKey]) {
      const { client } = await connect(app.url, credential);
      try {
        const result = await client.callTool({ name: "agent_chat", arguments: { message: "hello" } });
        expect(result.isError).toBeFalsy();
      } finally {
        await client.close();
      }
    }
    expect(provider.requests.length).toBeGreaterThanOrEqual(3);

    await vi.waitFor(() =>
      expect(linesOf(app).some((line) => line.msg === "LLM call failed; retrying")).toBe(true),
    );
    const output = app.stdout();
    // Debug output is not silent: every request has its access line, the failures their reasons.
    expect(accessLines(app).length).toBeGreaterThanOrEqual(8);
    for (const secret of [
      PASSWORD,
      PROVIDER_KEY,
      token,
      apiKey,
      apiKey.slice(-24),
      token.split(".")[2] ?? token,
    ]) {
      expect(output).not.toContain(secret);
    }
    expect(app.stderr()).not.toContain(PROVIDER_KEY);
  });
});

describe("package warnings reach the log", () => {
  it("logs the authorizer's 'authz unavailable: denying' with the request's id", async () => {
    const fga = await startFgaDevServer({ port: 0 });
    let app: SpawnedApp | undefined;
    try {
      app = await spawnApp({
        LOG_LEVEL: "info",
        LOCAL_USERS: "alice:alice-pw:user",
        AUTHZ_BACKEND: "openfga",
        OPENFGA_API_URL: fga.url,
      });
      const token = await login(app.url, "alice", "alice-pw");
      // The authorizer goes away after start-up: its checks fail, and fail closed.
      await fga.close();
      const { client } = await connect(app.url, token);
      try {
        const result = await client.callTool({ name: "agent_chat", arguments: { message: "hello" } });
        expect(result.isError).toBe(true);
      } finally {
        await client.close();
      }
      const running = app;
      await vi.waitFor(() => {
        const warning = linesOf(running).find((line) => line.msg === "authz unavailable: denying");
        expect(warning).toMatchObject({ level: 40, reqId: expect.any(String) });
        // The warning belongs to a request that has its own access line.
        expect(accessLines(running).map((line) => line.reqId)).toContain(warning?.reqId);
      });
    } finally {
      app?.child.kill();
      await fga.close().catch(() => {});
    }
  });
});
