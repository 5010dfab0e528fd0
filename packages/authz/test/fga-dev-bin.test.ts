import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createAuthorizer, isAuthzError } from "../src/index.ts";

const BIN = fileURLToPath(new URL("../src/bin/fga-dev.ts", import.meta.url));

/** Starts the dev-server CLI and resolves with what it printed once the store is ready. */
function startBin(args: string[]): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`no start-up output: ${output}`)), 15_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (
        /authorization model id: \S+/.test(output) ||
        (!args.includes("--project-model") && /listening/.test(output))
      ) {
        clearTimeout(timer);
        resolve({ child, output });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${output}`));
    });
  });
}

describe("mcp-langgraph-fga-dev", () => {
  let child: ChildProcess | undefined;

  afterEach(() => {
    child?.kill("SIGTERM");
  });

  it("serves the project model to an OpenFGA SDK client, behind a token", async () => {
    const started = await startBin(["--port", "0", "--project-model", "--token", "dev-token"]);
    child = started.child;
    const url = /listening on (\S+)/.exec(started.output)?.[1] ?? "";
    const storeId = /store id: (\S+)/.exec(started.output)?.[1] ?? "";
    const authz = await createAuthorizer({ backend: "openfga", apiUrl: url, storeId, token: "dev-token" });
    await authz.writeTuples([{ user: "user:alice", relation: "owner", object: "conversation:c1" }]);
    expect(await authz.check({ user: "user:alice", relation: "viewer", object: "conversation:c1" })).toBe(
      true,
    );
    await authz.close();

    const error = await createAuthorizer({ backend: "openfga", apiUrl: url, storeId, token: "wrong" }).catch(
      (e: unknown) => e,
    );
    expect(isAuthzError(error) && error.code).toBe("AUTHZ_UNAVAILABLE");
  });

  it("takes a token that starts with a dash in the --token=<token> form (random tokens may)", async () => {
    const started = await startBin(["--port", "0", "--project-model", "--token=-dash-token"]);
    child = started.child;
    const url = /listening on (\S+)/.exec(started.output)?.[1] ?? "";
    const storeId = /store id: (\S+)/.exec(started.output)?.[1] ?? "";
    const authz = await createAuthorizer({ backend: "openfga", apiUrl: url, storeId, token: "-dash-token" });
    expect(await authz.check({ user: "user:alice", relation: "viewer", object: "conversation:c1" })).toBe(
      false,
    );
    await authz.close();
  });

  it("refuses a bad port with a usage message", async () => {
    const failed = startBin(["--port", "99999"]);
    await expect(failed).rejects.toThrow(/exited with 2/);
  });

  it("refuses an invalid model before it starts listening", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fga-dev-"));
    const file = join(dir, "bad.fga");
    await writeFile(file, "model\n  schema 1.1\ntype doc\n  relations\n    define viewer: [nobody]\n");
    try {
      const failed = startBin(["--port", "0", "--model", file]);
      await expect(failed).rejects.toThrow(/exited with 2: $/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
