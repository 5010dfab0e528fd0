import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The slice of a better-sqlite3 `Database` this helper touches. Structural, so core takes no
 * native dependency and every package keeping state in SQLite (checkpoints, tuples) opens its
 * file the same way.
 */
export interface SqliteHandle {
  pragma(source: string): unknown;
  exec(source: string): unknown;
  close(): unknown;
}

export interface SqliteFileOptions {
  /**
   * How long a write waits for another connection's write lock before failing (SQLITE_BUSY).
   * better-sqlite3 waits synchronously, so this also bounds how long the event loop can stall
   * behind another process's write. Default 5,000 ms.
   */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating its directory and file when missing) a SQLite database for one persistent
 * node, and proves it writable now: a path that cannot be written fails here, at start-up,
 * rather than on the first conversation. WAL lets readers run beside the one writer (other
 * connections, other worker processes on the same node); `synchronous=NORMAL` in WAL mode
 * skips the fsync per commit (a commit survives a crash of the process, the last ones may be
 * lost with the machine's power), so a commit never waits on the disk while holding the loop.
 * Throws an Error naming the path and the driver's or file system's reason (the path is the
 * operator's own configuration, no secret, and naming it is the fix); callers wrap it in their
 * package's error.
 */
export function openSqliteFile<Handle extends SqliteHandle>(
  open: (path: string) => Handle,
  path: string,
  options: SqliteFileOptions = {},
): Handle {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new RangeError("busyTimeoutMs must be a non-negative integer");
  }
  let handle: Handle | undefined;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    handle = open(path);
    handle.pragma(`busy_timeout = ${busyTimeoutMs}`);
    handle.pragma("journal_mode = WAL");
    handle.pragma("synchronous = NORMAL");
    // Takes and releases the write lock: fails on a read-only file, directory or file system.
    handle.exec("BEGIN IMMEDIATE; COMMIT");
    return handle;
  } catch (error) {
    handle?.close();
    throw new Error(`cannot open the SQLite database at ${path} for writing: ${reason(error)}`, {
      cause: error,
    });
  }
}

/** The error's own words without a stack: file-system codes and SQLite messages name no secret. */
function reason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
}
