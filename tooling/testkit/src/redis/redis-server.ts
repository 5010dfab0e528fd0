import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missingInCi } from "@mcp-langgraph/tooling/integration";
import { freePort } from "@mcp-langgraph/tooling/testing";

/**
 * Whether suites that spawn their own Redis can run: like `requireService`, a missing
 * redis-server / redis-cli fails the run in CI and skips the suite with a message locally.
 */
export function requireRedisBinaries(): boolean {
  const missing = ["redis-server", "redis-cli"].filter(
    (binary) => spawnSync(binary, ["--version"], { stdio: "ignore" }).status !== 0,
  );
  if (missing.length === 0) return true;
  return missingInCi(`${missing.join(" and ")} not found on PATH`, "the suites that spawn their own Redis");
}

/**
 * A private redis-server on a free loopback port that a test may stop, start,
 * pause and resume: outage tests never touch the shared Redis on 6379.
 */
export class OwnRedisServer {
  readonly port: number;
  readonly url: string;
  readonly #dir: string;
  readonly #extraArgs: string[];
  #process: ChildProcess | undefined;

  private constructor(port: number, extraArgs: string[]) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#dir = mkdtempSync(join(tmpdir(), "testkit-redis-"));
    this.#extraArgs = extraArgs;
  }

  static async start(extraArgs: string[] = []): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(await freePort(), extraArgs);
    await server.start();
    return server;
  }

  async start(): Promise<void> {
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        this.#dir,
        ...this.#extraArgs,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    this.#process = child;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 5000);
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${output}`));
      });
    });
    child.stdout?.resume();
  }

  async stop(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.#process = undefined;
    const exited = once(child, "exit");
    child.kill("SIGCONT");
    child.kill("SIGKILL");
    await exited;
  }

  /** Freezes the server: connections stay open but nothing answers (a hung Redis). */
  pause(): void {
    this.#process?.kill("SIGSTOP");
  }

  resume(): void {
    this.#process?.kill("SIGCONT");
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

async function redisCli(args: string[]): Promise<string> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve, reject) => {
    execFile("redis-cli", args, { timeout: 10_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });
}

/** A private three-primary Redis Cluster (no replicas) on free loopback ports. */
export class OwnRedisCluster {
  readonly nodes: OwnRedisServer[];

  private constructor(nodes: OwnRedisServer[]) {
    this.nodes = nodes;
  }

  get seedUrl(): string {
    return this.nodes[0]!.url;
  }

  static async start(): Promise<OwnRedisCluster> {
    const args = [
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      "nodes.conf",
      "--cluster-node-timeout",
      "3000",
    ];
    const nodes = await Promise.all([0, 1, 2].map(() => OwnRedisServer.start(args)));
    const cluster = new OwnRedisCluster(nodes);
    try {
      await redisCli([
        "--cluster",
        "create",
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ]);
      const deadline = Date.now() + 15_000;
      for (const node of nodes) {
        while (!(await redisCli(["-p", String(node.port), "cluster", "info"])).includes("cluster_state:ok")) {
          if (Date.now() > deadline) throw new Error("redis cluster did not become ready");
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  /** The hash slot Redis Cluster assigns to `key`. */
  async keySlot(key: string): Promise<number> {
    return Number((await redisCli(["-p", String(this.nodes[0]!.port), "cluster", "keyslot", key])).trim());
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.dispose()));
  }
}
