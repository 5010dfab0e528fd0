import { open } from "node:fs/promises";
import { raceDeadline } from "@mcp-langgraph/core";
import { SecretsError } from "./errors.js";

export type EnvRecord = Record<string, string | undefined>;

export interface FileSourceOptions {
  /** Largest file accepted, in bytes (a secret is small; a wrong path to a big file is a mistake). */
  maxBytes: number;
  /** Deadline for reading one file. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The Docker/Kubernetes convention: `NAME_FILE=/run/secrets/name` holds NAME's value. */
export const fileVariableOf = (name: string) => `${name}_FILE`;

/**
 * Values of `names` given directly in `env` or through `NAME_FILE`. A name set both ways is a
 * start-up error naming both variables (which one was meant is not ours to guess). A file's one
 * trailing newline is dropped (editors and `echo` add it); an empty file is an error.
 */
export async function readEnvAndFiles(
  env: EnvRecord,
  names: readonly string[],
  options: FileSourceOptions,
): Promise<Map<string, { value: string; source: "env" | "file" }>> {
  const conflicts = names.filter((name) => nonEmpty(env[name]) && nonEmpty(env[fileVariableOf(name)]));
  if (conflicts.length > 0) {
    throw new SecretsError(
      "CONFIG_INVALID",
      `Invalid configuration:\n${conflicts
        .map((name) => `  ${name}: set both as ${name} and as ${fileVariableOf(name)}; keep one`)
        .join("\n")}`,
    );
  }
  const found = new Map<string, { value: string; source: "env" | "file" }>();
  await Promise.all(
    names.map(async (name) => {
      const direct = env[name];
      if (nonEmpty(direct)) {
        found.set(name, { value: direct, source: "env" });
        return;
      }
      const path = env[fileVariableOf(name)];
      if (nonEmpty(path))
        found.set(name, { value: await readSecretFile(name, path, options), source: "file" });
    }),
  );
  return found;
}

const nonEmpty = (value: string | undefined): value is string => value !== undefined && value !== "";

async function readSecretFile(name: string, path: string, options: FileSourceOptions): Promise<string> {
  const variable = fileVariableOf(name);
  let text: string | undefined;
  try {
    text = await raceDeadline(readBounded(path, options.maxBytes), {
      timeoutMs: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (error instanceof SecretsError) throw error;
    const code = (error as { code?: unknown }).code;
    throw new SecretsError(
      "SECRET_FILE_INVALID",
      `Invalid configuration:\n  ${variable}: cannot read ${path} (${typeof code === "string" ? code : "error"})`,
      { cause: error },
    );
  }
  if (text === undefined) {
    throw new SecretsError(
      "SECRET_FILE_INVALID",
      `Invalid configuration:\n  ${variable}: ${path} is larger than ${options.maxBytes} bytes`,
    );
  }
  const value = text.replace(/\r?\n$/, "");
  if (value === "") {
    throw new SecretsError("SECRET_FILE_INVALID", `Invalid configuration:\n  ${variable}: ${path} is empty`);
  }
  return value;
}

/**
 * Reads at most maxBytes + 1 bytes, so a huge or endless file (a device) cannot fill memory;
 * undefined when the file is over the limit.
 */
async function readBounded(path: string, maxBytes: number): Promise<string | undefined> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) return undefined;
    return buffer.subarray(0, length).toString("utf8");
  } finally {
    await handle.close();
  }
}
