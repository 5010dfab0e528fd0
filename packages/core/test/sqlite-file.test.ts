import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteFile, type SqliteHandle } from "../src/index.ts";

const directory = mkdtempSync(join(tmpdir(), "core-sqlite-file-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Records what openSqliteFile asks of a driver handle; `failOn` makes one statement throw. */
function fakeDriver(failOn?: string) {
  const calls: string[] = [];
  let closed = false;
  const open = (path: string): SqliteHandle => {
    calls.push(`open ${path}`);
    const run = (source: string) => {
      calls.push(source);
      if (failOn && source.includes(failOn)) {
        throw Object.assign(new Error("attempt to write a readonly database"), { code: "SQLITE_READONLY" });
      }
    };
    return { pragma: run, exec: run, close: () => (closed = true) };
  };
  return { open, calls, closed: () => closed };
}

describe("openSqliteFile", () => {
  it("creates the directory, sets WAL, NORMAL sync and the busy timeout, and proves the file writable", () => {
    const driver = fakeDriver();
    const path = join(directory, "a", "b", "state.sqlite");
    openSqliteFile(driver.open, path, { busyTimeoutMs: 250 });
    expect(existsSync(join(directory, "a", "b"))).toBe(true);
    expect(driver.calls).toEqual([
      `open ${path}`,
      "busy_timeout = 250",
      "journal_mode = WAL",
      "synchronous = NORMAL",
      "BEGIN IMMEDIATE; COMMIT",
    ]);
  });

  it("closes the handle and names the path and the reason when the file cannot be written", () => {
    const driver = fakeDriver("BEGIN IMMEDIATE");
    const path = join(directory, "readonly.sqlite");
    expect(() => openSqliteFile(driver.open, path)).toThrow(
      `cannot open the SQLite database at ${path} for writing: SQLITE_READONLY: attempt to write a readonly database`,
    );
    expect(driver.closed()).toBe(true);
  });

  it("names the path when its directory cannot be created, without opening anything", () => {
    const file = join(directory, "plain-file");
    writeFileSync(file, "");
    const driver = fakeDriver();
    const path = join(file, "state.sqlite");
    expect(() => openSqliteFile(driver.open, path)).toThrow(
      `cannot open the SQLite database at ${path} for writing: E`,
    );
    expect(driver.calls).toEqual([]);
  });

  it("refuses a busy timeout that is not a whole number of milliseconds", () => {
    expect(() =>
      openSqliteFile(fakeDriver().open, join(directory, "x.sqlite"), { busyTimeoutMs: 1.5 }),
    ).toThrow(RangeError);
  });
});
