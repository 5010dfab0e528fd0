import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFgaDevServer } from "@mcp-langgraph/authz/dev-server";
import { AGENT_TOOL_NAMES } from "@mcp-langgraph/mcp-server";
import {
  connect as connectHttp,
  login,
  type SpawnedApp,
  spawnHttpApp,
} from "@mcp-langgraph/testkit/http-app";
// The llm-factory's loopback server speaks OpenAI's wire format to the real @langchain client.
import { startHeldModel } from "@mcp-langgraph/testkit/llm-loopback";
import { expectBadCallsRefused, taskClient } from "@mcp-langgraph/testkit/mcp";
import { requireService } from "@mcp-langgraph/tooling/integration";
import { runCommand, resultText as textOf } from "@mcp-langgraph/tooling/testing";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const stdioMain = fileURLToPath(new URL("../dist/main.mjs", import.meta.url));
/** The HTTP app (a dev dependency) issues the tokens the stdio binary verifies. */
const httpMain = fileURLToPath(import.meta.resolve("@mcp-langgraph/mcp-http/dist/main.mjs"));
const inspectorBin = fileURLToPath(new URL("../node_modules/.bin/mcp-inspector-cli", import.meta.url));
// inspector-cli 1.0.3 fails when started from a package root; run it from this folder.
const testDir = fileURLToPath(new URL(".", import.meta.url));

async function connectStdio(env: Record<string, string> = {}) {
  const client = new Client({ name: "stdio-test", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [stdioMain],
    env: { PATH: process.env.PATH ?? "", ...env },
    stderr: "pipe",
  });
  await client.connect(transport);
  return client;
}

const replyOf = (result: unknown) =>
  (result as { structuredContent: { reply: string } }).structuredContent.reply;
const threadOf = (result: unknown) =>
  (result as { structuredContent: { thread_id: string } }).structuredContent.thread_id;

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** An HTTP app whose local issuer signs the tokens the stdio binary must verify. */
let issuer: { app: SpawnedApp; url: string; token: string };

beforeAll(async () => {
  for (const script of [stdioMain, httpMain]) {
    if (!existsSync(script)) throw new Error(`${script} is missing: run \`pnpm build\` first`);
  }
  const app = await spawnHttpApp(httpMain, { LOCAL_USERS: "alice:alice-pw:user" });
  issuer = { app, url: app.url, token: await login(app.url, "alice", "alice-pw") };
}, 60_000);

afterAll(async () => {
  issuer?.app.child.kill("SIGTERM");
  await issuer?.app.exited;
});

