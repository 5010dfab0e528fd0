import { randomBytes } from "node:crypto";
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
