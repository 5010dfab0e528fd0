import { defineProjectConfig } from "@mcp-langgraph/tooling/vitest";
import { defineConfig } from "vitest/config";

/**
 * Suites that run whole fleets (three app processes, nginx, the OpenFGA server) or the official
 * conformance suite run after every other file and one at a time: sharing two cores with each other
 * starved the conformance client into a failed tools-call-sampling once.
 */
const MULTI_PROCESS = ["test/scale-out.test.ts", "test/conformance.test.ts"];

/** The shared project settings with `test` fields replaced, not merged (mergeConfig concatenates arrays). */
function project(test: Record<string, unknown>) {
  const base = defineProjectConfig();
  return { ...base, test: { ...base.test, ...test } };
}

export default defineConfig({
  test: {
    projects: [
      project({ name: "mcp-http", exclude: MULTI_PROCESS, sequence: { groupOrder: 0 } }),
      project({
        name: "mcp-http fleets",
        include: MULTI_PROCESS,
        fileParallelism: false,
        sequence: { groupOrder: 1 },
      }),
    ],
  },
});
