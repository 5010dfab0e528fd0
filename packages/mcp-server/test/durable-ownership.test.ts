import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireService } from "@mcp-langgraph/tooling/integration";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  AGENT_TOOL_NAMES,
  createMcpServices,
  isMcpServerError,
  type McpServiceSettings,
  type RunningMcpServices,
} from "../src/index.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const postgresUp = await requireService({ name: "PostgreSQL", url: DATABASE_URL });

describe("ownership as durable as the conversations", () => {
  it("refuses Postgres conversations with in-memory ownership, naming the fix", async () => {
    let error: unknown;
    try {
      await createMcpServices({
        authorizer: { backend: "embedded" },
        model: {},
        checkpointer: { backend: "postgres", connectionString: DATABASE_URL },
      });
    } catch (caught) {
      error = caught;
    }
    expect(isMcpServerError(error) && error.code).toBe("CONFIG_INVALID");
    expect((error as Error).message).toMatch(/Postgres tuple storage.*AUTHZ_BACKEND=openfga/);
  });

  it("refuses SQLite conversations with in-memory ownership, naming the fix", async () => {
    const directory = mkdtempSync(join(tmpdir(), "services-sqlite-"));
    let error: unknown;
    try {
      await createMcpServices({
        authorizer: { backend: "embedded" },
        model: {},
        checkpointer: { backend: "sqlite", path: join(directory, "state.sqlite") },
      });
    } catch (caught) {
      error = caught;
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
    expect(isMcpServerError(error) && error.code).toBe("CONFIG_INVALID");
    expect((error as Error).message).toMatch(/SQLite tuple storage.*AUTHZ_BACKEND=openfga/);
  });

  it("refuses Postgres conversations with node-local SQLite ownership", async () => {
    let error: unknown;
    try {
      await createMcpServices({
        authorizer: { backend: "embedded", storage: { backend: "sqlite", path: "./never-opened.sqlite" } },
        model: {},
        checkpointer: { backend: "postgres", connectionString: DATABASE_URL },
      });
    } catch (caught) {
      error = caught;
    }
    expect(isMcpServerError(error) && error.code).toBe("CONFIG_INVALID");
  });

  describe("with SQLite conversations and tuple storage in one file", () => {
    const directory = mkdtempSync(join(tmpdir(), "services-sqlite-"));
    const path = join(directory, "state.sqlite");
    afterAll(() => rmSync(directory, { recursive: true, force: true }));
    const settings: McpServiceSettings = {
      authorizer: { backend: "embedded", storage: { backend: "sqlite", path } },
      model: {},
      checkpointer: { backend: "sqlite", path },
    };

    it("keeps a conversation and its owner across a restart of the services", async () => {
      const owner = { user: "user:alice", relation: "owner", object: "conversation:alice/t1" };
      const first = await createMcpServices(settings);
      try {
        expect((await first.authorizer.claimTuple(owner)).claimed).toBe(true);
        await first.agent.chat({ threadId: "alice/t1", message: "what is 6*7?" });
      } finally {
        await first.close();
      }
      const second = await createMcpServices(settings);
      try {
        expect(await second.authorizer.check(owner)).toBe(true);
        expect(await second.authorizer.check({ ...owner, user: "user:bob" })).toBe(false);
        expect((await second.agent.getConversation("alice/t1"))?.at(-1)?.content).toContain("42");
        expect(await second.probes.checkpointer(AbortSignal.timeout(1_000))).toBe(true);
      } finally {
        await second.close();
      }
    });
  });

  describe.skipIf(!postgresUp)("with Postgres tuple storage", () => {
    const table = `authz_services_test_${randomBytes(6).toString("hex")}`;
    afterAll(async () => {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`DROP TABLE IF EXISTS "${table}", "${table}_changes", "${table}_version"`);
      await client.end();
    });
    const settings = (toolRoles: string[]): McpServiceSettings => ({
      authorizer: {
        backend: "embedded",
        storage: { backend: "postgres", connectionString: DATABASE_URL, table, poolSize: 2 },
      },
      model: {},
      checkpointer: { backend: "postgres", connectionString: DATABASE_URL, poolSize: 2 },
      toolRoles,
    });
    const mayRun = (services: RunningMcpServices, role: string) =>
      services.authorizer.check({
        user: "user:zed",
        relation: "executor",
        object: `tool:${AGENT_TOOL_NAMES[0]}`,
        contextualTuples: [{ user: "user:zed", relation: "assignee", object: `role:${role}` }],
      });

    it("drops the grants of a role removed from the tool roles, though tuples now outlive the process", async () => {
      const first = await createMcpServices(settings(["user", "admin"]));
      try {
        expect(await mayRun(first, "admin")).toBe(true);
      } finally {
        await first.close();
      }
      const second = await createMcpServices(settings(["user"]));
      try {
        expect(await mayRun(second, "user")).toBe(true);
        expect(await mayRun(second, "admin")).toBe(false);
      } finally {
        await second.close();
      }
    });
  });
});
