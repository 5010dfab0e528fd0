import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, INITIALIZE, login, postMcp, startTestServer, textOf } from "./helpers.ts";

let server: RunningHttpServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer({ API_KEYS: "on", API_KEY_MAX_PER_USER: "2" });
  token = await login(server.url, "alice", "alice-pw");
});
afterAll(async () => {
  await server?.close();
});

const keysApi = (path: string, credential: string, init: RequestInit = {}) =>
  fetch(`${server.url}/auth/api-keys${path}`, {
    ...init,
    headers: { authorization: `Bearer ${credential}`, "content-type": "application/json", ...init.headers },
  });

describe("API keys (API_KEYS=on)", () => {
  it("creates a key that authenticates MCP requests as its owner until it is revoked", async () => {
    const created = await keysApi("", token, { method: "POST", body: JSON.stringify({ name: "ci" }) });
    expect(created.status).toBe(201);
    const { api_key: key, id } = (await created.json()) as { api_key: string; id: string };
    expect(key).toMatch(/^mcpk_[A-Za-z0-9_-]+$/);

    const { client } = await connect(server.url, key);
    const reply = await client.callTool({ name: "agent_chat", arguments: { message: "3 * 3" } });
    expect(textOf(reply)).toContain("9");
    await client.close();

    const listed = (await (await keysApi("", token)).json()) as { keys: { id: string; name: string }[] };
    expect(listed.keys).toEqual([expect.objectContaining({ id, name: "ci" })]);
    expect(JSON.stringify(listed)).not.toContain(key);

    expect((await keysApi(`/${id}`, token, { method: "DELETE" })).status).toBe(204);
    expect((await postMcp(server.url, INITIALIZE, { authorization: `Bearer ${key}` })).status).toBe(401);
  });

  it("lets only a login token manage keys, never a key itself", async () => {
    const created = await keysApi("", token, { method: "POST", body: "{}" });
    const { api_key: key, id } = (await created.json()) as { api_key: string; id: string };
    expect((await keysApi("", key, { method: "POST", body: "{}" })).status).toBe(401);
    expect((await keysApi("", key)).status).toBe(401);
    expect((await keysApi(`/${id}`, token, { method: "DELETE" })).status).toBe(204);
  });

  it("refuses forged keys, bad input and keys beyond the per-user limit", async () => {
    const forged = `mcpk_${"A".repeat(16)}_${"B".repeat(43)}`;
    expect((await postMcp(server.url, INITIALIZE, { authorization: `Bearer ${forged}` })).status).toBe(401);
    expect(
      (await keysApi("", token, { method: "POST", body: JSON.stringify({ ttl_days: -1 }) })).status,
    ).toBe(400);

    const bob = await login(server.url, "bob", "bob-pw");
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await keysApi("", bob, { method: "POST", body: "{}" })).status);
    expect(statuses).toEqual([201, 201, 409]);
    expect((await keysApi("/not-a-key-id", bob, { method: "DELETE" })).status).toBe(404);
  });

  it("is absent when API keys are off", async () => {
    const plain = await startTestServer();
    try {
      const aliceToken = await login(plain.url, "alice", "alice-pw");
      const response = await fetch(`${plain.url}/auth/api-keys`, {
        headers: { authorization: `Bearer ${aliceToken}` },
      });
      expect(response.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
