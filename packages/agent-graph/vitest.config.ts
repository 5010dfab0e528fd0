import { defineProjectConfig } from "@mcp-langgraph/tooling/vitest";

const config = defineProjectConfig();
// Vitest forwards ssr.resolve.conditions to Node as --conditions; with "import" among them,
// pg's CommonJS require("pg-pool") resolves to pg-pool's ESM build and fails. Node needs only ours.
if (config.ssr?.resolve) config.ssr.resolve.conditions = ["@mcp-langgraph/source", "node"];

export default config;
