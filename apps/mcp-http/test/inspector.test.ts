import { fileURLToPath } from "node:url";
import { AGENT_TOOL_NAMES } from "@mcp-langgraph/mcp-server";
import { runCommand } from "@mcp-langgraph/tooling/testing";
import { describe, expect, it } from "vitest";
import { login } from "./helpers.ts";
import { spawnApp } from "./spawn.ts";

const inspectorBin = fileURLToPath(new URL("../node_modules/.bin/mcp-inspector-cli", import.meta.url));
// inspector-cli 1.0.3 fails when started from a package root; run it from this folder.
const cwd = fileURLToPath(new URL(".", import.meta.url));

describe("MCP Inspector CLI against the HTTP app", () => {
  it("lists the tools and calls agent_chat with a bearer token", async () => {
    const app = await spawnApp({ LOCAL_USERS: "alice:alice-pw:user" });
    try {
      const token = await login(app.url, "alice", "alice-pw");
      const common = [
        "--cli",
        `${app.url}/mcp`,
        "--transport",
        "http",
        "--header",
        `Authorization: Bearer ${token}`,
      ];

      const list = await runCommand(inspectorBin, [...common, "--method", "tools/list"], { cwd });
      expect(list.code, list.stderr).toBe(0);
      const tools = (JSON.parse(list.stdout) as { tools: { name: string }[] }).tools.map((tool) => tool.name);
      expect(tools.sort()).toEqual([...AGENT_TOOL_NAMES].sort());

      const call = await runCommand(
        inspectorBin,
        [
          ...common,
          "--method",
          "tools/call",
          "--tool-name",
          "agent_chat",
          "--tool-arg",
          "message=what is 6*7?",
        ],
        { cwd },
      );
      expect(call.code, call.stderr).toBe(0);
      const result = JSON.parse(call.stdout) as { isError?: boolean; content: { text: string }[] };
      expect(result.isError).toBeFalsy();
      expect(result.content[0]?.text).toContain("42");

      const anonymous = await runCommand(
        inspectorBin,
        ["--cli", `${app.url}/mcp`, "--transport", "http", "--method", "tools/list"],
        {
          cwd,
        },
      );
      expect(anonymous.code).not.toBe(0);
    } finally {
      app.child.kill("SIGTERM");
      await app.exited;
    }
  }, 60_000);
});
