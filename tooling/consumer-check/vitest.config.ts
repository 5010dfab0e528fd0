import { defineProjectConfig } from "@mcp-langgraph/tooling/vitest";

// One suite that packs, downloads and installs: its hooks need minutes, not the default seconds.
export default defineProjectConfig({ test: { testTimeout: 120_000, hookTimeout: 900_000 } });
