// The llm-factory's loopback server speaks OpenAI's wire format to the real @langchain client.
import { startHeldModel } from "@mcp-langgraph/testkit/llm-loopback";
import { describe, expect, it, vi } from "vitest";
import { connect, INITIALIZE, login, postMcp, textOf } from "./helpers.ts";
import { spawnApp } from "./spawn.ts";

describe("the built HTTP app as a process", () => {
  it("creates the dev user with a random password printed once, and exits 0 on SIGTERM", async () => {
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

  it("drains on SIGTERM: readiness and new MCP requests get 503 while a call in flight completes, then exit 0", async () => {
    // The model holds its reply until the test has sent SIGTERM.
    const { llm, release, env, reply } = await startHeldModel();
    const app = await spawnApp({ LOCAL_USERS: "alice:alice-pw:user", ...env });
    try {
      const token = await login(app.url, "alice", "alice-pw");
      const { client } = await connect(app.url, token);
      const call = client.callTool({ name: "agent_chat", arguments: { message: "hello" } });
      await vi.waitFor(() => expect(llm.requests).toHaveLength(1), { timeout: 20_000 });
      expect((await fetch(`${app.url}/health/ready`)).status).toBe(200);
      app.child.kill("SIGTERM");
      // Readiness turns 503 while the call is still held: the listener keeps answering.
      await vi.waitFor(
        async () => {
          const ready = await fetch(`${app.url}/health/ready`);
          expect(ready.status).toBe(503);
          expect(await ready.json()).toMatchObject({ status: "draining" });
        },
        { timeout: 10_000 },
      );
      // A new MCP session is refused with a retryable 503, as is a new request in the open one.
      const opening = await postMcp(app.url, INITIALIZE, { authorization: `Bearer ${token}` });
      expect(opening.status).toBe(503);
      expect(opening.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(JSON.stringify(await opening.json())).toContain("shutting down");
      await expect(
        client.callTool({ name: "conversation_search", arguments: { query: "x" } }),
      ).rejects.toThrow(/503|shutting down/i);
      expect(llm.requests).toHaveLength(1);
      release();
      const result = await call;
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toBe(reply);
      expect(await app.exited).toBe(0);
    } finally {
      release();
      app.child.kill("SIGKILL");
      await llm.close();
    }
  }, 60_000);

  it("refuses AUTH_MODE=none on a non-loopback address", async () => {
    const failure = spawnApp({ AUTH_MODE: "none", HOST: "0.0.0.0" });
    await expect(failure).rejects.toThrow(/AUTH_MODE=none is only allowed on a loopback address/);
  });
});
