import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { conversationKey } from "@mcp-langgraph/mcp-server";
import { describe, expect, it } from "vitest";
import { connect, login, startTestServer, textOf } from "./helpers.ts";

describe("ROLE_MAPPING_FILE", () => {
  it("syncs relations derived from the caller's roles before authorizing their request", async () => {
    const dir = await mkdtemp(join(tmpdir(), "role-mapping-"));
    const file = join(dir, "role-mapping.yaml");
    // Thread ids are per user: a grant names the conversation by its key (owner + thread id).
    const auditLog = conversationKey("user:alice", "audit-log");
    await writeFile(
      file,
      [
        "rules:",
        "  - when: { role: auditor }",
        `    grant: { relation: viewer, object: "conversation:${auditLog}" }`,
        "",
      ].join("\n"),
    );
    const server = await startTestServer({
      ROLE_MAPPING_FILE: file,
      LOCAL_USERS: "alice:alice-pw:user,carol:carol-pw:user|auditor,bob:bob-pw:user",
    });
    try {
      const alice = await connect(server.url, await login(server.url, "alice", "alice-pw"));
      await alice.client.callTool({
        name: "agent_chat",
        arguments: { message: "quarterly audit notes", thread_id: "audit-log" },
      });
      const carol = await connect(server.url, await login(server.url, "carol", "carol-pw"));
      const bob = await connect(server.url, await login(server.url, "bob", "bob-pw"));
      const auditor = await carol.client.callTool({
        name: "conversation_get",
        arguments: { thread_id: auditLog },
      });
      expect(textOf(auditor)).toContain("quarterly audit notes");
      // The conversation shared with her is listed under its key.
      const listed = await carol.client.listResources();
      expect(listed.resources.map((resource) => resource.uri)).toEqual([`conversation://${auditLog}`]);
      const other = await bob.client.callTool({
        name: "conversation_get",
        arguments: { thread_id: auditLog },
      });
      expect(other.isError).toBe(true);
      await Promise.all([alice.client.close(), carol.client.close(), bob.client.close()]);
    } finally {
      await server.close();
    }
  });

  it("stops start-up on an invalid rule file, naming the problem", async () => {
    const dir = await mkdtemp(join(tmpdir(), "role-mapping-"));
    const file = join(dir, "bad.yaml");
    await writeFile(file, "rules:\n  - when: { role: auditor }\n");
    await expect(startTestServer({ ROLE_MAPPING_FILE: file })).rejects.toThrow(/grant/);
  });
});
