import { startFgaDevServer } from "@mcp-langgraph/authz/dev-server";
import type { Logger } from "@mcp-langgraph/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { type RunningHttpServer, startHttpServer } from "../src/server.ts";
import { connect, INITIALIZE, login, postMcp, textOf, USERS } from "./helpers.ts";

type Line = Record<string, unknown> & { msg: string };

/** Keeps every log line, to check the erase's audit line. */
function capturingLogger(lines: Line[]): Logger {
  const keep = (fields: Record<string, unknown>, msg: string) => lines.push({ ...fields, msg });
  return { debug: keep, info: keep, warn: keep, error: keep };
}

interface ExportDoc {
  profile: { user_id: string; username: string; roles: string[] };
  login_sessions: { current: boolean; created_at: string }[];
  api_keys: { id: string; name: string }[];
  authorization_tuples: { user: string; relation: string; object: string }[];
  conversations: { thread_id: string; messages: { role: string; content: string }[] }[];
}

interface Account {
  token: string;
  key: string;
  keyId: string;
}

/**
 * The whole flow against one authorizer backend. OpenFGA (the project's dev server speaking its HTTP
 * API) matters: its Read needs an object type when it filters by user.
 */
function describeGdpr(
  name: string,
  backendEnv: () => Promise<Record<string, string>>,
  closeBackend: () => Promise<void>,
) {
  let server: RunningHttpServer;
  const logLines: Line[] = [];
  let alice: Account;
  let bob: Account;

  const api = (path: string, credential: string | undefined, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: {
        "content-type": "application/json",
        ...(credential ? { authorization: `Bearer ${credential}` } : {}),
        ...init.headers,
      },
    });

  const exportOf = async (token: string): Promise<ExportDoc> => {
    const response = await api("/api/v1/users/me/export", token);
    expect(response.status).toBe(200);
    return (await response.json()) as ExportDoc;
  };

  /** Logs in, holds one conversation (`<name>-thread`) and one API key. */
  async function account(name: string): Promise<Account> {
    const token = await login(server.url, name, `${name}-pw`);
    const { client } = await connect(server.url, token);
    const reply = await client.callTool({
      name: "agent_chat",
      arguments: { message: `hello from ${name}-marker`, thread_id: `${name}-thread` },
    });
    expect(reply.isError).toBeFalsy();
    await client.close();
    const created = await api("/auth/api-keys", token, {
      method: "POST",
      body: JSON.stringify({ name: name }),
    });
    expect(created.status).toBe(201);
    const { api_key: key, id: keyId } = (await created.json()) as { api_key: string; id: string };
    return { token, key, keyId };
  }

  const conversationText = async (token: string, threadId: string) => {
    const { client } = await connect(server.url, token);
    try {
      const result = await client.callTool({ name: "conversation_get", arguments: { thread_id: threadId } });
      return { isError: result.isError === true, text: textOf(result) };
    } finally {
      await client.close();
    }
  };

  beforeAll(async () => {
    const config = loadConfig({
      HOST: "127.0.0.1",
      PORT: "0",
      LOCAL_USERS: USERS,
      LOG_LEVEL: "info",
      API_KEYS: "on",
      ...(await backendEnv()),
    });
    server = await startHttpServer(config, capturingLogger(logLines));
    alice = await account("alice");
    bob = await account("bob");
  });
  afterAll(async () => {
    await server?.close();
    await closeBackend();
  });

  describe(`GET /api/v1/users/me/export (${name})`, () => {
    it("holds the caller's profile, sessions, key metadata, tuples and conversations, and nothing of bob's", async () => {
      const doc = await exportOf(alice.token);
      expect(doc.profile).toMatchObject({ user_id: "user:alice", username: "alice", roles: ["user"] });
      expect(doc.login_sessions).toEqual([expect.objectContaining({ current: true })]);
      expect(doc.api_keys).toEqual([expect.objectContaining({ id: alice.keyId, name: "alice" })]);
      expect(doc.conversations).toHaveLength(1);
      expect(doc.conversations[0]?.thread_id).toBe("alice-thread");
      expect(doc.conversations[0]?.messages.map((message) => message.role)).toEqual(["user", "assistant"]);
      expect(doc.conversations[0]?.messages[0]?.content).toBe("hello from alice-marker");
      expect(doc.authorization_tuples).toEqual([
        expect.objectContaining({ user: "user:alice", relation: "owner" }),
      ]);
      expect(doc.authorization_tuples[0]?.object).toMatch(/^conversation:c[0-9a-f]{32}_alice-thread$/);

      const raw = JSON.stringify(doc);
      // Never a secret: not the key, not the token (whose session id is left out too).
      expect(raw).not.toContain(alice.key);
      expect(raw).not.toContain(alice.key.slice(-43));
      expect(raw).not.toContain(alice.token);
      expect(raw).not.toContain("sessionId");
      expect(raw).not.toContain("hash");
      expect(raw).not.toContain("bob");
    });

    it("needs a login token: an API key or no credential gets 401", async () => {
      expect((await api("/api/v1/users/me/export", alice.key)).status).toBe(401);
      expect((await api("/api/v1/users/me/export", undefined)).status).toBe(401);
    });
  });

  describe(`DELETE /api/v1/users/me (${name})`, () => {
    it("refuses an API key and changes nothing", async () => {
      expect((await api("/api/v1/users/me", alice.key, { method: "DELETE" })).status).toBe(401);
      expect((await exportOf(alice.token)).conversations).toHaveLength(1);
    });

    it("erases alice's data, ends her tokens, keys and MCP sessions, and leaves bob's alone", async () => {
      const live = await connect(server.url, alice.token);
      const erased = await api("/api/v1/users/me", alice.token, { method: "DELETE" });
      expect(erased.status).toBe(200);
      const { erased: counts } = (await erased.json()) as { erased: Record<string, number> };
      expect(counts).toMatchObject({ conversations: 1, tuples: 1, api_keys: 1, login_sessions: 1 });
      // The live one, and the one account() left open (its client closed without ending it).
      expect(counts.mcp_sessions).toBe(2);

      // One audit line, with counts and no personal data.
      const audit = logLines.filter((line) => line.audit === "user_erased");
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        conversations: 1,
        api_keys: 1,
        subject: expect.stringMatching(/^[0-9a-f]{16}$/),
      });
      expect(JSON.stringify(audit[0])).not.toContain("alice");

      // Everything issued before the erase is refused.
      expect((await api("/api/v1/users/me/export", alice.token)).status).toBe(401);
      expect((await postMcp(server.url, INITIALIZE, { authorization: `Bearer ${alice.token}` })).status).toBe(
        401,
      );
      expect((await postMcp(server.url, INITIALIZE, { authorization: `Bearer ${alice.key}` })).status).toBe(
        401,
      );
      // Her open MCP session is gone.
      await expect(
        live.client.callTool({ name: "conversation_get", arguments: { thread_id: "alice-thread" } }),
      ).rejects.toThrow();
      await live.client.close().catch(() => {});

      // Logging in again (the user list still names her) finds nothing of the old account.
      const fresh = await login(server.url, "alice", "alice-pw");
      const gone = await conversationText(fresh, "alice-thread");
      expect(gone.isError).toBe(true);
      expect(gone.text).not.toContain("alice-marker");
      const doc = await exportOf(fresh);
      expect(doc.conversations).toEqual([]);
      expect(doc.api_keys).toEqual([]);
      expect(doc.authorization_tuples).toEqual([]);
      expect(doc.login_sessions).toEqual([expect.objectContaining({ current: true })]);

      // Bob's conversation, token and key still work.
      const bobs = await conversationText(bob.token, "bob-thread");
      expect(bobs.isError).toBe(false);
      expect(bobs.text).toContain("bob-marker");
      const viaKey = await conversationText(bob.key, "bob-thread");
      expect(viaKey.text).toContain("bob-marker");
      const bobDoc = await exportOf(bob.token);
      expect(bobDoc.conversations).toHaveLength(1);
      expect(bobDoc.api_keys).toEqual([expect.objectContaining({ id: bob.keyId })]);

      // A repeated erase (e.g. a retry after a 503) succeeds with what is left: the new session.
      const again = await api("/api/v1/users/me", fresh, { method: "DELETE" });
      expect(again.status).toBe(200);
      expect(((await again.json()) as { erased: unknown }).erased).toMatchObject({
        conversations: 0,
        tuples: 0,
        api_keys: 0,
        login_sessions: 1,
      });
    });
  });
}

describeGdpr(
  "memory backends",
  async () => ({}),
  async () => {},
);

let fga: Awaited<ReturnType<typeof startFgaDevServer>> | undefined;
describeGdpr(
  "OpenFGA API authorization",
  async () => {
    fga = await startFgaDevServer({ port: 0 });
    return { AUTHZ_BACKEND: "openfga", OPENFGA_API_URL: fga.url };
  },
  async () => {
    await fga?.close();
  },
);
