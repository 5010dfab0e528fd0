import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type SpawnedApp, spawnHttpApp } from "@mcp-langgraph/testkit/http-app";

export type { SpawnedApp };
export const appRoot = fileURLToPath(new URL("..", import.meta.url));
const mainScript = fileURLToPath(new URL("../dist/main.mjs", import.meta.url));

/** Starts this app's build (dist/main.mjs) as a real process and waits until it listens. */
export async function spawnApp(env: Record<string, string>): Promise<SpawnedApp> {
  if (!existsSync(mainScript)) throw new Error(`${mainScript} is missing: run \`pnpm build\` first`);
  return spawnHttpApp(mainScript, env);
}
