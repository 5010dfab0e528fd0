import { setTimeout as sleep } from "node:timers/promises";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import {
  bedrockWire,
  type LoopbackServer,
  openAIWire,
  scripted,
  startLoopbackServer,
  TEXT_REPLY,
} from "@mcp-langgraph/testkit/llm-loopback";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type ChatModelOptions, closeChatModel, createChatModel } from "../src/index.ts";

// Calls per burst. Each answer takes long enough that a burst's calls overlap,
// so every call of a burst holds a connection of its own.
const BURST = 8;
const ANSWER_DELAY_MS = 100;

const servers: LoopbackServer[] = [];
const models: BaseChatModel[] = [];
afterEach(async () => {
  await Promise.all(models.splice(0).map((model) => closeChatModel(model)));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** An OpenAI endpoint; `keepAliveTimeoutMs` is what it announces (0: nothing, like the bench's provider). */
async function slowOpenAI(keepAliveTimeoutMs = 0) {
  const server = await startLoopbackServer(
    async (request, response) => {
      await sleep(ANSWER_DELAY_MS);
      openAIWire.reply(request, response, TEXT_REPLY);
    },
    { keepAliveTimeoutMs },
  );
  servers.push(server);
  return server;
}

async function model(options: ChatModelOptions) {
  const created = await createChatModel({ timeoutMs: 5_000, ...options });
  models.push(created);
  return created;
}

/**
 * BURST concurrent calls, then a moment for their connections to go back to the pool: undici frees
 * a connection just after the answer's body has resolved, so a call made in that same instant would
 * open another one.
 */
async function burst(target: BaseChatModel) {
  await Promise.all(Array.from({ length: BURST }, (_, index) => target.invoke(`ping ${index}`)));
  await sleep(10);
}

describe("provider connection pools", () => {
  it("keeps a burst's connections for the next burst while keepAliveMs lasts", async () => {
    const server = await slowOpenAI();
    const openai = await model({ ...openAIWire.options(server.url), keepAliveMs: 5_000 });
    await burst(openai);
    expect(server.connections).toBe(BURST);
    await sleep(1_000);
    await burst(openai);
    expect(server.connections).toBe(BURST);
  });

  it("closes idle connections after keepAliveMs, even when the server announces a longer timeout", async () => {
    const server = await slowOpenAI(600_000);
    const openai = await model({ ...openAIWire.options(server.url), keepAliveMs: 300 });
    await burst(openai);
    await sleep(1_000);
    expect(server.openConnections).toBe(0);
    await burst(openai);
    expect(server.connections).toBe(2 * BURST);
  });

  it("follows a shorter idle timeout the server announces, closing before the server would", async () => {
    // "Keep-Alive: timeout=3": the pool keeps the connection 3 s minus undici's 2 s margin, so it never
    // sends a request on a connection the server is about to close.
    const server = await slowOpenAI(3_000);
    const openai = await model(openAIWire.options(server.url));
    await burst(openai);
    await sleep(2_000);
    await burst(openai);
    expect(server.connections).toBe(2 * BURST);
  });

  it("shares one pool per endpoint between the models built on it", async () => {
    const server = await slowOpenAI();
    const first = await model(openAIWire.options(server.url));
    const second = await model({ ...openAIWire.options(server.url), model: "gpt-4o" });
    await burst(first);
    await burst(second);
    expect(server.connections).toBe(BURST);
    // A fallback on the same endpoint uses the same pool too.
    const chain = await model({
      ...openAIWire.options(server.url),
      fallbacks: [{ ...openAIWire.options(server.url), model: "gpt-4o" }],
    });
    await burst(chain);
    expect(server.connections).toBe(BURST);
  });

  it("keeps endpoints apart and closes a pool with the last model using it", async () => {
    const shared = await slowOpenAI();
    const other = await slowOpenAI();
    const first = await model(openAIWire.options(shared.url));
    const second = await model(openAIWire.options(shared.url));
    const elsewhere = await model(openAIWire.options(other.url));
    await Promise.all([burst(first), burst(elsewhere)]);
    expect([shared.connections, other.connections]).toEqual([BURST, BURST]);

    await closeChatModel(first);
    await closeChatModel(first); // closing twice is harmless
    await burst(second);
    expect(shared.connections).toBe(BURST);
    expect(shared.openConnections).toBe(BURST);

    await closeChatModel(second);
    await vi.waitFor(() => expect(shared.openConnections).toBe(0));
    expect(other.openConnections).toBe(BURST);
    await closeChatModel(elsewhere);
    await vi.waitFor(() => expect(other.openConnections).toBe(0));
  });

  it("rejects a keep-alive that is not a positive whole number", async () => {
    await expect(
      createChatModel({ ...openAIWire.options("http://127.0.0.1:1"), keepAliveMs: 0 }),
    ).rejects.toThrow(/keepAliveMs/);
  });

  it("leaves Bedrock on the AWS SDK's own transport: one HTTP/2 session per call (ADR 0045)", async () => {
    const server = await startLoopbackServer(scripted(bedrockWire, ["ok"]), { http2: true });
    servers.push(server);
    const bedrock = await model(bedrockWire.options(server.url));
    await bedrock.invoke("hi");
    await bedrock.invoke("hi");
    expect(server.connections).toBe(2);
  });
});
