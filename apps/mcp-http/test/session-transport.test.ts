import { McpServer } from "@modelcontextprotocol/server";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { BoundedEventStore } from "../src/event-store.ts";
import { McpSessionTransport } from "../src/session-transport.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (value: string) => ({ content: [{ type: "text" as const, text: value }] });

interface SseEvent {
  id?: string;
  data: string;
}

function parseSse(body: string): SseEvent[] {
  return body
    .split("\n\n")
    .filter((block) => block.trim() !== "" && !block.startsWith(":"))
    .map((block) => {
      const event: SseEvent = { data: "" };
      for (const line of block.split("\n")) {
        if (line.startsWith("id: ")) event.id = line.slice(4);
        if (line.startsWith("data: ")) event.data += line.slice(6);
      }
      return event;
    });
}

/**
 * Reads a live SSE stream event by event; `until` resolves once the events so far satisfy `done`;
 * `until.drop()` lets the stream go as a client that disconnects does.
 */
function sseReader(response: Response) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const until = async (done: (events: SseEvent[]) => boolean): Promise<SseEvent[]> => {
    for (;;) {
      const events = parseSse(buffer.slice(0, buffer.lastIndexOf("\n\n") + 2));
      if (done(events)) return events;
      const { value, done: ended } = await reader.read();
      if (ended) return parseSse(buffer);
      buffer += decoder.decode(value, { stream: true });
    }
  };
  return Object.assign(until, { drop: () => reader.cancel() });
}

/** Reads SSE events off a live stream until `done` says so (or the stream ends), then lets it go. */
async function readEvents(response: Response, done: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  return sseReader(response)(done);
}

const messages = (events: SseEvent[]) =>
  events.filter((event) => event.data.trim() !== "").map((event) => JSON.parse(event.data));
const resultOf = (events: SseEvent[], id: number) => messages(events).find((message) => message.id === id);

const open: McpServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

async function session(options: { streamAfterMs?: number; disconnectGraceMs?: number } = {}) {
  const server = new McpServer({ name: "t", version: "1" }, { capabilities: { tools: {} } });
  server.registerTool("quick", { description: "Answers at once" }, async () => text("quick"));
  // Reports progress once (its stream goes live), then runs until released or cancelled.
  let ended!: () => void;
  const waiting = {
    release: () => {},
    cancelled: [] as string[],
    ended: new Promise<void>((resolve) => {
      ended = resolve;
    }),
  };
  server.registerTool("wait", { description: "Runs until released or cancelled" }, async (ctx) => {
    const progressToken = ctx.mcpReq._meta?.progressToken ?? "w";
    await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress: 1 } });
    const signal = ctx.mcpReq.signal;
    await new Promise<void>((resolve) => {
      waiting.release = resolve;
      signal.addEventListener("abort", () => {
        waiting.cancelled.push(String(signal.reason));
        resolve();
      });
    });
    ended();
    return text("waited");
  });
  server.registerTool("progress", { description: "Reports progress" }, async (ctx) => {
    const progressToken = ctx.mcpReq._meta?.progressToken;
    for (const progress of [50, 100]) {
      if (progressToken !== undefined) {
        await ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken, progress } });
      }
      await sleep(10);
    }
    return text("progressed");
  });
  server.registerTool("poll", { description: "Closes its stream mid-call" }, async (ctx) => {
    ctx.http?.closeSSE?.();
    await sleep(50);
    return text("polled");
  });
  server.registerTool("slow", { description: "Takes its time" }, async () => {
    await sleep(150);
    return text("slow");
  });
  const sampling = (prompt: string) => ({
    method: "sampling/createMessage" as const,
    params: {
      messages: [{ role: "user" as const, content: { type: "text" as const, text: prompt } }],
      maxTokens: 10,
    },
  });
  const said = (answer: { content: unknown }) => {
    const content = (Array.isArray(answer.content) ? answer.content[0] : answer.content) as { text?: string };
    return text(`client said: ${content?.text ?? "?"}`);
  };
  // A request related to the call travels on the call's own stream...
  server.registerTool(
    "sample",
    { description: "Asks the client's model", inputSchema: z.object({ prompt: z.string() }) },
    async ({ prompt }, ctx) => said(await ctx.mcpReq.send(sampling(prompt))),
  );
  // ...while the SDK's requestSampling goes out on the session's standalone GET stream.
  server.registerTool(
    "sample_standalone",
    { description: "Asks the client's model", inputSchema: z.object({ prompt: z.string() }) },
    async ({ prompt }, ctx) => said(await ctx.mcpReq.requestSampling(sampling(prompt).params)),
  );
  const closed: string[] = [];
  const transport = new McpSessionTransport({
    sessionIdGenerator: () => "session-1",
    eventStore: new BoundedEventStore(),
    onsessionclosed: (id) => closed.push(id),
    ...options,
  });
  await server.connect(transport);
  open.push(server);

  const headers = (extra: Record<string, string> = {}) => ({
    accept: "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2025-11-25",
    ...(transport.sessionId ? { "mcp-session-id": transport.sessionId } : {}),
    ...extra,
  });
  const post = (body: unknown, extra?: Record<string, string>) =>
    transport.handleRequest(
      new Request("http://127.0.0.1/mcp", {
        method: "POST",
        headers: headers(extra),
        body: JSON.stringify(body),
      }),
      { parsedBody: body },
    );
  const get = (extra?: Record<string, string>) =>
    transport.handleRequest(
      new Request("http://127.0.0.1/mcp", {
        method: "GET",
        headers: headers({ accept: "text/event-stream", ...extra }),
      }),
    );
  const call = (
    id: number,
    name: string,
    args: Record<string, unknown> = {},
    meta?: Record<string, unknown>,
  ) =>
    post({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
    });

  const init = await post({
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: {
      protocolVersion: "2025-11-25",
      capabilities: { sampling: {} },
      clientInfo: { name: "c", version: "1" },
    },
  });
  expect(resultOf(parseSse(await init.text()), 0)?.result.protocolVersion).toBe("2025-11-25");
  expect((await post({ jsonrpc: "2.0", method: "notifications/initialized" })).status).toBe(202);
  return { transport, post, get, call, closed, waiting };
}

