import { defineConfig, mergeConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources in tests (the
// "@mcp-langgraph/source" export condition), so a test never runs stale dist.
const sourceConditions = ["@mcp-langgraph/source", "node", "import", "default"];

/** @param {import("vitest/config").UserConfig} [overrides] */
export function defineProjectConfig(overrides = {}) {
  return mergeConfig(
    defineConfig({
      resolve: { conditions: sourceConditions },
      ssr: { resolve: { conditions: sourceConditions } },
      test: {
        include: ["test/**/*.test.ts"],
        testTimeout: 20_000,
        hookTimeout: 30_000,
        pool: "forks",
        maxWorkers: 2,
      },
    }),
    overrides,
  );
}
