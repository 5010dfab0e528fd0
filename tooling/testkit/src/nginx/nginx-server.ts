import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missingInCi } from "@mcp-langgraph/tooling/integration";
import { freePort } from "@mcp-langgraph/tooling/testing";
import { nginxConfig } from "./nginx-config.ts";

/** Debian's nginx lives in /usr/sbin, which a test user's PATH may leave out. */
const CANDIDATES = ["nginx", "/usr/sbin/nginx"];

function nginxBinary(): string | undefined {
  return CANDIDATES.find((binary) => spawnSync(binary, ["-v"], { stdio: "ignore" }).status === 0);
}

/**
 * Whether suites behind nginx can run: like `requireService`, a missing nginx fails the run in CI
 * (`.ci/run` installs Debian's `nginx-light`) and skips the suite with a message locally.
 */
export function requireNginx(): boolean {
  if (nginxBinary()) return true;
  return missingInCi("nginx not found (apt-get install nginx-light)", "the suites behind nginx");
}

/** One line of the upstream log. */
export interface ProxiedRequest {
  /** `host:port` of the instance that answered. */
  upstream: string;
  /** Every instance nginx tried, in order (more than one when a connect failed). */
  tried: string[];
  method: string;
  path: string;
  /** The request's `mcp-session-id` header, or "" when it had none. */
  sessionId: string;
  status: number;
}

/**
 * A private nginx, run as the test user in the foreground from a temp directory, balancing
 * `upstreams` round-robin (see `nginxConfig`). Never touches a system nginx or port 80.
 */
export class OwnNginx {
  readonly url: string;
  readonly #dir: string;
  readonly #process: ChildProcess;

  private constructor(url: string, dir: string, child: ChildProcess) {
    this.url = url;
    this.#dir = dir;
    this.#process = child;
  }

  static async start(upstreams: string[]): Promise<OwnNginx> {
    const binary = nginxBinary();
    if (!binary) throw new Error("nginx not found (apt-get install nginx-light)");
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "testkit-nginx-"));
    const config = join(dir, "nginx.conf");
    writeFileSync(config, nginxConfig({ prefix: dir, port, upstreams }));
    const child = spawn(binary, ["-p", dir, "-c", config, "-g", "daemon off;"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const server = new OwnNginx(`http://127.0.0.1:${port}`, dir, child);
    try {
      await server.#untilListening(() => stderr);
    } catch (error) {
      await server.dispose();
      throw error;
    }
    return server;
  }

  /** nginx says nothing when it is up: poll its port until it answers, or fail with its error log. */
  async #untilListening(stderr: () => string): Promise<void> {
    const deadline = Date.now() + 10_000;
    const exited = once(this.#process, "exit").then(() => {
      throw new Error(`nginx exited before listening: ${stderr()}${this.errorLog()}`);
    });
    exited.catch(() => {});
    while (Date.now() < deadline) {
      const reached = await Promise.race([
        fetch(`${this.url}/health/live`, { signal: AbortSignal.timeout(1_000) }).then(
          () => true,
          () => false,
        ),
        exited,
      ]);
      if (reached) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`nginx did not listen on ${this.url}: ${stderr()}${this.errorLog()}`);
  }

  /** nginx's error log so far (upstream failures show here). */
  errorLog(): string {
    try {
      return readFileSync(join(this.#dir, "error.log"), "utf8");
    } catch {
      return "";
    }
  }

  /** Every request nginx passed on so far, in the order they completed (from its upstream log). */
  requests(): ProxiedRequest[] {
    let log = "";
    try {
      log = readFileSync(join(this.#dir, "upstream.log"), "utf8");
    } catch {
      return [];
    }
    return log
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [tried = "", method = "", path = "", sessionId = "", status = ""] = line.split("|");
        // A retried request lists every upstream it tried ("a, b"): the last one answered.
        const upstreams = tried.split(",").map((upstream) => upstream.trim());
        return {
          upstream: upstreams.at(-1) ?? "",
          tried: upstreams,
          method,
          path,
          sessionId: sessionId === "-" ? "" : sessionId,
          status: Number(status),
        };
      });
  }

  async dispose(): Promise<void> {
    const child = this.#process;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      // SIGQUIT: graceful shutdown; open SSE streams would hold it, so SIGKILL follows if needed.
      child.kill("SIGQUIT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
