import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { handlePgPoolErrors } from "../src/index.ts";

// EventEmitters shaped like pg's: an "error" with no listener throws, which in a server is a crash.
describe("handlePgPoolErrors", () => {
  it("handles the error of a client checked out of the pool, which pg-pool leaves unlistened", () => {
    const pool = new EventEmitter();
    handlePgPoolErrors(pool);
    const client = new EventEmitter();
    pool.emit("connect", client);
    expect(() => client.emit("error", new Error("Connection terminated unexpectedly"))).not.toThrow();
  });

  it("passes idle-client errors emitted on the pool to onIdleError", () => {
    const pool = new EventEmitter();
    const seen: string[] = [];
    handlePgPoolErrors(pool, (error) => seen.push(error.message));
    expect(() => pool.emit("error", new Error("idle client lost"))).not.toThrow();
    expect(seen).toEqual(["idle client lost"]);
  });
});
