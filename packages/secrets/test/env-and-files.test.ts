import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rejectionOf } from "@mcp-langgraph/testkit/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretsProvider, type EnvRecord, isSecretsError, type SecretsError } from "../src/index.ts";

const files = { maxBytes: 64, timeoutMs: 5_000 };
const NAMES = ["OPENAI_API_KEY", "DATABASE_URL"];
let dir: string;
const secretFile = async (name: string, content: string) => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};
const provider = (env: EnvRecord) => createSecretsProvider({ env, names: NAMES, files });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "secrets-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("environment source (the default)", () => {
  it("passes a managed variable through and leaves every other variable as it is", async () => {
    const secrets = await provider({ OPENAI_API_KEY: "sk-env", PORT: "3000" });
    expect(secrets.get("OPENAI_API_KEY")).toBe("sk-env");
    expect(secrets.sourceOf("OPENAI_API_KEY")).toBe("env");
    expect(secrets.get("DATABASE_URL")).toBeUndefined();
    expect(secrets.resolvedEnv()).toEqual({ OPENAI_API_KEY: "sk-env", PORT: "3000" });
  });
});

describe("NAME_FILE source", () => {
  it("reads the value from the file, trims one trailing newline and drops the _FILE variable", async () => {
    const path = await secretFile("openai", "sk-from-file\n");
    const secrets = await provider({ OPENAI_API_KEY_FILE: path });
    expect(secrets.get("OPENAI_API_KEY")).toBe("sk-from-file");
    expect(secrets.sourceOf("OPENAI_API_KEY")).toBe("file");
    expect(secrets.resolvedEnv()).toEqual({ OPENAI_API_KEY: "sk-from-file" });
  });

  it("trims a CRLF ending too, and only one newline (the rest is the value)", async () => {
    const crlf = await secretFile("crlf", "postgres://db\r\n");
    const two = await secretFile("two", "sk-two\n\n");
    const secrets = await provider({ DATABASE_URL_FILE: crlf, OPENAI_API_KEY_FILE: two });
    expect(secrets.get("DATABASE_URL")).toBe("postgres://db");
    expect(secrets.get("OPENAI_API_KEY")).toBe("sk-two\n");
  });

  it("ignores _FILE for a variable that is not managed", async () => {
    const path = await secretFile("port", "9999\n");
    const secrets = await provider({ PORT_FILE: path });
    expect(secrets.resolvedEnv()).toEqual({ PORT_FILE: path });
  });

  it("refuses a variable set both ways, naming both and neither value", async () => {
    const path = await secretFile("both", "sk-file-value\n");
    const error = await rejectionOf<SecretsError>(
      provider({ OPENAI_API_KEY: "sk-env-value", OPENAI_API_KEY_FILE: path }),
    );
    expect(isSecretsError(error) && error.code).toBe("CONFIG_INVALID");
    expect(error.message).toMatch(/OPENAI_API_KEY\b.*OPENAI_API_KEY_FILE/);
    expect(error.message).not.toMatch(/sk-env-value|sk-file-value/);
  });

  it.each([
    ["a missing file", () => Promise.resolve(join(dir, "nope")), /OPENAI_API_KEY_FILE: cannot read .*ENOENT/],
    ["an empty file", () => secretFile("empty", "\n"), /OPENAI_API_KEY_FILE: .* is empty/],
    ["a file over the limit", () => secretFile("big", `sk-${"x".repeat(100)}`), /larger than 64 bytes/],
    ["a directory", () => Promise.resolve(dir), /OPENAI_API_KEY_FILE: cannot read .*EISDIR/],
  ])("refuses %s with a clear error that shows no content", async (_, path, message) => {
    const error = await rejectionOf<SecretsError>(provider({ OPENAI_API_KEY_FILE: await path() }));
    expect(isSecretsError(error) && error.code).toBe("SECRET_FILE_INVALID");
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain("xxxx");
  });
});
