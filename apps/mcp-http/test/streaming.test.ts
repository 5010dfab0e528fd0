import type { ServerResponse } from "node:http";
import { PROGRESS_META_KEY, type ProgressEvent } from "@mcp-langgraph/mcp-server";
import {
  anthropicWire,
  holdResponseAfter,
  type LoopbackServer,
  openAIWire,
  type RecordedRequest,
  type Reply,
  startLoopbackServer,
  TEXT_REPLY,
  type WireFormat,
} from "@mcp-langgraph/testkit/llm-loopback";
import type { Client } from "@modelcontextprotocol/client";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { connect, login, startTestServer, textOf } from "./helpers.ts";

/** The model's first step: some text, then a calculator call; its second step is TEXT_REPLY. */
const THINKING_REPLY: Reply = {
  parts: ["Let me", " compute."],
  toolCall: { id: "call_1", name: "calculator", args: { expression: "2+2" } },
  inputTokens: 9,
  outputTokens: 5,
};
const ANSWER = TEXT_REPLY.parts.join("");

interface Progress {
  progress: number;
  message?: string;
  _meta?: Record<string, unknown>;
}

/** What the client saw, as [kind, message] in order. */
const shown = (notifications: Progress[]) =>
  notifications.map((notification) => {
    const event = notification._meta?.[PROGRESS_META_KEY] as ProgressEvent | undefined;
    return [event?.kind, notification.message];
  });

/**
 * A model on `wire` that answers each conversation's first request with THINKING_REPLY and its
 * second with TEXT_REPLY (by the number of messages it is sent), streaming or not as asked.
 */
function thinkingModel(wire: WireFormat) {
  return (request: RecordedRequest, response: ServerResponse) => {
    // OpenAI sends the tool's result as a "tool" message, Anthropic as a "tool_result" block.
    const messages = (request.body as { messages?: { role: string }[] }).messages ?? [];
    const answered =
      messages.some((message) => message.role === "tool") ||
      JSON.stringify(messages).includes('"tool_result"');
    wire.reply(request, response, answered ? TEXT_REPLY : THINKING_REPLY);
  };
}

const envFor = (wire: WireFormat, llm: LoopbackServer, extra: Record<string, string> = {}) => {
  const options = wire.options(llm.url);
  const keyVariable = wire.provider === "anthropic" ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
  return {
    LLM_PROVIDER: options.provider,
    MODEL_NAME: options.model,
    [keyVariable]: options.apiKey ?? "",
    ...(wire.provider === "anthropic"
      ? { ANTHROPIC_BASE_URL: options.baseUrl ?? "" }
      : { OPENAI_BASE_URL: options.baseUrl ?? "" }),
    ...extra,
  };
};

const clients: Client[] = [];
afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((client) => client.close()));
});

async function clientOf(app: RunningHttpServer, user = "alice"): Promise<Client> {
  const { client } = await connect(app.url, await login(app.url, user, `${user}-pw`));
  clients.push(client);
  return client;
}

/** The model saw its request dropped, and the turn slot is free: another client is answered in full. */
async function expectAbortedAndSlotFreed(llm: LoopbackServer, app: RunningHttpServer): Promise<void> {
  await llm.waitForClientAborts(1);
  const other = await clientOf(app);
  expect(textOf(await other.callTool({ name: "agent_chat", arguments: { message: "anyone?" } }))).toBe(
    ANSWER,
  );
}

