import { createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type FgaDevServer, startFgaDevServer } from "../src/dev-server/server.ts";
import { EmbeddedAuthorizer } from "../src/embedded.ts";
import { createAuthorizer, isAuthzError, loadProjectModel } from "../src/index.ts";
import { ResilientAuthorizer } from "../src/resilient.ts";
import { startFaultProxy } from "./support/fault-proxy.ts";

const allowedQuery = { user: "user:alice", relation: "owner", object: "conversation:c1" };

async function rejection(promise: Promise<unknown>) {
  try {
    const value = await promise;
    return { resolved: value };
  } catch (error) {
    return error;
  }
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("fail closed (OpenFGA backend against the project's own dev server)", () => {
  let devServer: FgaDevServer;
  let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
  let authz: ResilientAuthorizer;

  beforeEach(async () => {
    devServer = await startFgaDevServer();
    proxy = await startFaultProxy(devServer.url);
    authz = await createAuthorizer(
      { backend: "openfga", apiUrl: proxy.url, model: await loadProjectModel() },
      { timeoutMs: 1_000, cache: false, circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 400 } },
    );
    await authz.writeTuples([{ user: "user:alice", relation: "owner", object: "conversation:c1" }]);
    expect(await authz.check(allowedQuery)).toBe(true);
  });

  afterEach(async () => {
    await authz.close();
    await proxy.close();
    await devServer.close();
  });

  it("turns a server error into AUTHZ_UNAVAILABLE, never into an answer", async () => {
    proxy.setMode("fail");
    const error = await rejection(authz.check(allowedQuery));
    expect(isAuthzError(error) && error.code).toBe("AUTHZ_UNAVAILABLE");
    const batch = await rejection(authz.batchCheck([allowedQuery, allowedQuery]));
    expect(isAuthzError(batch) && batch.code).toBe("AUTHZ_UNAVAILABLE");
  });

  it("turns a server that does not answer into AUTHZ_UNAVAILABLE at the deadline", async () => {
    proxy.setMode("hang");
    const error = await rejection(authz.check(allowedQuery));
    expect(isAuthzError(error) && error.code).toBe("AUTHZ_UNAVAILABLE");
    expect(isAuthzError(error) && error.message).toMatch(/within 1000 ms/);
  });

  it("opens the circuit after repeated failures, then fails fast without calling the server", async () => {
    proxy.setMode("fail");
    await rejection(authz.check(allowedQuery));
    await rejection(authz.check(allowedQuery));
    const before = proxy.requests;
    proxy.setMode("pass");
    const error = await rejection(authz.check(allowedQuery));
    expect(isAuthzError(error) && [error.code, error.message]).toEqual([
      "AUTHZ_UNAVAILABLE",
      "authz backend circuit is open after repeated failures",
    ]);
    expect(proxy.requests).toBe(before);
  });

  it("reports its circuit state: closed, open after repeated failures, half-open after the reset timeout, closed after a probe", async () => {
    expect(authz.circuitState).toBe("closed");
    proxy.setMode("fail");
    await rejection(authz.check(allowedQuery));
    expect(authz.circuitState).toBe("closed");
    await rejection(authz.check(allowedQuery));
    expect(authz.circuitState).toBe("open");
    proxy.setMode("pass");
    await vi.waitFor(() => expect(authz.circuitState).toBe("half-open"), { timeout: 5_000 });
    expect(await authz.check(allowedQuery)).toBe(true);
    expect(authz.circuitState).toBe("closed");
  });

  it("closes the circuit again once a probe succeeds after the reset timeout", async () => {
    proxy.setMode("fail");
    await rejection(authz.check(allowedQuery));
    await rejection(authz.check(allowedQuery));
    proxy.setMode("pass");
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(await authz.check(allowedQuery)).toBe(true);
  });

  it("does not count the caller's own mistakes against the backend", async () => {
    for (let i = 0; i < 3; i++) {
      const error = await rejection(authz.check({ ...allowedQuery, relation: "no_such_relation" }));
      expect(isAuthzError(error) && error.code).toBe("AUTHZ_VALIDATION");
    }
    expect(await authz.check(allowedQuery)).toBe(true);
  });

  it("rejects with the caller's abort reason when the caller gives up", async () => {
    proxy.setMode("hang");
    const controller = new AbortController();
    const pending = rejection(authz.check(allowedQuery, { signal: controller.signal }));
    controller.abort(new Error("client went away"));
    expect(((await pending) as Error).message).toBe("client went away");
  });

  it("fails a write closed too", async () => {
    proxy.setMode("fail");
    const error = await rejection(
      authz.deleteTuples([{ user: "user:alice", relation: "owner", object: "conversation:c1" }]),
    );
    expect(isAuthzError(error) && error.code).toBe("AUTHZ_UNAVAILABLE");
  });
});

