import { afterEach, describe, expect, it } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { INITIALIZE, login, postMcp, startTestServer } from "./helpers.ts";

const servers: RunningHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(env: Record<string, string>) {
  const server = await startTestServer(env);
  servers.push(server);
  return server;
}

/** An initialized MCP session over raw HTTP: the session id and the headers every later POST needs. */
async function openSession(url: string, token: string, capabilities: Record<string, unknown> = {}) {
  const init = await postMcp(
    url,
    { ...INITIALIZE, params: { ...INITIALIZE.params, capabilities } },
    { authorization: `Bearer ${token}` },
  );
  expect(init.status).toBe(200);
  await init.text();
  const headers = {
    authorization: `Bearer ${token}`,
    "mcp-session-id": init.headers.get("mcp-session-id") ?? "",
    "mcp-protocol-version": "2025-11-25",
  };
  await (await postMcp(url, { jsonrpc: "2.0", method: "notifications/initialized" }, headers)).text();
  return headers;
}

/** The tester's attack: a tools/call naming a ~900 KB tool that does not exist. */
const unknownToolCall = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: `x${"A".repeat(900_000)}`, arguments: {} },
});

const SESSIONS = 4;
const CALLS_PER_SESSION = 6;

async function attack(url: string) {
  const token = await login(url, "alice", "alice-pw");
  const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => openSession(url, token)));
  const answerSizes: number[] = [];
  await Promise.all(
    sessions.map(async (headers) => {
      for (let call = 1; call <= CALLS_PER_SESSION; call++) {
        const answer = await postMcp(url, unknownToolCall(call + 1), headers);
        const text = await answer.text();
        expect(text).toContain('"code":-32602');
        answerSizes.push(text.length);
      }
    }),
  );
  return answerSizes;
}

describe("regression: ~900 KB unknown tool names were echoed and kept per session (10 sessions killed the process)", () => {
  it("echoes at most MCP_ERROR_MESSAGE_MAX_CHARS of the input, so the attack keeps only small answers", async () => {
    const server = await start({ LOCAL_USERS: "alice:alice-pw:user" });
    const answerSizes = await attack(server.url);
    // 1,024 characters of the name, the truncation note, the JSON-RPC envelope and SSE framing.
    for (const size of answerSizes) expect(size).toBeLessThan(2_048);
    const usage = server.mcpSessionUsage();
    expect(usage).toHaveLength(SESSIONS);
    for (const session of usage) expect(session.eventBytes).toBeLessThan(CALLS_PER_SESSION * 2_048);
  }, 60_000);

  it("keeps each session's event store within MCP_EVENT_STORE_MAX_BYTES even when answers are large", async () => {
    const maxBytes = 2 * 1024 * 1024;
    // Echo allowed in full here, so the event store's own byte bound is what holds the line.
    const server = await start({
      LOCAL_USERS: "alice:alice-pw:user",
      MCP_ERROR_MESSAGE_MAX_CHARS: "2000000",
      MCP_EVENT_STORE_MAX_BYTES: String(maxBytes),
    });
    const answerSizes = await attack(server.url);
    for (const size of answerSizes) expect(size).toBeGreaterThan(900_000);
    const usage = server.mcpSessionUsage();
    expect(usage).toHaveLength(SESSIONS);
    for (const session of usage) {
      // Without the byte bound each session kept all six ~900 KB answers (~5.4 MB).
      expect(session.eventBytes).toBeLessThanOrEqual(maxBytes);
      expect(session.eventBytes).toBeGreaterThan(900_000);
    }
  }, 60_000);
});

/** Reads a POST's SSE answer until `done` holds for the text received so far. */
async function readUntil(response: Response, done: (text: string) => boolean): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!done(text)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

describe("requests to a client that never answers them", () => {
  it("holds at most MCP_MAX_PENDING_SERVER_REQUESTS per session; a turn beyond it falls back instead of waiting", async () => {
    const server = await start({ LOCAL_USERS: "alice:alice-pw:user", MCP_MAX_PENDING_SERVER_REQUESTS: "2" });
    const token = await login(server.url, "alice", "alice-pw");
    // The client offers sampling, so agent_chat asks it for completions, and it never answers.
    const headers = await openSession(server.url, token, { sampling: {} });
    const chat = (id: number) =>
      postMcp(
        server.url,
        {
          jsonrpc: "2.0",
          id,
          method: "tools/call",
          params: { name: "agent_chat", arguments: { message: "hi" } },
        },
        headers,
      );
    // The server's requests not tied to a client request travel on the session's GET stream.
    const standalone = await fetch(`${server.url}/mcp`, {
      headers: { ...headers, accept: "text/event-stream" },
    });
    expect(standalone.status).toBe(200);
    const waiting = [chat(2), chat(3)]; // their answers wait for the client's completions: never
    const asked = await readUntil(standalone, (text) => text.split("sampling/createMessage").length > 2);
    expect(asked.split("sampling/createMessage")).toHaveLength(3);
    expect(server.mcpSessionUsage()[0]?.pendingServerRequests).toBe(2);

    // The third turn cannot ask the client: its request is refused at once and it falls back.
    const third = await readUntil(await chat(4), (text) => text.includes('"result"'));
    expect(third).toContain('"result"');
    expect(server.mcpSessionUsage()[0]?.pendingServerRequests).toBe(2);
    // Hang up the streams still waiting, so closing the server need not wait out its drain.
    await Promise.all(
      [standalone, ...(await Promise.all(waiting))].map((response) => response.body?.cancel()),
    );
  }, 60_000);
});
