import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { freePort } from "@mcp-langgraph/tooling/testing";

export interface SpawnedApp {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  /** What the app wrote to stdout so far (its pino log lines). */
  stdout: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts a built HTTP app (`mainScript`, e.g. apps/mcp-http's dist/main.mjs) as a real process on
 * a free port and waits until it says it listens. The caller names the script, so the testkit
 * depends on no app.
 */
export async function spawnHttpApp(mainScript: string, env: Record<string, string>): Promise<SpawnedApp> {
  if (!existsSync(mainScript)) throw new Error(`${mainScript} is missing: run \`pnpm build\` first`);
  const port = await freePort();
  const child = spawn(process.execPath, [mainScript], {
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let stdout = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    new Promise<void>((resolve) => {
      const onData = () => {
        if (stderr.includes("listening on")) {
          child.stderr?.off("data", onData);
          resolve();
        }
      };
      child.stderr?.on("data", onData);
    }),
    exited.then((code) => {
      throw new Error(`app exited with ${code} before listening:\n${stderr}`);
    }),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`app did not start:\n${stderr}`)), 20_000).unref(),
    ),
  ]);
  return { child, url, stderr: () => stderr, stdout: () => stdout, exited };
}
