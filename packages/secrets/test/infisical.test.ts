import { rejectionOf } from "@mcp-langgraph/testkit/errors";
import { type InfisicalLoopback, startInfisicalLoopback } from "@mcp-langgraph/testkit/infisical";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createSecretsProvider,
  type SecretsError,
  type SecretsProvider,
  secretsOptionsFromConfig,
} from "../src/index.ts";

// The provider reads through the real @infisical/sdk against a loopback Infisical.
const identity = {
  clientId: "machine-id",
  clientSecret: "machine-secret",
  projectId: "proj-1",
  environment: "prod",
};
const NAMES = ["OPENAI_API_KEY", "DATABASE_URL", "METRICS_TOKEN"];

let vault: InfisicalLoopback | undefined;
let provider: SecretsProvider | undefined;
afterEach(async () => {
  provider?.close();
  provider = undefined;
  await vault?.close();
  vault = undefined;
});

const envFor = (server: InfisicalLoopback, extra: Record<string, string> = {}) => ({
  INFISICAL_SITE_URL: server.url,
  INFISICAL_CLIENT_ID: identity.clientId,
  INFISICAL_CLIENT_SECRET: identity.clientSecret,
  INFISICAL_PROJECT_ID: identity.projectId,
  INFISICAL_ENVIRONMENT: identity.environment,
  INFISICAL_TIMEOUT_MS: "2000",
  ...extra,
});
const start = async (env: Record<string, string>) => {
  provider = await createSecretsProvider({ ...secretsOptionsFromConfig(env), names: NAMES });
  return provider;
};