describe("mcp-langgraph-stdio", () => {
  it("serves the agent tools as the local dev user when no MCP_TOKEN is set", async () => {
    const client = await connectStdio();
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual([...AGENT_TOOL_NAMES].sort());
      const result = await client.callTool({
        name: "agent_chat",
        arguments: { message: "what is 12 / 4 - 1?" },
      });
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toBe(replyOf(result));
      // The computed result, where the echoed question ("what is 12 / 4 - 1?") cannot stand in for it.
      expect(/ is (-?[\d.]+)\. /.exec(replyOf(result))?.[1]).toBe("2");
    } finally {
      await client.close();
    }
  }, 30_000);

  it("runs agent_chat as an MCP task: created at once, its result awaited, listed, limited by MCP_TASK_MAX_PER_USER", async () => {
    const client = await connectStdio({ MCP_TASK_MAX_PER_USER: "1" });
    try {
      expect(client.getServerCapabilities()?.tasks).toBeDefined();
      const tasks = taskClient(client);
      const { task } = await tasks.callToolAsTask("agent_chat", { message: "what is 6*7" });
      expect(task.status).toBe("working");
      const result = await tasks.result(task.taskId);
      expect(replyOf(result)).toContain("42");
      expect((await tasks.list()).tasks).toEqual([
        expect.objectContaining({ taskId: task.taskId, status: "completed" }),
      ]);
      const refused = await tasks.callToolAsTask("agent_chat", { message: "again" }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: -32600, data: { code: "TASK_LIMIT_REACHED", limit: 1 } });
    } finally {
      await client.close();
    }
  });

  it("reports an unknown tool as JSON-RPC -32602, bad arguments as isError results, and keeps serving", async () => {
    const client = await connectStdio();
    try {
      await expectBadCallsRefused(client);
      expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(
        [...AGENT_TOOL_NAMES].sort(),
      );
    } finally {
      await client.close();
    }
  }, 30_000);

  it("sends resource updates and log messages for the one local session, and completes its thread ids", async () => {
    const client = await connectStdio({ MAX_SUBSCRIPTIONS_PER_SESSION: "1" });
    try {
      await client.callTool({ name: "agent_chat", arguments: { message: "hi", thread_id: "notes" } });
      await client.callTool({ name: "agent_chat", arguments: { message: "hi", thread_id: "todo" } });
      await client.subscribeResource({ uri: "conversation://notes" });
      await expect(client.subscribeResource({ uri: "conversation://todo" })).rejects.toThrow(
        /MAX_SUBSCRIPTIONS_PER_SESSION/,
      );
      const updated = new Promise((resolve) =>
        client.setNotificationHandler("notifications/resources/updated", (n) => resolve(n.params)),
      );
      const messages: { level: string; data: { event: string } }[] = [];
      client.setNotificationHandler(
        "notifications/message",
        (n) => void messages.push(n.params as (typeof messages)[number]),
      );
      await client.setLoggingLevel("info");
      await client.callTool({
        name: "agent_chat",
        arguments: { message: "what is 2*21?", thread_id: "notes" },
      });
      expect(await updated).toEqual({ uri: "conversation://notes" });
      // Log messages go out on the call's own ordered stream, before its reply.
      expect(messages.map((message) => message.data.event)).toEqual(["tool_call", "turn_finished"]);
      const completion = await client.complete({
        ref: { type: "ref/prompt", name: "summarize_conversation" },
        argument: { name: "thread_id", value: "no" },
      });
      expect(completion.completion.values).toEqual(["notes"]);
    } finally {
      await client.close();
    }
  }, 30_000);

  it("drains on SIGTERM: a call in flight completes with its answer, new calls are refused, then it exits", async () => {
    // The model holds its reply until the test has sent SIGTERM.
    const { llm, release, env, reply } = await startHeldModel();
    const client = await connectStdio({ ...env, LOG_LEVEL: "info" });
    const transport = client.transport as StdioClientTransport;
    let stderr = "";
    transport.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const pid = transport.pid ?? 0;
    try {
      const call = client.callTool({ name: "agent_chat", arguments: { message: "hello" } });
      await vi.waitFor(() => expect(llm.requests).toHaveLength(1), { timeout: 20_000 });
      process.kill(pid, "SIGTERM");
      await vi.waitFor(() => expect(stderr).toContain("draining requests in flight"), { timeout: 10_000 });
      await expect(client.listTools()).rejects.toThrow(/shutting down/);
      expect(isAlive(pid)).toBe(true);
      release();
      const result = await call;
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toBe(reply);
      await vi.waitFor(() => expect(isAlive(pid)).toBe(false), { timeout: 10_000 });
    } finally {
      release();
      await client.close();
      await llm.close();
    }
  }, 60_000);

  it("refuses to start with a token that does not verify, and says why on stderr", async () => {
    const forged = `${issuer.token.slice(0, issuer.token.lastIndexOf(".") + 1)}${"A".repeat(86)}`;
    const result = await runCommand(process.execPath, [stdioMain], {
      cwd: testDir,
      env: { MCP_TOKEN: forged, MCP_TOKEN_ISSUER: issuer.url },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/failed to start/);
    expect(result.stdout).toBe("");
  }, 30_000);

  it("takes MCP_TOKEN from MCP_TOKEN_FILE: a valid token serves, a forged one refuses to start", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stdio-secrets-"));
    try {
      const tokenFile = join(dir, "token");
      await writeFile(tokenFile, `${issuer.token}\n`);
      const client = await connectStdio({ MCP_TOKEN_FILE: tokenFile, MCP_TOKEN_ISSUER: issuer.url });
      try {
        expect((await client.listTools()).tools.length).toBeGreaterThan(0);
      } finally {
        await client.close();
      }
      // Without the file being read the binary would start as the local dev user instead.
      const forged = `${issuer.token.slice(0, issuer.token.lastIndexOf(".") + 1)}${"A".repeat(86)}`;
      await writeFile(tokenFile, forged);
      const result = await runCommand(process.execPath, [stdioMain], {
        cwd: testDir,
        env: { MCP_TOKEN_FILE: tokenFile, MCP_TOKEN_ISSUER: issuer.url },
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/failed to start/);
      expect(result.stderr).not.toContain(forged);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("works under the MCP Inspector CLI: tools/list and tools/call agent_chat", async () => {
    const base = [
      "--cli",
      process.execPath,
      stdioMain,
      "-e",
      `MCP_TOKEN=${issuer.token}`,
      "-e",
      `MCP_TOKEN_ISSUER=${issuer.url}`,
    ];
    const list = await runCommand(inspectorBin, [...base, "--method", "tools/list"], { cwd: testDir });
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { tools: unknown[] }).tools).toHaveLength(AGENT_TOOL_NAMES.length);
    const call = await runCommand(
      inspectorBin,
      [...base, "--method", "tools/call", "--tool-name", "agent_chat", "--tool-arg", "message=what is 6*7?"],
      { cwd: testDir },
    );
    expect(call.code, call.stderr).toBe(0);
    expect((JSON.parse(call.stdout) as { content: { text: string }[] }).content[0]?.text).toContain("42");
  }, 60_000);
});

