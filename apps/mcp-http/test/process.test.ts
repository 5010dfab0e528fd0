import { describe, expect, it } from "vitest";
import { login } from "./helpers.ts";
import { spawnApp } from "./spawn.ts";

describe("the built HTTP app as a process", () => {
  it("creates the dev user with a random password printed once, and drains on SIGTERM", async () => {
    const app = await spawnApp({});
    const match = /created user "dev" with password "([^"]+)"/.exec(app.stderr());
    expect(match).not.toBeNull();
    const password = match?.[1] ?? "";
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(app.stderr().split(password).length - 1).toBe(1);

    const token = await login(app.url, "dev", password);
    expect(token.split(".")).toHaveLength(3);

    app.child.kill("SIGTERM");
    expect(await app.exited).toBe(0);
  });

  it("refuses AUTH_MODE=none on a non-loopback address", async () => {
    const failure = spawnApp({ AUTH_MODE: "none", HOST: "0.0.0.0" });
    await expect(failure).rejects.toThrow(/AUTH_MODE=none is only allowed on a loopback address/);
  });
});
