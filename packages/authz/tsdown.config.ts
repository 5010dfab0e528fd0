import { defineConfig } from "tsdown";

// The OpenFGA dev server is an entry of its own (`@mcp-langgraph/authz/dev-server`), kept out of the main one.
export default defineConfig({
  entry: { index: "src/index.ts", "dev-server": "src/dev-server/index.ts", "fga-dev": "src/bin/fga-dev.ts" },
});
