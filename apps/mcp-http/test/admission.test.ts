import type { ServerResponse } from "node:http";
import {
  type LoopbackServer,
  openAIWire,
  type RecordedRequest,
  startLoopbackServer,
  TEXT_REPLY,
} from "@mcp-langgraph/testkit/llm-loopback";
import type { Client } from "@modelcontextprotocol/client";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, login, startTestServer, textOf } from "./helpers.ts";

/**
 * A loopback OpenAI server that holds every chat request until the test opens its gate (or
 * `expected` requests are in flight at once), then answers them all. It counts requests in
 * flight, so concurrency is asserted as overlap at the model, never as wall time.
 */
async function gatedModel(expected = Number.POSITIVE_INFINITY) {
  let inFlight = 0;
  let peak = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  // With a cap below `expected` the count never arrives: once no new request has arrived for 10 s,
  // answer anyway so the test fails on the count. Counted from the last arrival, not from the start,
  // so a slow machine (app start-up, 48 calls trickling in) cannot open the gate early.
  let quiet: NodeJS.Timeout | undefined;
  const arrivals: (() => void)[] = [];
  const server = await startLoopbackServer(async (request: RecordedRequest, response: ServerResponse) => {
    if (Number.isFinite(expected)) {
      clearTimeout(quiet);
      quiet = setTimeout(open, 10_000).unref();
    }
    inFlight++;
    peak = Math.max(peak, inFlight);
    for (const arrived of arrivals.splice(0)) arrived();
    if (inFlight >= expected) open();
    await gate;
    inFlight--;
    openAIWire.reply(request, response, TEXT_REPLY);
  });
  return {
    server,
    open,
    get peak() {
      return peak;
    },
    get inFlight() {
      return inFlight;
    },
    /** Resolves once `count` requests are waiting at the model. */
    async waitForInFlight(count: number) {
      while (inFlight < count) await new Promise<void>((resolve) => arrivals.push(resolve));
    },
  };
}

const modelEnv = (model: LoopbackServer) => ({
  LLM_PROVIDER: "openai",
  MODEL_NAME: "gpt-4o-mini",
  OPENAI_API_KEY: "sk-app-test",
  OPENAI_BASE_URL: `${model.url}/v1`,
});

let app: RunningHttpServer | undefined;
let model: LoopbackServer | undefined;
const clients: Client[] = [];

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((client) => client.close()));
  await app?.close();
  await model?.close();
  app = undefined;
  model = undefined;
});

async function sessions(user: string, password: string, count: number): Promise<Client[]> {
  const token = await login(app!.url, user, password);
  const opened = await Promise.all(
    Array.from({ length: count }, async () => (await connect(app!.url, token)).client),
  );
  clients.push(...opened);
  return opened;
}

describe("agent turn admission through the HTTP app", () => {
  it("on defaults admits far more than 16 concurrent agent_chat calls: all 48 overlap at the model", async () => {
    const calls = 48;
    const gated = await gatedModel(calls);
    model = gated.server;
    app = await startTestServer(modelEnv(gated.server));
    const alice = await sessions("alice", "alice-pw", 4);
    const bob = await sessions("bob", "bob-pw", 4);
    const all = [...alice, ...bob];
    const results = await Promise.all(
      Array.from({ length: calls }, (_, i) =>
        all[i % all.length]!.callTool({ name: "agent_chat", arguments: { message: `hello ${i}` } }),
      ),
    );
    expect(results.filter((result) => result.isError)).toEqual([]);
    expect(results.map(textOf)).toEqual(Array(calls).fill("Hello from loopback"));
    expect(gated.peak).toBe(calls);
  });

  it("past AGENT_MAX_TURNS_PER_USER refuses with a retryable error, claims nothing, and lets another user in", async () => {
    const gated = await gatedModel();
    model = gated.server;
    app = await startTestServer({ ...modelEnv(gated.server), AGENT_MAX_TURNS_PER_USER: "2" });
    const [alice] = await sessions("alice", "alice-pw", 1);
    const [bob] = await sessions("bob", "bob-pw", 1);
    const held = [1, 2].map((i) =>
      alice!.callTool({ name: "agent_chat", arguments: { message: `held ${i}` } }),
    );
    await gated.waitForInFlight(2);

    const refused = await alice!.callTool({
      name: "agent_chat",
      arguments: { message: "one too many", thread_id: "refused-thread" },
    });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(
      /^The agent is busy: you already have 2 agent turns running or waiting \(the per-user limit\); retry in about \d+ s\.$/,
    );
    expect(refused.structuredContent).toMatchObject({
      error: {
        code: "AGENT_BUSY",
        retryable: true,
        limit: "maxTurnsPerUser",
        retryAfterMs: expect.any(Number),
      },
    });

    // Bob is not held back by Alice's calls: his turn reaches the model.
    const bobsTurn = bob!.callTool({
      name: "agent_chat",
      arguments: { message: "my turn", thread_id: "refused-thread" },
    });
    await gated.waitForInFlight(3);
    gated.open();
    const [bobsResult, ...aliceResults] = await Promise.all([bobsTurn, ...held]);
    expect(aliceResults.every((result) => !result.isError)).toBe(true);
    // The refused call claimed nothing: Alice has no 'refused-thread'; Bob's own one is his.
    expect(bobsResult?.structuredContent).toMatchObject({ thread_id: "refused-thread", created: true });
    const aliceReads = await alice!.callTool({
      name: "conversation_get",
      arguments: { thread_id: "refused-thread" },
    });
    expect(aliceReads.isError).toBe(true);
    const bobReads = await bob!.callTool({
      name: "conversation_get",
      arguments: { thread_id: "refused-thread" },
    });
    expect(textOf(bobReads)).not.toContain("one too many");
    expect(textOf(bobReads)).toContain("my turn");
  });

  it("rejects a limit variable that is not a whole number at start-up", async () => {
    await expect(startTestServer({ AGENT_MAX_CONCURRENT_TURNS: "0" })).rejects.toThrow(
      /AGENT_MAX_CONCURRENT_TURNS/,
    );
    await expect(startTestServer({ AGENT_MAX_TURNS_PER_USER: "many" })).rejects.toThrow(
      /AGENT_MAX_TURNS_PER_USER/,
    );
  });
});
