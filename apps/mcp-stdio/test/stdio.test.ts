import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AGENT_TOOL_NAMES } from "@mcp-langgraph/mcp-server";
import { runCommand, resultText as textOf } from "@mcp-langgraph/tooling/testing";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const stdioMain = fileURLToPath(new URL("../dist/main.mjs", import.meta.url));
const httpMain = fileURLToPath(new URL("../../mcp-http/dist/main.mjs", import.meta.url));
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

/** An HTTP app whose local issuer signs the tokens the stdio binary must verify. */
let issuer: { url: string; stop: () => Promise<void>; token: string };

beforeAll(async () => {
  for (const script of [stdioMain, httpMain]) {
    if (!existsSync(script)) throw new Error(`${script} is missing: run \`pnpm build\` first`);
  }
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [httpMain], {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: String(port),
      LOCAL_USERS: "alice:alice-pw:user",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes("listening on")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`issuer exited ${code}: ${stderr}`)));
  });
  const login = await fetch(`${url}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "alice", password: "alice-pw" }),
  });
  const { access_token } = (await login.json()) as { access_token: string };
  issuer = {
    url,
    token: access_token,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}, 60_000);

afterAll(async () => {
  await issuer?.stop();
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
      expect(textOf(result)).toContain("2");
    } finally {
      await client.close();
    }
  }, 30_000);

  it("acts as the user of a verified MCP_TOKEN", async () => {
    const client = await connectStdio({ MCP_TOKEN: issuer.token, MCP_TOKEN_ISSUER: issuer.url });
    try {
      const result = await client.callTool({ name: "agent_chat", arguments: { message: "hello there" } });
      expect(result.isError).toBeFalsy();
      expect(textOf(result).toLowerCase()).toContain("offline");
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