describe("McpSessionTransport", () => {
  it("sends a result that is ready at once as the whole SSE stream in one body, with resumable event ids", async () => {
    const { call, get } = await session();
    const response = await call(1, "quick");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("mcp-session-id")).toBe("session-1");
    const events = parseSse(await response.text());
    // The same events a live stream carried: a priming event with an id and empty data, then the result.
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({ id: expect.any(String), data: "" });
    expect(events[1]?.id).toEqual(expect.any(String));
    expect(resultOf(events, 1)?.result.content[0].text).toBe("quick");
    // The events were stored: a client that lost the stream after the priming event gets the result back.
    const resumed = await get({ "last-event-id": events[0]?.id as string });
    expect(resultOf(parseSse(await resumed.text()), 1)?.result.content[0].text).toBe("quick");
  });

  it("streams notifications live, ahead of the result, once a handler sends one", async () => {
    const { call } = await session();
    const response = await call(2, "progress", {}, { progressToken: "p" });
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const events = await readEvents(response, (seen) => resultOf(seen, 2) !== undefined);
    expect(events[0]?.data).toBe("");
    expect(messages(events).map((message) => message.method ?? "result")).toEqual([
      "notifications/progress",
      "notifications/progress",
      "result",
    ]);
  });

  it("carries a server-to-client request (sampling) mid-call and the client's answer back", async () => {
    const { call, post } = await session();
    const until = sseReader(await call(3, "sample", { prompt: "hi" }));
    const events = await until((seen) =>
      messages(seen).some((message) => message.method === "sampling/createMessage"),
    );
    const request = messages(events).find((message) => message.method === "sampling/createMessage");

    const answered = await post({
      jsonrpc: "2.0",
      id: request.id,
      result: { role: "assistant", model: "m", content: { type: "text", text: "hello" } },
    });
    expect(answered.status).toBe(202);
    // The answer to the POST that is still streaming arrives on that stream.
    const rest = await until((seen) => resultOf(seen, 3) !== undefined);
    expect(resultOf(rest, 3)?.result.content[0].text).toBe("client said: hello");
  });

  it("delivers the SDK's requestSampling on the standalone GET stream and takes the answer by POST", async () => {
    const { call, post, get } = await session();
    const untilStandalone = sseReader(await get());
    const pending = call(11, "sample_standalone", { prompt: "hey" });
    const events = await untilStandalone((seen) =>
      messages(seen).some((message) => message.method === "sampling/createMessage"),
    );
    const request = messages(events).find((message) => message.method === "sampling/createMessage");
    const answer = { role: "assistant", model: "m", content: { type: "text", text: "hi there" } };
    expect((await post({ jsonrpc: "2.0", id: request.id, result: answer })).status).toBe(202);
    const result = await readEvents(await pending, (seen) => resultOf(seen, 11) !== undefined);
    expect(resultOf(result, 11)?.result.content[0].text).toBe("client said: hi there");
  });

  it("lets a handler close its stream (SEP-1699 polling) and the client resume it with Last-Event-ID", async () => {
    const { call, get } = await session();
    const response = await call(4, "poll");
    const events = parseSse(await response.text());
    expect(events).toEqual([{ id: expect.any(String), data: "" }]);
    const resumed = await get({ "last-event-id": events[0]?.id as string });
    const after = await readEvents(resumed, (seen) => resultOf(seen, 4) !== undefined);
    expect(resultOf(after, 4)?.result.content[0].text).toBe("polled");
  });

  it("streams a call still running after streamAfterMs, priming event first", async () => {
    const { call } = await session({ streamAfterMs: 20 });
    const response = await Promise.race([call(5, "slow"), sleep(100).then(() => "still waiting")]);
    expect(response).toBeInstanceOf(Response);
    const events = await readEvents(response as Response, (seen) => resultOf(seen, 5) !== undefined);
    expect(events[0]?.data).toBe("");
    expect(resultOf(events, 5)?.result.content[0].text).toBe("slow");
  });

  it("answers a batch of requests in one body, one event per request", async () => {
    const { post } = await session();
    const response = await post([
      { jsonrpc: "2.0", id: 6, method: "ping" },
      { jsonrpc: "2.0", id: 7, method: "tools/list" },
    ]);
    const answers = messages(parseSse(await response.text()));
    expect(answers.map((answer) => answer.id)).toEqual([6, 7]);
  });

  it("answers requests still running when the session ends with 404 instead of leaving them hanging", async () => {
    const { transport, call } = await session({ streamAfterMs: 10_000 });
    const pending = call(8, "slow");
    await sleep(10);
    await transport.close();
    expect((await pending).status).toBe(404);
  });

  it("drains before shutdown: a call in flight gets its answer, new requests and streams get 503", async () => {
    const { transport, call, get } = await session({ streamAfterMs: 10_000 });
    const pending = call(9, "slow");
    await sleep(10);
    let drained = false;
    const draining = transport.drain(AbortSignal.timeout(5_000)).then(() => {
      drained = true;
    });
    const refused = await call(10, "quick");
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/shutting down/);
    expect((await get()).status).toBe(503);
    expect(drained).toBe(false);
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(resultOf(parseSse(await answer.text()), 9)?.result.content[0].text).toBe("slow");
    await draining;
    expect(drained).toBe(true);
  });

  it("stops waiting for calls in flight when the drain deadline passes", async () => {
    const { transport, call } = await session({ streamAfterMs: 10_000 });
    const pending = call(11, "slow");
    await sleep(10);
    const deadline = new AbortController();
    const draining = transport.drain(deadline.signal);
    deadline.abort();
    await draining;
    await transport.close();
    expect((await pending).status).toBe(404);
  });

  it("ends a cancelled call's stream at once instead of holding it open until the session ends", async () => {
    const { call, post, waiting } = await session();
    const until = sseReader(await call(20, "wait", {}, { progressToken: "c" }));
    await until((seen) => messages(seen).some((message) => message.method === "notifications/progress"));
    const cancel = {
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: 20, reason: "stop" },
    };
    expect((await post(cancel)).status).toBe(202);
    // `until` returns when the stream ends; the call got no answer (the spec's rule for a cancelled request).
    const events = await until(() => false);
    expect(resultOf(events, 20)).toBeUndefined();
    await waiting.ended;
    expect(waiting.cancelled).toEqual(["stop"]);
  });

  it("cancels a call whose stream the client dropped and did not resume within the grace period", async () => {
    const { call, waiting } = await session({ disconnectGraceMs: 0 });
    const until = sseReader(await call(21, "wait", {}, { progressToken: "d" }));
    await until((seen) => messages(seen).some((message) => message.method === "notifications/progress"));
    await until.drop();
    await waiting.ended;
    expect(waiting.cancelled).toEqual(["The client disconnected and did not resume the stream."]);
  });

  it("keeps a call running while the client resumes its dropped stream within the grace period", async () => {
    const { call, get, waiting } = await session({ disconnectGraceMs: 60_000 });
    const until = sseReader(await call(22, "wait", {}, { progressToken: "r" }));
    const events = await until((seen) =>
      messages(seen).some((message) => message.method === "notifications/progress"),
    );
    await until.drop();
    const lastEventId = events.at(-1)?.id as string;
    const resumed = await get({ "last-event-id": lastEventId });
    expect(resumed.status).toBe(200);
    waiting.release();
    const after = await readEvents(resumed, (seen) => resultOf(seen, 22) !== undefined);
    expect(resultOf(after, 22)?.result.content[0].text).toBe("waited");
    expect(waiting.cancelled).toEqual([]);
  });

  it("refuses what the SDK transport refused, with the same status codes", async () => {
    const { post, get, transport } = await session();
    const ping = { jsonrpc: "2.0", id: 9, method: "ping" };
    expect((await post(ping, { accept: "application/json" })).status).toBe(406);
    expect((await post(ping, { "content-type": "text/plain" })).status).toBe(415);
    expect((await post(ping, { "mcp-protocol-version": "1999-01-01" })).status).toBe(400);
    expect((await post(ping, { "mcp-session-id": "another" })).status).toBe(404);
    expect((await post({ hello: "world" })).status).toBe(400);
    expect((await get({ accept: "application/json" })).status).toBe(406);
    const standalone = await get();
    expect((await get()).status).toBe(409);
    await standalone.body?.cancel();
    expect(transport.sessionId).toBe("session-1");
  });

  it("ends the session on DELETE and answers 404 afterwards", async () => {
    const { transport, post, closed } = await session();
    const deleted = await transport.handleRequest(
      new Request("http://127.0.0.1/mcp", {
        method: "DELETE",
        headers: { "mcp-session-id": "session-1", "mcp-protocol-version": "2025-11-25" },
      }),
    );
    expect(deleted.status).toBe(200);
    expect(closed).toEqual(["session-1"]);
    expect((await post({ jsonrpc: "2.0", id: 10, method: "ping" })).status).toBe(404);
  });
});
