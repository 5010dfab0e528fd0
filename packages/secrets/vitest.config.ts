import { defineProjectConfig } from "@mcp-langgraph/tooling/vitest";

export default defineProjectConfig();
