import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { type Authorizer, createAuthorizer } from "../../src/index.ts";

/**
 * A SQLite file of its own in a temporary directory (removed by `drop`); each `open()` is another
 * connection, standing for another worker process on the same node.
 */
export function sqliteTuples(options: { changeLogRetention?: number; busyTimeoutMs?: number } = {}) {
  const directory = mkdtempSync(join(tmpdir(), "authz-sqlite-"));
  const path = join(directory, "tuples.sqlite");
  const opened: Authorizer[] = [];
  return {
    path,
    async open(model: string): Promise<Authorizer> {
      const authorizer = await createAuthorizer({
        backend: "embedded",
        model,
        storage: { backend: "sqlite", path, ...options },
      });
      opened.push(authorizer);
      return authorizer;
    },
    /** A raw connection to the file, for what the test inspects or holds (locks). */
    connect(): Database.Database {
      return new Database(path);
    },
    async drop() {
      await Promise.allSettled(opened.map((authorizer) => authorizer.close()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
