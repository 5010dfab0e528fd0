import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "@mcp-langgraph/tooling/testing";

export interface BuiltApp {
  url: string;
  /** The server process, for reading its CPU time from /proc. */
  child: ChildProcess;
  close(): Promise<void>;
}

/**
 * Starts the built app (`dist/main.mjs`) as its own process, as in production, on a free port with
 * `env` plus PATH, PORT and LOG_LEVEL=silent; resolves once it is listening.
 */
export async function startBuiltApp(env: Record<string, string>): Promise<BuiltApp> {
  const port = await freePort();
  const child = spawn(process.execPath, [fileURLToPath(new URL("../dist/main.mjs", import.meta.url))], {
    env: { PATH: process.env.PATH ?? "", PORT: String(port), LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes("listening on")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    close: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