describe("Infisical source", () => {
  it("fetches the managed names at start-up with universal auth, and only those", async () => {
    vault = await startInfisicalLoopback(identity, { OPENAI_API_KEY: "sk-vault", AUTH_MODE: "none" });
    const secrets = await start(envFor(vault));
    expect(secrets.get("OPENAI_API_KEY")).toBe("sk-vault");
    expect(secrets.sourceOf("OPENAI_API_KEY")).toBe("infisical");
    const env = secrets.resolvedEnv();
    expect(env.OPENAI_API_KEY).toBe("sk-vault");
    // The vault cannot switch off authentication: only secret names are taken from it.
    expect(env.AUTH_MODE).toBeUndefined();
    // The identity's secret is not passed on to the app's configuration.
    expect(env.INFISICAL_CLIENT_SECRET).toBeUndefined();
    expect(vault.logins).toBe(1);
    const list = vault.requests.find((request) => request.url.startsWith("/api/v3/secrets/raw"));
    expect(list?.url).toContain("workspaceId=proj-1");
    expect(list?.url).toContain("environment=prod");
  });

  it("serves values from its cache between refreshes, and a value set locally wins over the vault", async () => {
    vault = await startInfisicalLoopback(identity, {
      OPENAI_API_KEY: "sk-vault",
      DATABASE_URL: "postgres://vault",
    });
    const secrets = await start(envFor(vault, { DATABASE_URL: "postgres://local" }));
    const calls = vault.requests.length;
    for (let i = 0; i < 5; i++) expect(secrets.get("OPENAI_API_KEY")).toBe("sk-vault");
    expect(vault.requests).toHaveLength(calls);
    expect(secrets.get("DATABASE_URL")).toBe("postgres://local");
    expect(secrets.sourceOf("DATABASE_URL")).toBe("env");
  });

  it("refreshes in the background every INFISICAL_CACHE_TTL_SECONDS and reports the names that changed", async () => {
    vault = await startInfisicalLoopback(identity, { OPENAI_API_KEY: "sk-old" });
    const secrets = await start(envFor(vault, { INFISICAL_CACHE_TTL_SECONDS: "1" }));
    const changes: string[][] = [];
    secrets.startBackgroundRefresh({ onChange: (names) => changes.push(names) });
    vault.secrets.set("OPENAI_API_KEY", "sk-rotated");
    await vi.waitFor(() => expect(secrets.get("OPENAI_API_KEY")).toBe("sk-rotated"), { timeout: 5_000 });
    expect(changes).toEqual([["OPENAI_API_KEY"]]);
  });

  it("logs in again when its access token stops working", async () => {
    vault = await startInfisicalLoopback(identity, { OPENAI_API_KEY: "sk-old" });
    const secrets = await start(envFor(vault));
    vault.revokeTokens();
    vault.secrets.set("OPENAI_API_KEY", "sk-new");
    expect(await secrets.refresh()).toEqual(["OPENAI_API_KEY"]);
    expect(secrets.get("OPENAI_API_KEY")).toBe("sk-new");
    expect(vault.logins).toBe(2);
  });

  it("keeps the last good value while Infisical answers 500, and logs the failure without values", async () => {
    vault = await startInfisicalLoopback(identity, { OPENAI_API_KEY: "sk-good" });
    const secrets = await start(envFor(vault, { INFISICAL_CACHE_TTL_SECONDS: "1" }));
    vault.failWith = 500;
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (fields: object, message: string) => warnings.push(`${message} ${JSON.stringify(fields)}`),
    };
    secrets.startBackgroundRefresh({ logger });
    await vi.waitFor(() => expect(warnings.length).toBeGreaterThan(0), { timeout: 5_000 });
    expect(warnings[0]).toMatch(/keeping the last values.*INFISICAL_UNAVAILABLE.*HTTP 500/);
    expect(warnings.join()).not.toMatch(/sk-good|machine-secret/);
    expect(secrets.get("OPENAI_API_KEY")).toBe("sk-good");
    expect(await rejectionOf<SecretsError>(secrets.refresh())).toMatchObject({
      code: "INFISICAL_UNAVAILABLE",
    });
    expect(secrets.get("OPENAI_API_KEY")).toBe("sk-good");
    // Back up: the next refresh takes the new value.
    vault.failWith = undefined;
    vault.secrets.set("OPENAI_API_KEY", "sk-after");
    await vi.waitFor(() => expect(secrets.get("OPENAI_API_KEY")).toBe("sk-after"), { timeout: 5_000 });
  });

  it("keeps the last good value while Infisical is closed, within its deadline", async () => {
    vault = await startInfisicalLoopback(identity, { OPENAI_API_KEY: "sk-good" });
    const secrets = await start(envFor(vault, { INFISICAL_TIMEOUT_MS: "300" }));
    await vault.close();
    vault = undefined;
    // The SDK retries refused connections for seconds; our deadline ends the call first.
    const error = await rejectionOf<SecretsError>(secrets.refresh());
    expect(error).toMatchObject({ code: "INFISICAL_UNAVAILABLE" });
    expect(error.message).toMatch(/within 300 ms/);
    expect(secrets.get("OPENAI_API_KEY")).toBe("sk-good");
  });

  it("gives up a refresh when the caller aborts", async () => {
    vault = await startInfisicalLoopback(identity, { OPENAI_API_KEY: "sk-good" });
    const secrets = await start(envFor(vault));
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    expect((await rejectionOf<Error>(secrets.refresh(controller.signal))).message).toBe("stop");
  });

  it("refuses to start (fail closed) when Infisical rejects the identity, without echoing its secret", async () => {
    vault = await startInfisicalLoopback(identity, { OPENAI_API_KEY: "sk-vault" });
    const error = await rejectionOf<SecretsError>(
      start(envFor(vault, { INFISICAL_CLIENT_SECRET: "wrong-secret" })),
    );
    expect(error).toMatchObject({ code: "INFISICAL_UNAVAILABLE" });
    expect(error.message).toBe("Infisical login failed (HTTP 401)");
    expect(error.message).not.toContain("wrong-secret");
  });

  it("refuses to start when Infisical is unreachable", async () => {
    vault = await startInfisicalLoopback(identity);
    const env = envFor(vault, { INFISICAL_TIMEOUT_MS: "300" });
    await vault.close();
    vault = undefined;
    expect(await rejectionOf<SecretsError>(start(env))).toMatchObject({ code: "INFISICAL_UNAVAILABLE" });
  });

  it("takes the identity's secret from INFISICAL_CLIENT_SECRET_FILE", async () => {
    const { mkdtemp, writeFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = await mkdtemp(join(tmpdir(), "infisical-"));
    try {
      await writeFile(join(dir, "secret"), `${identity.clientSecret}\n`);
      vault = await startInfisicalLoopback(identity, { OPENAI_API_KEY: "sk-vault" });
      const { INFISICAL_CLIENT_SECRET: _, ...env } = envFor(vault);
      const secrets = await start({ ...env, INFISICAL_CLIENT_SECRET_FILE: join(dir, "secret") });
      expect(secrets.get("OPENAI_API_KEY")).toBe("sk-vault");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("Infisical configuration", () => {
  it.each([
    [
      { INFISICAL_CLIENT_ID: "id", INFISICAL_CLIENT_SECRET: "s" },
      /INFISICAL_PROJECT_ID: required[\s\S]*INFISICAL_ENVIRONMENT: required/,
    ],
    [{ INFISICAL_PROJECT_ID: "p" }, /INFISICAL_CLIENT_ID: required/],
    [{ INFISICAL_CACHE_TTL_SECONDS: "0" }, /INFISICAL_CACHE_TTL_SECONDS/],
    [{ INFISICAL_SITE_URL: "not a url" }, /INFISICAL_SITE_URL/],
    [{ SECRET_FILE_MAX_BYTES: "-1" }, /SECRET_FILE_MAX_BYTES/],
  ])("refuses %o with a message naming the variable", (env, message) => {
    expect(() => secretsOptionsFromConfig(env)).toThrow(message);
  });

  it("needs the identity's secret once INFISICAL_CLIENT_ID is set", async () => {
    const env = { INFISICAL_CLIENT_ID: "id", INFISICAL_PROJECT_ID: "p", INFISICAL_ENVIRONMENT: "prod" };
    const error = await rejectionOf<SecretsError>(
      createSecretsProvider({ ...secretsOptionsFromConfig(env), names: NAMES }),
    );
    expect(error).toMatchObject({ code: "CONFIG_INVALID" });
    expect(error.message).toMatch(/INFISICAL_CLIENT_SECRET: required/);
  });

  it("leaves Infisical off without INFISICAL_CLIENT_ID", () => {
    expect(secretsOptionsFromConfig({}).infisical).toBeUndefined();
  });
});
