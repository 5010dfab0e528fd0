import { defineConfig } from "tsdown";

export default defineConfig({
  entry: { index: "src/index.ts", "fga-dev": "src/bin/fga-dev.ts" },
});