describe.each([openAIWire, anthropicWire])("agent_chat progress on the $provider wire", (wire) => {
  let llm: LoopbackServer;
  let everyPiece: RunningHttpServer;
  let coalescing: RunningHttpServer;

  beforeAll(async () => {
    llm = await startLoopbackServer(thinkingModel(wire));
    everyPiece = await startTestServer(envFor(wire, llm, { AGENT_PROGRESS_INTERVAL_MS: "0" }));
    // One interval spans the whole test: text is sent at the first piece, then only before a tool
    // event or the answer, whatever the timing.
    coalescing = await startTestServer(envFor(wire, llm, { AGENT_PROGRESS_INTERVAL_MS: "60000" }));
  });
  afterAll(async () => {
    await Promise.allSettled(clients.splice(0).map((client) => client.close()));
    await everyPiece?.close();
    await coalescing?.close();
    await llm?.close();
  });

  it("streams the text piece by piece and each tool's start and end, in order, before the unchanged answer", async () => {
    const client = await clientOf(everyPiece);
    const seen: Progress[] = [];
    const requestsBefore = llm.requests.length;
    const streamed = await client.callTool(
      { name: "agent_chat", arguments: { message: "what is 2+2?" } },
      { onprogress: (progress) => seen.push(progress) },
    );
    expect(streamed.isError).toBeFalsy();
    expect(shown(seen)).toEqual([
      ["text", "Let me"],
      ["text", " compute."],
      ["tool_start", "Running tool calculator"],
      ["tool_end", "Tool calculator finished"],
      ["text", "Hello"],
      ["text", " from"],
      ["text", " loopback"],
    ]);
    expect(seen.map((notification) => notification.progress)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Tool events carry the name only: the arguments ("2+2") and the result ("4") never leave.
    expect(JSON.stringify(seen)).not.toMatch(/2\+2|"4"/);
    // The provider streamed both steps.
    const streamedRequests = llm.requests.slice(requestsBefore);
    expect(streamedRequests.map((request) => wire.isStreaming(request))).toEqual([true, true]);

    const plainRequestsBefore = llm.requests.length;
    const plain = await client.callTool({ name: "agent_chat", arguments: { message: "what is 2+2?" } });
    // Without a progress token the call is as before: no streaming from the provider either.
    expect(llm.requests.slice(plainRequestsBefore).map((request) => wire.isStreaming(request))).toEqual([
      false,
      false,
    ]);
    expect(textOf(streamed)).toBe(ANSWER);
    expect(streamed.content).toEqual(plain.content);
    const { thread_id: _one, ...streamedResult } = streamed.structuredContent as Record<string, unknown>;
    const { thread_id: _two, ...plainResult } = plain.structuredContent as Record<string, unknown>;
    expect(streamedResult).toEqual(plainResult);
  });

  it("coalesces pieces that arrive within the interval into one notification", async () => {
    const client = await clientOf(coalescing);
    const seen: Progress[] = [];
    const result = await client.callTool(
      { name: "agent_chat", arguments: { message: "what is 2+2?" } },
      { onprogress: (progress) => seen.push(progress) },
    );
    expect(textOf(result)).toBe(ANSWER);
    expect(shown(seen)).toEqual([
      ["text", "Let me"],
      ["text", " compute."],
      ["tool_start", "Running tool calculator"],
      ["tool_end", "Tool calculator finished"],
      ["text", ANSWER],
    ]);
  });
});

/** A model on `wire` whose first answer stops mid-stream, right after "Hello", and never goes on; later ones answer in full. */
function stallingModel(wire: WireFormat) {
  let requests = 0;
  const never = new Promise<void>(() => {});
  return (request: RecordedRequest, response: ServerResponse) => {
    requests++;
    wire.reply(request, requests === 1 ? holdResponseAfter(response, "Hello", never) : response, TEXT_REPLY);
  };
}

describe.each([openAIWire, anthropicWire])(
  "cancelling a streaming agent_chat on the $provider wire",
  (wire) => {
    let llm: LoopbackServer | undefined;
    let app: RunningHttpServer | undefined;

    /** One turn at a time and a queue: a turn slot never freed would make the next call wait forever. */
    async function start() {
      llm = await startLoopbackServer(stallingModel(wire));
      app = await startTestServer(
        envFor(wire, llm, {
          AGENT_PROGRESS_INTERVAL_MS: "0",
          AGENT_MAX_CONCURRENT_TURNS: "1",
          AGENT_MAX_QUEUED_TURNS: "10",
          MCP_DISCONNECT_GRACE_MS: "0",
        }),
      );
      return { llm, app };
    }
    afterEach(async () => {
      await Promise.allSettled(clients.splice(0).map((client) => client.close()));
      await app?.close();
      await llm?.close();
      app = undefined;
      llm = undefined;
    });

    it("stops the model's request on notifications/cancelled and frees the turn slot", async () => {
      const { llm, app } = await start();
      const client = await clientOf(app);
      const cancel = new AbortController();
      const seen: Progress[] = [];
      const call = client.callTool(
        { name: "agent_chat", arguments: { message: "hello" } },
        {
          signal: cancel.signal,
          onprogress: (progress) => {
            seen.push(progress);
            cancel.abort("enough");
          },
        },
      );
      await expect(call).rejects.toThrow();
      expect(shown(seen)).toEqual([["text", "Hello"]]);
      // The provider saw its streaming request closed before the answer's end.
      await llm.waitForClientAborts(1);
      expect(llm.clientAborts).toBe(1);
      const next = await client.callTool({ name: "agent_chat", arguments: { message: "hello again" } });
      expect(textOf(next)).toBe(ANSWER);
    });

    it("stops the model's request when the client goes away mid-stream, and frees the turn slot", async () => {
      const { llm, app } = await start();
      const leaving = await clientOf(app);
      let progressed!: () => void;
      const firstProgress = new Promise<void>((resolve) => {
        progressed = resolve;
      });
      const call = leaving.callTool(
        { name: "agent_chat", arguments: { message: "hello" } },
        { onprogress: () => progressed() },
      );
      await firstProgress;
      await leaving.close();
      await expect(call).rejects.toThrow();
      await expectAbortedAndSlotFreed(llm, app);
    });

    it("stops the model's request when a client without progress goes away before its answer", async () => {
      const { llm, app } = await start();
      const leaving = await clientOf(app);
      const call = leaving.callTool({ name: "agent_chat", arguments: { message: "hello" } });
      await vi.waitFor(() => expect(llm.requests).toHaveLength(1));
      await leaving.close();
      await expect(call).rejects.toThrow();
      // Its answer was still held (no stream yet, so nothing to resume): the call is cancelled at once.
      await expectAbortedAndSlotFreed(llm, app);
    });
  },
);
