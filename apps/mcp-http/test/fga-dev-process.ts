import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The built `mcp-langgraph-fga-dev` bin of packages/authz (a workspace dependency of this app). */
const BIN = fileURLToPath(new URL("../node_modules/@mcp-langgraph/authz/dist/fga-dev.mjs", import.meta.url));

export interface FgaDevProcess {
  url: string;
  storeId: string;
  modelId: string;
  token: string;
  stop(): Promise<void>;
}

/**
 * Starts `mcp-langgraph-fga-dev --project-model` as its own process, as an operator would run it
 * beside several instances: one store, one model, one token, shared by every instance.
 */
export async function startFgaDevProcess(token: string): Promise<FgaDevProcess> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm build\` first`);
  const child: ChildProcess = spawn(
    process.execPath,
    // `--token=<token>`: a random token may start with "-", which `--token <token>` reads as an option.
    [BIN, "--port", "0", "--project-model", `--token=${token}`],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fga-dev did not start: ${output}`)), 15_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (/authorization model id: \S+/.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`fga-dev exited with ${code}: ${output}`));
    });
  });
  const field = (pattern: RegExp) => pattern.exec(ready)?.[1] ?? "";
  return {
    url: field(/listening on (\S+)/),
    storeId: field(/store id: (\S+)/),
    modelId: field(/authorization model id: (\S+)/),
    token,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}
