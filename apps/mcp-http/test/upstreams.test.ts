// Issue 11 items 2 and 3: upstream MCP servers' tools inside the agent, and approval by elicitation,
// through the HTTP app with the official MCP client, a loopback model that emits tool calls, and
// real upstream servers (one started over stdio by the app, two over Streamable HTTP by the test).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  instructed,
  type LoopbackServer,
  openAIWire,
  startLoopbackServer,
} from "@mcp-langgraph/testkit/llm-loopback";
import {
  startUpstreamHttpServer,
  UPSTREAM_STDIO_SCRIPT,
  type UpstreamHttpServer,
} from "@mcp-langgraph/testkit/mcp";
import { Client, type ElicitRequest, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RunningHttpServer } from "../src/server.ts";
import { login, startTestServer, textOf } from "./helpers.ts";

let model: LoopbackServer;
let remote: UpstreamHttpServer;
let adminsOnly: UpstreamHttpServer;
let flaky: UpstreamHttpServer;
let app: RunningHttpServer;
let dir: string;
let callLog: string;

beforeAll(async () => {
  model = await startLoopbackServer(instructed(openAIWire));
  [remote, adminsOnly, flaky] = await Promise.all([
    startUpstreamHttpServer(),
    startUpstreamHttpServer(),
    startUpstreamHttpServer(),
  ]);
  dir = await mkdtemp(join(tmpdir(), "upstreams-"));
  callLog = join(dir, "calls.jsonl");
  await writeFile(callLog, "");
  const file = join(dir, "upstreams.yaml");
  await writeFile(
    file,
    [
      "servers:",
      "  - name: local",
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: [${JSON.stringify(UPSTREAM_STDIO_SCRIPT)}]`,
      `    env: { UPSTREAM_CALL_LOG: ${JSON.stringify(callLog)} }`,
      "    tools: [echo, slow, delete_file]",
      "  - name: remote",
      `    url: ${remote.url}`,
      "    headers: { x-upstream-key: configured-key }",
      '    approval: ["delete_*"]',
      "  - name: admins",
      `    url: ${adminsOnly.url}`,
      "    roles: [admin]",
      "  - name: flaky",
      `    url: ${flaky.url}`,
      "",
    ].join("\n"),
  );
  app = await startTestServer({
    LLM_PROVIDER: "openai",
    MODEL_NAME: "gpt-4o-mini",
    OPENAI_API_KEY: "sk-app-test",
    OPENAI_BASE_URL: `${model.url}/v1`,
    MCP_UPSTREAMS_FILE: file,
    MCP_UPSTREAM_TIMEOUT_MS: "1000",
    APPROVAL_TIMEOUT_MS: "500",
  });
});
afterAll(async () => {
  await app?.close();
  await Promise.all([model?.close(), remote?.close(), adminsOnly?.close(), flaky?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Elicit = (request: ElicitRequest) => Promise<{ action: "accept" | "decline" | "cancel" }>;

/** Alice's client; with `elicit`, it declares form elicitation and answers with it. */
async function aliceClient(elicit?: Elicit) {
  const token = await login(app.url, "alice", "alice-pw");
  const client = new Client(
    { name: "upstreams-test", version: "1.0.0" },
    elicit ? { capabilities: { elicitation: { form: {} } } } : {},
  );
  if (elicit) client.setRequestHandler("elicitation/create", (request) => elicit(request as ElicitRequest));
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${app.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return { client, token };
}

async function chat(client: Client, message: string) {
  const result = await client.callTool({ name: "agent_chat", arguments: { message } });
  expect(result.isError).toBeFalsy();
  return textOf(result);
}

/** Sends `message` to agent_chat as alice, on a client of her own closed after; returns the reply. */
async function chatAsAlice(message: string, elicit?: Elicit): Promise<string> {
  const { client } = await aliceClient(elicit);
  try {
    return await chat(client, message);
  } finally {
    await client.close();
  }
}

const loggedCalls = async () =>
  (await readFile(callLog, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { tool: string; args: unknown });

describe("upstream MCP servers inside the agent", () => {
  it("offers the upstreams' tools to the model next to the calculator, namespaced and allow-listed", async () => {
    await chatAsAlice("hello");
    const offered = (
      (model.requests.at(-1)?.body as { tools?: { function: { name: string } }[] } | undefined)?.tools ?? []
    )
      .map((tool) => tool.function.name)
      .sort();
    expect(offered).toContain("calculator");
    expect(offered).toEqual(
      expect.arrayContaining([
        "local__echo",
        "local__slow",
        "local__delete_file",
        "remote__echo",
        "remote__hidden",
      ]),
    );
    // Not on the stdio server's allow-list.
    expect(offered).not.toContain("local__hidden");
  });

  it("calls a tool of the upstream it started over stdio and gives the model its answer", async () => {
    expect(await chatAsAlice('call local__echo {"text":"over stdio"}')).toBe("tool said: echo: over stdio");
    expect(await loggedCalls()).toContainEqual(
      expect.objectContaining({ tool: "echo", args: { text: "over stdio" } }),
    );
  });

  it("calls a tool over Streamable HTTP with the configured headers, never the caller's token", async () => {
    const { client, token } = await aliceClient();
    try {
      expect(await chat(client, 'call remote__echo {"text":"over http"}')).toBe("tool said: echo: over http");
    } finally {
      await client.close();
    }
    expect(remote.calls).toContainEqual({ tool: "echo", args: { text: "over http" } });
    expect(remote.headers.length).toBeGreaterThan(0);
    for (const headers of remote.headers) {
      expect(headers["x-upstream-key"]).toBe("configured-key");
      expect(headers.authorization).toBeUndefined();
      expect(JSON.stringify(headers)).not.toContain(token);
    }
  });

  it("refuses a tool of a server the caller's role may not use; the upstream is never reached", async () => {
    expect(await chatAsAlice('call admins__echo {"text":"let me in"}')).toBe(
      "tool said: You are not allowed to execute the tool 'admins__echo'.",
    );
    expect(adminsOnly.calls).toEqual([]);
  });

  it("gives the model a tool error when an upstream is slower than MCP_UPSTREAM_TIMEOUT_MS", async () => {
    expect(await chatAsAlice('call local__slow {"ms":30000}')).toBe(
      "tool said: The upstream server 'local' did not answer within 1000 ms.",
    );
  });

  it("gives the model a tool error when an upstream is down, and the turn still answers", async () => {
    await flaky.close();
    const reply = await chatAsAlice('call flaky__echo {"text":"anyone?"}');
    expect(reply).toMatch(
      /^tool said: The upstream server 'flaky' (failed the call|is not reachable right now)/,
    );
    expect(flaky.calls).toEqual([]);
  });

  it("reconnects to an upstream that comes back", async () => {
    // Runs after the test above stopped it: the same server returns on the same port.
    flaky = await startUpstreamHttpServer(Number(new URL(flaky.url).port));
    const { client } = await aliceClient();
    try {
      await vi.waitFor(
        async () =>
          expect(await chat(client, 'call flaky__echo {"text":"back"}')).toBe("tool said: echo: back"),
        { timeout: 20_000, interval: 250 },
      );
    } finally {
      await client.close();
    }
    expect(flaky.calls).toContainEqual({ tool: "echo", args: { text: "back" } });
  });

  it("refuses to start with an upstreams file whose field is wrong, naming the field", async () => {
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "servers:\n  - name: x\n    url: ftp://nowhere\n");
    await expect(startTestServer({ MCP_UPSTREAMS_FILE: bad })).rejects.toThrow(
      `MCP_UPSTREAMS_FILE ${bad}: servers.0.url`,
    );
  });
});

describe("approval of upstream tool calls by elicitation", () => {
  it("asks with a form stating the tool and its arguments, and runs the call once accepted", async () => {
    const asked: ElicitRequest[] = [];
    const elicit: Elicit = async (request) => {
      asked.push(request);
      return { action: "accept" };
    };
    expect(await chatAsAlice('call remote__delete_file {"path":"/tmp/a.txt"}', elicit)).toBe(
      "tool said: deleted /tmp/a.txt",
    );
    expect(asked).toHaveLength(1);
    const params = asked[0]?.params as { mode?: string; message: string };
    expect(params.mode).toBe("form");
    expect(params.message).toContain('"remote__delete_file"');
    expect(params.message).toContain('"path": "/tmp/a.txt"');
    expect(remote.calls).toContainEqual({ tool: "delete_file", args: { path: "/tmp/a.txt" } });
  });

  it("does not run a declined call; the model is told and the call still answers", async () => {
    const elicit: Elicit = async () => ({ action: "decline" });
    expect(await chatAsAlice('call remote__delete_file {"path":"/tmp/declined.txt"}', elicit)).toBe(
      "tool said: Not run: the user did not approve this call of remote__delete_file (declined).",
    );
    expect(remote.calls).not.toContainEqual({ tool: "delete_file", args: { path: "/tmp/declined.txt" } });
  });

  it("does not run the call for a client without elicitation", async () => {
    expect(await chatAsAlice('call remote__delete_file {"path":"/tmp/no-elicitation.txt"}')).toBe(
      "tool said: Not run: the user did not approve this call of remote__delete_file (the user's client cannot ask for approval).",
    );
    expect(remote.calls).not.toContainEqual({
      tool: "delete_file",
      args: { path: "/tmp/no-elicitation.txt" },
    });
  });

  it("does not run the call when nobody answers within APPROVAL_TIMEOUT_MS", async () => {
    const elicit: Elicit = () => new Promise(() => {});
    expect(await chatAsAlice('call remote__delete_file {"path":"/tmp/unanswered.txt"}', elicit)).toBe(
      "tool said: Not run: the user did not approve this call of remote__delete_file (no answer within 500 ms).",
    );
    expect(remote.calls).not.toContainEqual({ tool: "delete_file", args: { path: "/tmp/unanswered.txt" } });
  });
});

describe("approval on the 2026-07-28 protocol: input_required and a resumed turn (ADR 0185)", () => {
  /** Alice's 2026-07-28 client; with `elicit` it declares form elicitation. Records every request body it sends. */
  async function modernAlice(elicit?: Elicit, token?: string) {
    const bearer = token ?? (await login(app.url, "alice", "alice-pw"));
    const sent: string[] = [];
    const client = new Client(
      { name: "upstreams-modern-test", version: "1.0.0" },
      {
        ...(elicit ? { capabilities: { elicitation: { form: {} } } } : {}),
        versionNegotiation: { mode: { pin: "2026-07-28" } },
      },
    );
    if (elicit) client.setRequestHandler("elicitation/create", (request) => elicit(request as ElicitRequest));
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${app.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${bearer}` } },
        fetch: async (input, init) => {
          if (typeof init?.body === "string") sent.push(init.body);
          return fetch(input, init);
        },
      }),
    );
    expect(client.getProtocolEra()).toBe("modern");
    return { client, sent, token: bearer };
  }

  /** The retry the client sent: the same tools/call with the answers and the echoed requestState. */
  function retryOf(sent: string[]) {
    const retry = sent
      .map((body) => JSON.parse(body))
      .find((body) => body.params?.requestState !== undefined);
    if (!retry) throw new Error("the client sent no retry with a requestState");
    return retry as { params: { requestState: string; inputResponses: Record<string, unknown> } };
  }

  it("asks with a form elicitation stating the tool and arguments, and runs the call once accepted", async () => {
    const asked: ElicitRequest[] = [];
    const { client, sent } = await modernAlice(async (request) => {
      asked.push(request);
      return { action: "accept" };
    });
    try {
      expect(await chat(client, 'call remote__delete_file {"path":"/tmp/modern-accept.txt"}')).toBe(
        "tool said: deleted /tmp/modern-accept.txt",
      );
    } finally {
      await client.close();
    }
    expect(asked).toHaveLength(1);
    const params = asked[0]?.params as { mode?: string; message: string };
    expect(params.mode).toBe("form");
    expect(params.message).toContain('"remote__delete_file"');
    expect(params.message).toContain('"path": "/tmp/modern-accept.txt"');
    expect(retryOf(sent).params.inputResponses).toEqual({ "approve-0": { action: "accept" } });
    expect(remote.calls).toContainEqual({ tool: "delete_file", args: { path: "/tmp/modern-accept.txt" } });
  });

  it("does not run a declined call; the model is told why and the call still answers", async () => {
    const { client } = await modernAlice(async () => ({ action: "decline" }));
    try {
      expect(await chat(client, 'call remote__delete_file {"path":"/tmp/modern-declined.txt"}')).toBe(
        "tool said: Not run: the user did not approve this call of remote__delete_file (declined).",
      );
    } finally {
      await client.close();
    }
    expect(remote.calls).not.toContainEqual({
      tool: "delete_file",
      args: { path: "/tmp/modern-declined.txt" },
    });
  });

  it("refuses the call, without asking, for a client without form elicitation", async () => {
    const { client } = await modernAlice();
    try {
      expect(await chat(client, 'call remote__echo {"text":"modern"}')).toBe("tool said: echo: modern");
      expect(await chat(client, 'call remote__delete_file {"path":"/tmp/modern-no-form.txt"}')).toBe(
        "tool said: Not run: the user did not approve this call of remote__delete_file (the user's client cannot ask for approval).",
      );
    } finally {
      await client.close();
    }
    expect(remote.calls).not.toContainEqual({
      tool: "delete_file",
      args: { path: "/tmp/modern-no-form.txt" },
    });
  });

  it("refuses a replayed, forged, another user's or another conversation's state, and runs nothing again", async () => {
    const path = "/tmp/modern-replay.txt";
    const { client, sent, token } = await modernAlice(async () => ({ action: "accept" }));
    try {
      expect(await chat(client, `call remote__delete_file {"path":"${path}"}`)).toBe(
        `tool said: deleted ${path}`,
      );
    } finally {
      await client.close();
    }
    const runs = () => remote.calls.filter((call) => (call.args as { path?: string }).path === path).length;
    expect(runs()).toBe(1);
    const retry = retryOf(sent);
    const headers = Object.fromEntries(
      Object.entries({ "content-type": "application/json", accept: "application/json, text/event-stream" }),
    );
    const post = async (body: unknown, bearer: string) => {
      const response = await fetch(`${app.url}/mcp`, {
        method: "POST",
        headers: {
          ...headers,
          authorization: `Bearer ${bearer}`,
          "mcp-protocol-version": "2026-07-28",
          "mcp-method": "tools/call",
          "mcp-name": "agent_chat",
        },
        body: JSON.stringify(body),
      });
      return (await response.json()) as {
        result?: CallToolResultLike;
        error?: { code: number; message: string };
      };
    };

    const replayed = await post(retry, token);
    expect(replayed.result?.isError).toBe(true);
    expect(replayed.result?.structuredContent?.error?.code).toBe("AGENT_RESUME_STALE");

    const bobToken = await login(app.url, "bob", "bob-pw");
    const asBob = await post(retry, bobToken);
    expect(asBob.error).toMatchObject({ code: -32602, message: "Invalid or expired requestState" });

    const [version, payload, mac] = retry.params.requestState.split(".");
    const forgedPayload = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload ?? "", "base64url").toString()),
        p: { checkpoint: "x" },
      }),
    ).toString("base64url");
    const forged = await post(
      { ...retry, params: { ...retry.params, requestState: `${version}.${forgedPayload}.${mac}` } },
      token,
    );
    expect(forged.error?.code).toBe(-32602);

    const otherThread = await post(
      {
        ...retry,
        params: {
          ...retry.params,
          arguments: { ...(retry.params as { arguments?: object }).arguments, thread_id: "not-that-one" },
        },
      },
      token,
    );
    expect(otherThread.result?.structuredContent?.error?.code).toBe("REQUEST_STATE_INVALID");
    expect(runs()).toBe(1);
  });
});

type CallToolResultLike = { isError?: boolean; structuredContent?: { error?: { code?: string } } };
