import { generateKeyPairSync, randomUUID } from "node:crypto";
import { roundRobinFetch } from "@mcp-langgraph/testkit/http-app";
import { type HeldModel, startHeldModel } from "@mcp-langgraph/testkit/llm-loopback";
import { REDIS_URL } from "@mcp-langgraph/testkit/redis";
import { requireService } from "@mcp-langgraph/tooling/integration";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, INITIALIZE, login, postMcp, textOf, USERS } from "./helpers.ts";
import { type SpawnedApp, spawnApp } from "./spawn.ts";
import { messagesOf, readEvents } from "./sse-events.ts";

const redisUp = await requireService({ name: "Redis", url: REDIS_URL });

describe.skipIf(!redisUp)(
  "MCP streams across instances (SESSION_BACKEND=redis): events, replies, notifications",
  () => {
    let apps: SpawnedApp[];
    let urls: [string, string, string];
    let alice: string;
    const clients: Client[] = [];

    beforeAll(async () => {
      const env = {
        LOCAL_USERS: USERS,
        SESSION_BACKEND: "redis",
        REDIS_URL,
        SESSION_KEY_PREFIX: `mcp-http-test:${randomUUID()}:`,
        LOCAL_SIGNING_KEY: JSON.stringify(
          generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }),
        ),
        TOKEN_ISSUER: "http://mcp.test",
        TOKEN_AUDIENCE: "http://mcp.test/mcp",
        MCP_CONFORMANCE_FIXTURES: "true",
      };
      apps = await Promise.all([spawnApp(env), spawnApp(env), spawnApp(env)]);
      urls = apps.map((app) => app.url) as [string, string, string];
      alice = await login(urls[0], "alice", "alice-pw");
    }, 60_000);

    afterEach(async () => {
      await Promise.allSettled(clients.splice(0).map((client) => client.close()));
    });

    afterAll(async () => {
      await Promise.allSettled(
        (apps ?? []).map(async (app) => {
          app.child.kill("SIGTERM");
          await app.exited;
        }),
      );
    });

    async function openSession(url: string): Promise<Record<string, string>> {
      const response = await postMcp(url, INITIALIZE, { authorization: `Bearer ${alice}` });
      expect(response.status).toBe(200);
      await response.text();
      return {
        authorization: `Bearer ${alice}`,
        "mcp-session-id": response.headers.get("mcp-session-id") as string,
        "mcp-protocol-version": "2025-11-25",
      };
    }

    it("resumes an SSE stream cut mid-way on another instance, with no event lost or repeated", async () => {
      const headers = await openSession(urls[0]);
      const call = await postMcp(
        urls[0],
        {
          jsonrpc: "2.0",
          id: 7,
          method: "tools/call",
          params: { name: "test_tool_with_progress", arguments: {}, _meta: { progressToken: "p" } },
        },
        headers,
      );
      expect(call.status).toBe(200);
      // The priming event and the first progress event, then the connection drops.
      const before = await readEvents(call, (events) => messagesOf(events).length === 1, { cancel: true });
      const lastEventId = before.events.at(-1)?.id as string;
      expect(lastEventId).toBeTruthy();

      const resumed = await fetch(`${urls[1]}/mcp`, {
        headers: { ...headers, accept: "text/event-stream", "last-event-id": lastEventId },
      });
      expect(resumed.status).toBe(200);
      const after = await readEvents(resumed, (events) => messagesOf(events).some((m) => m.id === 7));
      const messages = [...messagesOf(before.events), ...messagesOf(after.events)];
      expect(
        messages.filter((m) => m.method === "notifications/progress").map((m) => m.params.progress),
      ).toEqual([0, 50, 100]);
      expect(messages.at(-1)).toMatchObject({ id: 7, result: { content: [{ type: "text" }] } });
      // The resumed stream ends with the call's answer, as it would have on the first instance.
      const rest = await readEvents(resumed, () => false);
      expect(rest).toEqual({ events: [], ended: true });
    });

    it("answers 400 for a Last-Event-ID no instance stored, and for one of another session", async () => {
      const headers = await openSession(urls[0]);
      const other = await openSession(urls[1]);
      const call = await postMcp(
        urls[0],
        {
          jsonrpc: "2.0",
          id: 3,
          method: "tools/call",
          params: { name: "test_tool_with_progress", arguments: {}, _meta: { progressToken: "q" } },
        },
        headers,
      );
      const { events } = await readEvents(call, (seen) => messagesOf(seen).some((m) => m.id === 3));
      const known = events.at(-1)?.id as string;
      for (const [session, lastEventId] of [
        [headers, "AAAAAAAAAAAA.1:999"],
        [headers, "not an event id"],
        [other, known],
      ] as const) {
        const response = await fetch(`${urls[2]}/mcp`, {
          headers: { ...session, accept: "text/event-stream", "last-event-id": lastEventId },
        });
        expect(response.status).toBe(400);
        expect(await response.text()).toContain("Invalid event ID");
      }
    });

    it("routes a sampling reply that lands on another instance to the one waiting for it", async () => {
      const balancer = roundRobinFetch(urls);
      const { client } = await connect(urls[0], alice, {
        fetch: balancer.fetch,
        capabilities: { sampling: {} },
      });
      clients.push(client);
      client.setRequestHandler("sampling/createMessage", async () => ({
        model: "client-model",
        role: "assistant",
        content: { type: "text", text: "forty-two" },
      }));
      for (let turn = 0; turn < 3; turn++) {
        const result = await client.callTool(
          { name: "test_sampling", arguments: { prompt: "What is 6 * 7?" } },
          { timeout: 15_000 },
        );
        expect(textOf(result)).toBe("LLM response: forty-two");
      }
      // With three instances in turn, the call and its reply never share one in two calls of three.
      expect(new Set(balancer.sent).size).toBe(3);
    }, 60_000);

    it("delivers a notification to the instance holding the client's GET stream, and DELETE ends that stream at once", async () => {
      const headers = await openSession(urls[0]);
      const thread = `t-${randomUUID()}`;
      const chat = async (url: string, id: number) => {
        const response = await postMcp(
          url,
          {
            jsonrpc: "2.0",
            id,
            method: "tools/call",
            params: { name: "agent_chat", arguments: { message: "hi", thread_id: thread } },
          },
          headers,
        );
        const { events } = await readEvents(response, (seen) => messagesOf(seen).some((m) => m.id === id));
        expect(messagesOf(events).find((m) => m.id === id)?.result?.isError).toBeFalsy();
      };
      await chat(urls[1], 2);
      const subscribe = await postMcp(
        urls[1],
        { jsonrpc: "2.0", id: 3, method: "resources/subscribe", params: { uri: `conversation://${thread}` } },
        headers,
      );
      expect(await subscribe.text()).toContain('"result"');

      // The GET stream is on the first instance; the subscription and the turn that fires it, on the second.
      const standalone = await fetch(`${urls[0]}/mcp`, {
        headers: { ...headers, accept: "text/event-stream" },
      });
      expect(standalone.status).toBe(200);
      const updated = readEvents(standalone, (seen) =>
        messagesOf(seen).some((m) => m.method === "notifications/resources/updated"),
      );
      await chat(urls[1], 4);
      const { events } = await updated;
      expect(messagesOf(events).at(-1)).toMatchObject({
        method: "notifications/resources/updated",
        params: { uri: `conversation://${thread}` },
      });

      // Ended on the third instance: the first closes its copy, and the stream it holds, now.
      const ended = await fetch(`${urls[2]}/mcp`, { method: "DELETE", headers });
      expect(ended.status).toBe(200);
      expect(await readEvents(standalone, () => false)).toEqual({ events: [], ended: true });
    }, 60_000);
  },
);

