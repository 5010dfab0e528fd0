import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rejectionOf } from "@mcp-langgraph/testkit/errors";
import { connect, login } from "@mcp-langgraph/testkit/http-app";
import { type InfisicalLoopback, startInfisicalLoopback } from "@mcp-langgraph/testkit/infisical";
import {
  type LoopbackServer,
  openAIWire,
  scripted,
  startLoopbackServer,
} from "@mcp-langgraph/testkit/llm-loopback";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { USERS } from "./helpers.ts";
import { type SpawnedApp, spawnApp } from "./spawn.ts";

// Issue 12 item 6: the built app takes its secrets from Infisical and from NAME_FILE files.
const identity = {
  clientId: "mcp-http-id",
  clientSecret: "infisical-identity-secret",
  projectId: "proj-mcp",
  environment: "prod",
};
const VAULT_KEY = "sk-from-infisical-0123456789";
const FILE_KEY = "sk-from-file-0123456789";

let vault: InfisicalLoopback;
let openai: LoopbackServer;
let dir: string;
let app: SpawnedApp | undefined;

beforeAll(async () => {
  vault = await startInfisicalLoopback(identity, { OPENAI_API_KEY: VAULT_KEY });
  openai = await startLoopbackServer(scripted(openAIWire, ["ok"]));
  dir = await mkdtemp(join(tmpdir(), "mcp-http-secrets-"));
});
afterEach(async () => {
  if (app && app.child.exitCode === null) {
    app.child.kill("SIGTERM");
    await app.exited;
  }
  app = undefined;
});
afterAll(async () => {
  await Promise.allSettled([vault?.close(), openai?.close(), rm(dir, { recursive: true, force: true })]);
});

const modelEnv = () => ({
  LOCAL_USERS: USERS,
  LLM_PROVIDER: "openai",
  MODEL_NAME: "gpt-4o-mini",
  OPENAI_BASE_URL: `${openai.url}/v1`,
});
const vaultEnv = () => ({
  INFISICAL_SITE_URL: vault.url,
  INFISICAL_CLIENT_ID: identity.clientId,
  INFISICAL_CLIENT_SECRET: identity.clientSecret,
  INFISICAL_PROJECT_ID: identity.projectId,
  INFISICAL_ENVIRONMENT: identity.environment,
});

/** One agent_chat call; returns the Authorization header the model provider received. */
async function providerAuthorization(url: string): Promise<string | undefined> {
  const before = openai.requests.length;
  const { client } = await connect(url, await login(url, "alice", "alice-pw"));
  try {
    const result = await client.callTool({ name: "agent_chat", arguments: { message: "hello" } });
    expect(result.isError, JSON.stringify(result)).toBeFalsy();
  } finally {
    await client.close();
  }
  return openai.requests.at(before)?.headers.authorization as string | undefined;
}

describe("secrets of the HTTP app", () => {
  it("starts with OPENAI_API_KEY from Infisical, which the model provider receives, and logs no secret", async () => {
    app = await spawnApp({ ...modelEnv(), ...vaultEnv(), LOG_LEVEL: "debug" });
    expect(await providerAuthorization(app.url)).toBe(`Bearer ${VAULT_KEY}`);
    expect(vault.logins).toBeGreaterThanOrEqual(1);
    // The start-up line names where each secret came from, never a value.
    const output = app.stdout() + app.stderr();
    expect(output).toMatch(/"sources":\{[^}]*"OPENAI_API_KEY":"infisical"/);
    expect(output).not.toContain(VAULT_KEY);
    expect(output).not.toContain(identity.clientSecret);
  });

  it("keeps serving with the last good key while Infisical fails, and names (only) a rotated secret", async () => {
    app = await spawnApp({ ...modelEnv(), ...vaultEnv(), INFISICAL_CACHE_TTL_SECONDS: "1" });
    const running = app;
    vault.failWith = 500;
    try {
      await vi.waitFor(() => expect(running.stdout()).toMatch(/keeping the last values/), {
        timeout: 10_000,
      });
      expect(await providerAuthorization(running.url)).toBe(`Bearer ${VAULT_KEY}`);
    } finally {
      vault.failWith = undefined;
    }
    const rotated = "sk-rotated-in-infisical-987654";
    vault.secrets.set("OPENAI_API_KEY", rotated);
    try {
      await vi.waitFor(() => expect(running.stdout()).toMatch(/restart to apply them/), { timeout: 10_000 });
      expect(running.stdout()).toMatch(/"names":\["OPENAI_API_KEY"\]/);
      expect(running.stdout() + running.stderr()).not.toContain(rotated);
      expect(running.stdout()).not.toContain(VAULT_KEY);
    } finally {
      vault.secrets.set("OPENAI_API_KEY", VAULT_KEY);
    }
  });

  it("starts with OPENAI_API_KEY from OPENAI_API_KEY_FILE (trailing newline dropped)", async () => {
    const path = join(dir, "openai");
    await writeFile(path, `${FILE_KEY}\n`);
    app = await spawnApp({ ...modelEnv(), OPENAI_API_KEY_FILE: path, LOG_LEVEL: "debug" });
    expect(await providerAuthorization(app.url)).toBe(`Bearer ${FILE_KEY}`);
    const output = app.stdout() + app.stderr();
    expect(output).toMatch(/"sources":\{[^}]*"OPENAI_API_KEY":"file"/);
    expect(output).not.toContain(FILE_KEY);
  });

  it("refuses to start when a variable is set both ways, naming both and neither value", async () => {
    const path = join(dir, "both");
    await writeFile(path, `${FILE_KEY}\n`);
    const error = await rejectionOf<Error>(
      spawnApp({ ...modelEnv(), OPENAI_API_KEY: VAULT_KEY, OPENAI_API_KEY_FILE: path }),
    );
    expect(error.message).toMatch(/exited with 2/);
    expect(error.message).toMatch(/OPENAI_API_KEY: set both as OPENAI_API_KEY and as OPENAI_API_KEY_FILE/);
    expect(error.message).not.toContain(VAULT_KEY);
    expect(error.message).not.toContain(FILE_KEY);
  });

  it("refuses to start (fail closed) when Infisical rejects its identity", async () => {
    const error = await rejectionOf<Error>(
      spawnApp({ ...modelEnv(), ...vaultEnv(), INFISICAL_CLIENT_SECRET: "wrong-identity-secret" }),
    );
    expect(error.message).toMatch(/exited with 1/);
    expect(error.message).toMatch(/Infisical login failed \(HTTP 401\)/);
    expect(error.message).not.toContain("wrong-identity-secret");
  });
});