const postgresUp = await requireService({ name: "PostgreSQL", url: DATABASE_URL });

describe.skipIf(!postgresUp)(
  "MCP_TOKEN's user acts over stdio (OpenFGA API on the project's own dev server, Postgres checkpoints)",
  () => {
    it("acts as the user of a verified MCP_TOKEN: what alice starts over stdio is alice's on the HTTP app, not bob's", async () => {
      const fga = await startFgaDevServer();
      const created = await fetch(`${fga.url}/stores`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "stdio-principal-test" }),
      });
      const { id: storeId } = (await created.json()) as { id: string };
      // Both apps share ownership (OpenFGA store) and conversations (Postgres): one user, two paths.
      const shared = {
        AUTHZ_BACKEND: "openfga",
        OPENFGA_API_URL: fga.url,
        OPENFGA_STORE_ID: storeId,
        CHECKPOINTER_BACKEND: "postgres",
        DATABASE_URL,
      };
      const app = await spawnHttpApp(httpMain, {
        ...shared,
        LOCAL_USERS: "alice:alice-pw:user,bob:bob-pw:user",
      });
      try {
        const aliceToken = await login(app.url, "alice", "alice-pw");
        const bobToken = await login(app.url, "bob", "bob-pw");
        const marker = `marker-${crypto.randomUUID()}`;

        const asAlice = await connectStdio({ ...shared, MCP_TOKEN: aliceToken, MCP_TOKEN_ISSUER: app.url });
        let threadId: string;
        try {
          const reply = await asAlice.callTool({
            name: "agent_chat",
            arguments: { message: `note ${marker}` },
          });
          expect(reply.isError).toBeFalsy();
          threadId = threadOf(reply);
        } finally {
          await asAlice.close();
        }

        const asBob = await connectStdio({ ...shared, MCP_TOKEN: bobToken, MCP_TOKEN_ISSUER: app.url });
        try {
          const denied = await asBob.callTool({
            name: "conversation_get",
            arguments: { thread_id: threadId },
          });
          expect(denied.isError).toBe(true);
          expect(textOf(denied)).not.toContain(marker);
        } finally {
          await asBob.close();
        }

        const alice = await connectHttp(app.url, aliceToken);
        const bob = await connectHttp(app.url, bobToken);
        try {
          const history = await alice.client.callTool({
            name: "conversation_get",
            arguments: { thread_id: threadId },
          });
          expect(history.isError).toBeFalsy();
          expect(textOf(history)).toContain(marker);
          const stolen = await bob.client.callTool({
            name: "conversation_get",
            arguments: { thread_id: threadId },
          });
          expect(stolen.isError).toBe(true);
          expect(textOf(stolen)).not.toContain(marker);
        } finally {
          await alice.client.close();
          await bob.client.close();
        }
      } finally {
        app.child.kill("SIGTERM");
        await app.exited;
        await fga.close();
      }
    }, 90_000);
  },
);