describe.skipIf(!redisUp)("a call whose stream is read on another instance (SESSION_BACKEND=redis)", () => {
  let held: HeldModel;
  let apps: SpawnedApp[];

  beforeAll(async () => {
    held = await startHeldModel();
    const env = {
      ...held.env,
      LOCAL_USERS: USERS,
      SESSION_BACKEND: "redis",
      REDIS_URL,
      SESSION_KEY_PREFIX: `mcp-http-test:${randomUUID()}:`,
      LOCAL_SIGNING_KEY: JSON.stringify(generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" })),
      TOKEN_ISSUER: "http://mcp.test",
      TOKEN_AUDIENCE: "http://mcp.test/mcp",
      // A third of the wait below: without word from the reading instance, the call would be cancelled.
      // Long enough for the resume to reach the other instance on a loaded machine (100 ms was not).
      MCP_DISCONNECT_GRACE_MS: "1000",
    };
    apps = await Promise.all([spawnApp(env), spawnApp(env)]);
  }, 60_000);

  afterAll(async () => {
    held?.release();
    await Promise.allSettled(
      (apps ?? []).map(async (app) => {
        app.child.kill("SIGTERM");
        await app.exited;
      }),
    );
    await held?.llm.close();
  });

  it("is not abandoned after the disconnect grace while another instance carries its stream", async () => {
    const [first, second] = apps.map((app) => app.url) as [string, string];
    const token = await login(first, "alice", "alice-pw");
    const opened = await postMcp(first, INITIALIZE, { authorization: `Bearer ${token}` });
    await opened.text();
    const headers = {
      authorization: `Bearer ${token}`,
      "mcp-session-id": opened.headers.get("mcp-session-id") as string,
      "mcp-protocol-version": "2025-11-25",
    };
    const call = await postMcp(
      first,
      {
        jsonrpc: "2.0",
        id: 9,
        method: "tools/call",
        params: { name: "agent_chat", arguments: { message: "hi" } },
      },
      headers,
    );
    // The model holds its answer: the call becomes a stream (priming event), which the client drops.
    const before = await readEvents(call, (events) => events.length >= 1, { cancel: true });
    const resumed = await fetch(`${second}/mcp`, {
      headers: { ...headers, accept: "text/event-stream", "last-event-id": before.events[0]?.id as string },
    });
    expect(resumed.status).toBe(200);
    // Several grace periods pass with the client reading on the second instance only.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    held.release();
    const after = await readEvents(resumed, (events) => messagesOf(events).some((m) => m.id === 9));
    const answer = messagesOf(after.events).find((m) => m.id === 9);
    expect(answer, "the call was cancelled: its stream ended without an answer").toBeDefined();
    expect(answer?.result?.isError).toBeFalsy();
    expect(JSON.stringify(answer)).toContain(held.reply);
  }, 60_000);
});
