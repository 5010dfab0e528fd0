import { defineConfig } from "tsdown";

// The conformance fixtures are an entry of their own so the main entry (and any bundle of it) never carries them.
export default defineConfig({
  entry: { index: "src/index.ts", conformance: "src/conformance-fixtures.ts" },
});
