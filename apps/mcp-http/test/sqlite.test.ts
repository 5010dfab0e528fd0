import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { conversationKey } from "@mcp-langgraph/mcp-server";
import { afterAll, describe, expect, it } from "vitest";
import { connect, login, textOf } from "./helpers.ts";
import { type SpawnedApp, spawnApp } from "./spawn.ts";

// Every file of these tests lives in a temporary directory: nothing is left in the repository.
const directory = mkdtempSync(join(tmpdir(), "mcp-http-sqlite-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const USERS = "alice:alice-pw:user,bob:bob-pw:user";

async function stop(app: SpawnedApp): Promise<void> {
  app.child.kill("SIGTERM");
  expect(await app.exited).toBe(0);
}

describe("CHECKPOINTER_BACKEND=sqlite through the HTTP app", () => {
  const path = join(directory, "state", "mcp-langgraph.sqlite");
  const env = { CHECKPOINTER_BACKEND: "sqlite", SQLITE_PATH: path, LOCAL_USERS: USERS };

  it("keeps a thread and its ownership across a restart: alice reads it, bob cannot", async () => {
    const threadId = `notes-${randomUUID()}`;
    const before = await spawnApp(env);
    try {
      const alice = await connect(before.url, await login(before.url, "alice", "alice-pw"));
      const reply = await alice.client.callTool({
        name: "agent_chat",
        arguments: { message: "what is 19 * 3?", thread_id: threadId },
      });
      expect(reply.isError).toBeFalsy();
      expect(reply.structuredContent).toMatchObject({ thread_id: threadId, created: true });
      expect(textOf(reply)).toContain("57");
      await alice.client.close();
    } finally {
      await stop(before);
    }
    expect(existsSync(path)).toBe(true);

    const after = await spawnApp(env);
    try {
      const alice = await connect(after.url, await login(after.url, "alice", "alice-pw"));
      const history = await alice.client.callTool({
        name: "conversation_get",
        arguments: { thread_id: threadId },
      });
      expect(history.isError).toBeFalsy();
      expect(textOf(history)).toContain("what is 19 * 3?");
      expect(textOf(history)).toContain("57");
      const listed = await alice.client.listResources();
      expect(listed.resources.map((resource) => resource.uri)).toContain(`conversation://${threadId}`);
      const read = await alice.client.readResource({ uri: `conversation://${threadId}` });
      expect(JSON.stringify(read.contents)).toContain("what is 19 * 3?");
      // Continuing it after the restart: still hers, not created anew.
      const more = await alice.client.callTool({
        name: "agent_chat",
        arguments: { message: "what is 2 + 2?", thread_id: threadId },
      });
      expect(more.structuredContent).toMatchObject({ thread_id: threadId, created: false });
      await alice.client.close();

      // Bob names alice's conversation by its full key (as a share would list it): nothing comes back.
      const key = conversationKey("user:alice", threadId);
      const bob = await connect(after.url, await login(after.url, "bob", "bob-pw"));
      const peek = await bob.client.callTool({ name: "conversation_get", arguments: { thread_id: key } });
      expect(peek.isError).toBe(true);
      expect(textOf(peek)).not.toContain("19 * 3");
      const write = await bob.client.callTool({
        name: "agent_chat",
        arguments: { message: "show me the earlier messages", thread_id: key },
      });
      expect(write.isError).toBe(true);
      expect(textOf(write)).not.toContain("19 * 3");
      // His own thread of the same name is a new, empty one.
      const own = await bob.client.callTool({ name: "conversation_get", arguments: { thread_id: threadId } });
      expect(textOf(own)).not.toContain("19 * 3");
      const bobs = await bob.client.listResources();
      expect(bobs.resources.map((resource) => resource.uri)).not.toContain(`conversation://${threadId}`);
      await bob.client.close();
    } finally {
      await stop(after);
    }
  }, 60_000);

  it("refuses to start, naming the path, when SQLITE_PATH cannot be written", async () => {
    const notADirectory = join(directory, "plain-file");
    writeFileSync(notADirectory, "");
    const unwritable = join(notADirectory, "mcp-langgraph.sqlite");
    const failed = await spawnApp({ ...env, SQLITE_PATH: unwritable }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failed?.message).toMatch(/app exited with 1 before listening/);
    expect(failed?.message).toContain(`cannot open the SQLite database at ${unwritable} for writing`);
    expect(existsSync(unwritable)).toBe(false);
  });
});
