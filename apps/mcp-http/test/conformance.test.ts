import { fileURLToPath } from "node:url";
import { runCommand } from "@mcp-langgraph/tooling/testing";
import { describe, expect, it } from "vitest";
import { spawnApp } from "./spawn.ts";

const conformanceBin = fileURLToPath(new URL("../node_modules/.bin/conformance", import.meta.url));

describe("official MCP conformance suite (@modelcontextprotocol/conformance 0.1.13)", () => {
  it("passes every server scenario of --suite all with 0 failed", async () => {
    const app = await spawnApp({ AUTH_MODE: "none", MCP_CONFORMANCE_FIXTURES: "1" });
    try {
      const result = await runCommand(
        conformanceBin,
        ["server", "--url", `${app.url}/mcp`, "--suite", "all"],
        {
          cwd: fileURLToPath(new URL(".", import.meta.url)),
          timeoutMs: 180_000,
        },
      );
      const output = result.stdout + result.stderr;
      const total = /^Total: (\d+) passed, (\d+) failed/m.exec(output);
      expect(total, output).not.toBeNull();
      const [passed, failed] = [Number(total?.[1]), Number(total?.[2])];
      console.warn(`conformance --suite all: ${passed} passed, ${failed} failed`);
      expect(failed, output).toBe(0);
      expect(passed).toBeGreaterThanOrEqual(44);
      expect(result.code, output).toBe(0);
    } finally {
      app.child.kill("SIGTERM");
      await app.exited;
    }
  }, 240_000);
});
