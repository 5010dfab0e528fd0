import { defineProjectConfig } from "@mcp-langgraph/tooling/vitest";

const config = defineProjectConfig();
// The AWS SDK publishes bundler-only ESM under the "module" condition (extension-less
// imports Node cannot load), so this package resolves without it.
const withoutModule = (conditions: string[] | undefined) =>
  conditions?.filter((condition) => condition !== "module");
if (config.resolve) config.resolve.conditions = withoutModule(config.resolve.conditions);
if (config.ssr?.resolve) config.ssr.resolve.conditions = withoutModule(config.ssr.resolve.conditions);

export default config;
