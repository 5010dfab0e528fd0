import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "@mcp-langgraph/tooling/testing";
import { describe, expect, it } from "vitest";
import { spawnApp } from "./spawn.ts";

const conformanceBin = fileURLToPath(new URL("../node_modules/.bin/conformance", import.meta.url));

describe("official MCP conformance suite (@modelcontextprotocol/conformance 0.1.13)", () => {
  it("passes every server scenario of --suite all with 0 failed", async () => {
    const app = await spawnApp({ AUTH_MODE: "none", MCP_CONFORMANCE_FIXTURES: "1" });
    const outputDir = mkdtempSync(join(tmpdir(), "conformance-"));
    try {
      const result = await runCommand(
        conformanceBin,
        ["server", "--url", `${app.url}/mcp`, "--suite", "all", "--output-dir", outputDir],
        {
          cwd: fileURLToPath(new URL(".", import.meta.url)),
          timeoutMs: 180_000,
        },
      );
      // The summary names a failed scenario but not why: its checks (errorMessage, details) do.
      const output = `${result.stdout}${result.stderr}\n${failedChecks(outputDir)}`;
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
      rmSync(outputDir, { recursive: true, force: true });
    }
  }, 240_000);
});

/** The failed checks of every scenario in the CLI's `--output-dir`, as JSON, for the assertion message. */
function failedChecks(outputDir: string): string {
  return readdirSync(outputDir)
    .map((entry) => {
      const checks = JSON.parse(readFileSync(join(outputDir, entry, "checks.json"), "utf8")) as {
        status: string;
      }[];
      const failed = checks.filter((check) => check.status === "FAILURE");
      return failed.length > 0 ? `${entry}: ${JSON.stringify(failed, null, 2)}` : "";
    })
    .filter(Boolean)
    .join("\n");
}