describe("fail closed under load (OpenFGA backend against the project's own dev server)", () => {
  it("refuses calls beyond the bulkhead's queue with AUTHZ_UNAVAILABLE", async () => {
    const devServer = await startFgaDevServer();
    const proxy = await startFaultProxy(devServer.url);
    const authz = await createAuthorizer(
      { backend: "openfga", apiUrl: proxy.url, model: await loadProjectModel() },
      { timeoutMs: 1_000, cache: false, concurrency: 1, maxQueue: 0 },
    );
    try {
      proxy.setMode("hang");
      const first = rejection(authz.check(allowedQuery));
      const second = await rejection(authz.check(allowedQuery));
      expect(isAuthzError(second) && [second.code, second.message]).toEqual([
        "AUTHZ_UNAVAILABLE",
        "too many authz calls waiting",
      ]);
      const firstError = await first;
      expect(isAuthzError(firstError) && firstError.code).toBe("AUTHZ_UNAVAILABLE");
    } finally {
      await authz.close();
      await proxy.close();
      await devServer.close();
    }
  });
});

describe("fail closed (embedded backend)", () => {
  it("turns an unexpected engine failure into AUTHZ_UNAVAILABLE, never an answer", async () => {
    class BrokenEngineAuthorizer extends EmbeddedAuthorizer {
      override check(): Promise<boolean> {
        return Promise.reject(new TypeError("engine bug"));
      }
    }
    const authz = new ResilientAuthorizer(new BrokenEngineAuthorizer(await loadProjectModel()), {
      remote: false,
    });
    const error = await rejection(authz.check(allowedQuery));
    expect(isAuthzError(error) && error.code).toBe("AUTHZ_UNAVAILABLE");
  });
});

describe("fail closed at start-up", () => {
  it("reports an unreachable OpenFGA server as AUTHZ_UNAVAILABLE", async () => {
    const port = await closedPort();
    const error = await rejection(
      createAuthorizer({
        backend: "openfga",
        apiUrl: `http://127.0.0.1:${port}`,
        model: await loadProjectModel(),
      }),
    );
    expect(isAuthzError(error) && error.code).toBe("AUTHZ_UNAVAILABLE");
  });

  it("rejects a bad configuration with AUTHZ_VALIDATION and an invalid model with AUTHZ_INVALID_MODEL", async () => {
    const badUrl = await rejection(createAuthorizer({ backend: "openfga", apiUrl: "not a url" }));
    expect(isAuthzError(badUrl) && badUrl.code).toBe("AUTHZ_VALIDATION");
    const badBackend = await rejection(createAuthorizer({ backend: "nope" } as never));
    expect(isAuthzError(badBackend) && badBackend.code).toBe("AUTHZ_VALIDATION");
    const badModel = await rejection(
      createAuthorizer({ backend: "embedded", model: "model\n  schema 1.1\ntype" }),
    );
    expect(isAuthzError(badModel) && badModel.code).toBe("AUTHZ_INVALID_MODEL");
  });
});
