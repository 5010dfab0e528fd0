/**
 * The app under measurement: the *built* HTTP server (apps/mcp-http/dist/main.mjs) in its own
 * process, on defaults except the loopback model, local users and silent logs, as in production.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { freePort } from "@mcp-langgraph/tooling/testing";
import { type Child, startNodeProcess } from "./children.ts";

export interface RunningApp extends Child {
  readonly url: string;
  /** Bearer tokens, one per local user (each user logged in once). */
  readonly tokens: string[];
}

function builtAppPath(): string {
  // The app is a workspace dependency of the bench, so turbo builds it before `bench` runs.
  const manifest = createRequire(import.meta.url).resolve("@mcp-langgraph/mcp-http/package.json");
  const script = join(dirname(manifest), "dist", "main.mjs");
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`pnpm build\` first`);
  return script;
}

export interface AppOptions {
  modelUrl: string;
  users: number;
  /** More settings, over the defaults below (e.g. WORKERS and the shared backends). */
  env?: Record<string, string>;
}

export async function startApp(options: AppOptions): Promise<RunningApp> {
  const port = await freePort();
  const users = Array.from({ length: options.users }, (_, i) => `bench${i}:pw-bench-${i}:user`);
  const child = await startNodeProcess(builtAppPath(), {
    name: "app",
    readyText: "listening on",
    env: {
      HOST: "127.0.0.1",
      PORT: String(port),
      LLM_PROVIDER: "openai-compatible",
      OPENAI_BASE_URL: options.modelUrl,
      MODEL_NAME: "gpt-4o-mini",
      LOCAL_USERS: users.join(","),
      LOG_LEVEL: "silent",
      // The bench spreads hundreds of MCP sessions over a few users; the default 16 would evict them.
      MCP_MAX_SESSIONS_PER_USER: "100000",
      // Thousands of calls a minute from a few users measure the request path, not the per-user limit.
      RATE_LIMIT_TOOL_CALLS_PER_MINUTE: "1000000000",
      ...options.env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    const tokens = await Promise.all(
      Array.from({ length: options.users }, (_, i) => login(url, `bench${i}`, `pw-bench-${i}`)),
    );
    return { ...child, url, tokens };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

async function login(url: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${url}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) throw new Error(`login ${username}: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}
