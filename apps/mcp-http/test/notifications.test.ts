import type { Client } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, login, startTestServer } from "./helpers.ts";

let server: RunningHttpServer;
let aliceToken: string;
let bobToken: string;

beforeAll(async () => {
  server = await startTestServer({ MAX_SUBSCRIPTIONS_PER_SESSION: "1" });
  [aliceToken, bobToken] = await Promise.all([
    login(server.url, "alice", "alice-pw"),
    login(server.url, "bob", "bob-pw"),
  ]);
});
afterAll(async () => {
  await server?.close();
});

/** Resolves with the params of the first `method` notification the client receives. */
const next = (client: Client, method: "notifications/resources/updated" | "notifications/message") =>
  new Promise<Record<string, unknown>>((resolve) =>
    client.setNotificationHandler(method, (notification) =>
      resolve(notification.params as Record<string, unknown>),
    ),
  );

describe("MCP notifications over Streamable HTTP", () => {
  it("tells a subscribed session of a turn another of the user's sessions finished, within the session bound", async () => {
    const watcher = await connect(server.url, aliceToken);
    const writer = await connect(server.url, aliceToken);
    const bob = await connect(server.url, bobToken);
    try {
      await writer.client.callTool({ name: "agent_chat", arguments: { message: "hi", thread_id: "notes" } });
      await writer.client.callTool({ name: "agent_chat", arguments: { message: "hi", thread_id: "other" } });
      await bob.client.callTool({ name: "agent_chat", arguments: { message: "hi", thread_id: "notes" } });

      await watcher.client.subscribeResource({ uri: "conversation://notes" });
      await expect(watcher.client.subscribeResource({ uri: "conversation://other" })).rejects.toThrow(
        /MAX_SUBSCRIPTIONS_PER_SESSION/,
      );
      const updated = next(watcher.client, "notifications/resources/updated");
      await writer.client.callTool({
        name: "agent_chat",
        arguments: { message: "more", thread_id: "notes" },
      });
      expect(await updated).toEqual({ uri: "conversation://notes" });

      const completion = await bob.client.complete({
        ref: { type: "ref/resource", uri: "conversation://{thread_id}" },
        argument: { name: "thread_id", value: "" },
      });
      expect(completion.completion.values).toEqual(["notes"]);
    } finally {
      await Promise.all([watcher.client.close(), writer.client.close(), bob.client.close()]);
    }
  });

  it("streams the session's log messages for a turn once the client set a level", async () => {
    const alice = await connect(server.url, aliceToken);
    try {
      await alice.client.setLoggingLevel("info");
      const message = next(alice.client, "notifications/message");
      await alice.client.callTool({ name: "agent_chat", arguments: { message: "what is 2+3?" } });
      expect(await message).toMatchObject({
        level: "info",
        data: { event: "tool_call", tool: "calculator" },
      });
    } finally {
      await alice.client.close();
    }
  });
});
