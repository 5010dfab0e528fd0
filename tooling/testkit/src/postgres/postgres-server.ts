import { execFile, execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missingInCi } from "@mcp-langgraph/tooling/integration";
import { freePort } from "@mcp-langgraph/tooling/testing";

const POSTGRES_LIB = "/usr/lib/postgresql";

/** The newest PostgreSQL bin directory with initdb and pg_ctl (Debian's layout), if any. */
function postgresBinDir(): string | undefined {
  if (!existsSync(POSTGRES_LIB)) return undefined;
  const versions = readdirSync(POSTGRES_LIB)
    .filter((version) => existsSync(join(POSTGRES_LIB, version, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(POSTGRES_LIB, versions[0], "bin");
}

/**
 * Whether suites that run their own PostgreSQL can run: like `requireService`, missing
 * binaries fail the run in CI and skip the suite with a message on a developer machine.
 */
export function requirePostgresBinaries(): boolean {
  if (postgresBinDir() !== undefined) return true;
  return missingInCi(
    `PostgreSQL server binaries (initdb, pg_ctl) not found under ${POSTGRES_LIB}/*/bin`,
    "the suites that run their own PostgreSQL",
  );
}

/**
 * A private PostgreSQL cluster on a free loopback port that a test may stop and start again:
 * outage tests never touch the shared server on 5432. initdb refuses to run as root, so as
 * root the cluster belongs to the `postgres` OS user and every command runs as that user.
 */
export class OwnPostgresServer {
  readonly port: number;
  readonly url: string;
  readonly #bin: string;
  readonly #dir: string;
  readonly #data: string;
  readonly #asPostgres: boolean;

  private constructor(port: number, bin: string) {
    this.port = port;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    this.#bin = bin;
    this.#dir = mkdtempSync(join(tmpdir(), "mcp-http-pg-"));
    this.#data = join(this.#dir, "data");
    this.#asPostgres = process.getuid?.() === 0;
    if (this.#asPostgres) {
      const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
      chownSync(this.#dir, uid, gid);
    }
  }

  static async start(): Promise<OwnPostgresServer> {
    const bin = postgresBinDir();
    if (bin === undefined) throw new Error("PostgreSQL binaries not found (see requirePostgresBinaries)");
    const server = new OwnPostgresServer(await freePort(), bin);
    try {
      await server.#run("initdb", ["-D", server.#data, "-U", "postgres", "-A", "trust", "--no-sync"]);
      await server.start();
    } catch (error) {
      rmSync(server.#dir, { recursive: true, force: true });
      throw error;
    }
    return server;
  }

  /** Starts the server (again) on the same port and data; resolves once it accepts connections. */
  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      "-c listen_addresses=127.0.0.1",
      `-c unix_socket_directories=${this.#dir}`,
      "-c fsync=off",
      "-c max_connections=50",
    ].join(" ");
    await this.#run("pg_ctl", ["-D", this.#data, "-l", join(this.#dir, "log"), "-o", options, "-w", "start"]);
  }

  /**
   * Stops the server as an operator's restart does ("fast": every session is terminated,
   * queries in flight included) and waits until it is down.
   */
  async stop(): Promise<void> {
    await this.#run("pg_ctl", ["-D", this.#data, "-m", "fast", "-w", "stop"]);
  }

  async dispose(): Promise<void> {
    await this.#run("pg_ctl", ["-D", this.#data, "-m", "immediate", "-w", "stop"]).catch(() => {});
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #run(tool: string, args: string[]): Promise<string> {
    const path = join(this.#bin, tool);
    const [command, argv] = this.#asPostgres
      ? ["runuser", ["-u", "postgres", "--", path, ...args]]
      : [path, args];
    return new Promise((resolve, reject) => {
      execFile(command, argv, { timeout: 60_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${tool} failed: ${error.message}\n${stderr}`)) : resolve(stdout),
      );
    });
  }
}
