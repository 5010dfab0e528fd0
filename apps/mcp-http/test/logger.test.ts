import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { configuredSecrets, MIN_SCRUBBED_SECRET_CHARS, secretScrubber } from "../src/log-secrets.ts";
import { createAppLogger } from "../src/logger.ts";
import { requestLogContext } from "../src/request-context.ts";

function capture(env: Record<string, string>) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const config = loadConfig({ HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "debug", ...env });
  return { config, logger: createAppLogger(config, sink), text: () => lines.join("\n"), lines };
}

const PROVIDER_KEY = "sk-live-abcdefghijklmnop";
const FALLBACK_KEY = "sk-ant-fallback-0123456789";
const DB_PASSWORD = "pg-pass-7f3a9c";
const USER_PASSWORD = "s3cret:with:colons";
const DATABASE_URL = `postgres://app:${DB_PASSWORD}@db.internal:5432/app`;

describe("the app logger", () => {
  it("redacts credentials by field name at any depth it is given", () => {
    const { logger, text } = capture({});
    logger.info(
      {
        headers: {
          authorization: "Bearer eyJhbGciOi.payload.sig",
          cookie: "sid=abc123456",
          "x-api-key": "k-123456789",
        },
        body: { password: "hunter2-hunter2", token: "tok-1234567890" },
        client_secret: "client-secret-value",
        nested: { deeper: { apiKey: "deep-key-123456" } },
      },
      "with secrets",
    );
    const output = text();
    for (const secret of [
      "eyJhbGciOi",
      "sid=abc123456",
      "k-123456789",
      "hunter2-hunter2",
      "tok-1234567890",
      "client-secret-value",
      "deep-key-123456",
    ]) {
      expect(output).not.toContain(secret);
    }
    expect(output).toContain("[Redacted]");
  });

  it("scrubs configured secrets from free text, config dumps and error messages", () => {
    const { config, logger, text } = capture({
      LOCAL_USERS: `alice:${USER_PASSWORD}:user`,
      LLM_PROVIDER: "openai",
      MODEL_NAME: "gpt-4o-mini",
      OPENAI_API_KEY: PROVIDER_KEY,
      // A fallback model's key sits deeper than any redact path reaches: only the scrubber finds it.
      FALLBACK_MODELS: "claude-3-5-haiku-latest",
      ANTHROPIC_API_KEY: FALLBACK_KEY,
      CHECKPOINTER_BACKEND: "postgres",
      DATABASE_URL,
    });
    logger.info({ backend: DATABASE_URL }, "connecting");
    logger.debug({ config }, "configuration");
    logger.warn({ err: new Error(`401 Incorrect API key provided: ${PROVIDER_KEY}`) }, "provider said");
    logger.info(
      { fallback: `fell back from key ${FALLBACK_KEY}` },
      `login failed for password ${USER_PASSWORD}`,
    );
    const output = text();
    for (const secret of [PROVIDER_KEY, FALLBACK_KEY, DB_PASSWORD, USER_PASSWORD])
      expect(output).not.toContain(secret);
    expect(output).toContain('"backend":"[Redacted]"');
  });

  it("writes an error's name, message and code, its stack only at debug, never its other members", () => {
    const error = Object.assign(new Error("upstream refused"), {
      code: "E_UPSTREAM",
      response: { headers: { authorization: "Bearer leaked-in-an-error" } },
    });
    const debug = capture({});
    debug.logger.error({ err: error }, "failed");
    const line = JSON.parse(debug.lines.at(-1) ?? "{}") as { err: Record<string, unknown> };
    expect(line.err).toMatchObject({ type: "Error", message: "upstream refused", code: "E_UPSTREAM" });
    expect(line.err.stack).toEqual(expect.stringContaining("logger.test.ts"));
    expect(debug.text()).not.toContain("leaked-in-an-error");

    const info = capture({ LOG_LEVEL: "info" });
    info.logger.error({ err: error }, "failed");
    expect(JSON.parse(info.lines.at(-1) ?? "{}").err.stack).toBeUndefined();
  });

  it("puts the request's id on every line written inside the request, and none outside", () => {
    const { logger, lines } = capture({});
    requestLogContext.run({ reqId: "req-1" }, () => {
      logger.info({ a: 1 }, "first");
      logger.warn({ b: 2 }, "second");
    });
    logger.info({ c: 3 }, "outside");
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.map((line) => line.reqId)).toEqual(["req-1", "req-1", undefined]);
    // Fields of one line never leak into the next.
    expect(parsed[1]).not.toHaveProperty("a");
    expect(parsed[2]).not.toHaveProperty("b");
  });

  it("does not search free text for secrets too short to be told from ordinary words", () => {
    const { config } = capture({ LOCAL_USERS: "bob:short:user,carol:long-enough-pw:user" });
    const secrets = configuredSecrets(config);
    expect(secrets).toContain("long-enough-pw");
    expect(secrets).not.toContain("short");
    expect(secrets.every((secret) => secret.length >= MIN_SCRUBBED_SECRET_CHARS)).toBe(true);
    // The short one still never shows in a configuration dump: the whole user list is redacted by name.
    const { config: dumped, logger, text } = capture({ LOCAL_USERS: "bob:pw42:user" });
    logger.debug({ config: dumped }, "configuration");
    expect(text()).not.toContain("pw42");
    expect(secretScrubber(['quote"d-secret'])('{"msg":"has quote\\"d-secret"}')).toBe(
      '{"msg":"has [Redacted]"}',
    );
  });

  it("never writes the OTLP export headers' values (a collector's API key), even in the debug config dump", () => {
    const { config, logger, text } = capture({
      LOG_LEVEL: "debug",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
      OTEL_EXPORTER_OTLP_HEADERS: "x-honeycomb-team=hc-collector-key-123",
    });
    expect(config.tracing?.headers).toEqual({ "x-honeycomb-team": "hc-collector-key-123" });
    logger.debug({ config }, "configuration");
    logger.warn({ otel: "export to collector with hc-collector-key-123 failed" }, "tracing: export problem");
    expect(text()).toContain("tracing: export problem");
    expect(text()).not.toContain("hc-collector-key-123");
  });
});
