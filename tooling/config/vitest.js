import { defineConfig, mergeConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources in tests (the
// "@mcp-langgraph/source" export condition), so a test never runs stale dist.
// Vite adds import/require per import itself; listing "import" here would also
// reach Node's require() of CommonJS dependencies (pg loading pg-pool's ESM build),
// and "module" picks bundler-only builds (AWS SDK dist-es) that Node cannot load.
const sourceConditions = ["@mcp-langgraph/source", "node", "development|production"];

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
