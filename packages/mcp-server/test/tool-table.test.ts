import { createAuthorizer, loadProjectModel } from "@mcp-langgraph/authz";
import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ToolAccess } from "../src/access.ts";
import { McpServerError } from "../src/errors.ts";
import { defineTool, guardedCall, registerToolTable } from "../src/tool-table.ts";
import { principal } from "./helpers/principal.ts";

async function accessGranting(role: string, object: string) {
  const authorizer = await createAuthorizer({ backend: "embedded", model: await loadProjectModel() });
  await authorizer.writeTuples([{ user: `role:${role}#assignee`, relation: "executor", object }]);
  return new ToolAccess(authorizer);
}

describe("guardedCall", () => {
  it("runs the handler for an authorized caller and passes its result through", async () => {
    const access = await accessGranting("user", "tool:echo");
    const result = await guardedCall(
      { access, reportFailure: () => {} },
      {
        tool: "echo",
        object: { name: "echo", object: "tool:echo", relation: "executor" },
        principal: () => principal("alice", ["user"]),
        signal: new AbortController().signal,
        metered: false,
        handler: async (who) => ({ content: [{ type: "text", text: who.username }] }),
      },
    );
    expect(result).toEqual({ content: [{ type: "text", text: "alice" }] });
  });

  it("never runs the handler of a refused caller and reports FORBIDDEN to the failure hook", async () => {
    const access = await accessGranting("admin", "tool:echo");
    let ran = false;
    const codes: string[] = [];
    const result = await guardedCall(
      { access, reportFailure: () => {} },
      {
        tool: "echo",
        object: { name: "echo", object: "tool:echo", relation: "executor" },
        principal: () => principal("carol", ["guest"]),
        signal: new AbortController().signal,
        metered: false,
        handler: async () => {
          ran = true;
          return { content: [] };
        },
        failed: (code) => {
          codes.push(code);
        },
      },
    );
    expect(ran).toBe(false);
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toEqual({
      error: { code: "FORBIDDEN", message: "You are not allowed to execute the tool 'echo'." },
    });
    expect(codes).toEqual(["FORBIDDEN"]);
  });

  it("maps an unexpected failure to INTERNAL with a generic message and reports it to the operator", async () => {
    const access = await accessGranting("user", "tool:echo");
    const reported: unknown[] = [];
    const result = await guardedCall(
      { access, reportFailure: (_tool, error) => reported.push(error) },
      {
        tool: "echo",
        object: { name: "echo", object: "tool:echo", relation: "executor" },
        principal: () => principal("alice", ["user"]),
        signal: new AbortController().signal,
        metered: false,
        handler: async () => {
          throw new Error("secret internals");
        },
      },
    );
    expect(result.content).toEqual([{ type: "text", text: "The tool 'echo' failed unexpectedly." }]);
    expect(reported).toHaveLength(1);
  });
});

describe("registerToolTable", () => {
  it("registers each declared tool once, behind the same guard", async () => {
    const access = await accessGranting("user", "tool:shout");
    const server = new McpServer({ name: "t", version: "1" }, { capabilities: { tools: {} } });
    const failures: string[] = [];
    registerToolTable(
      server,
      [
        defineTool({
          name: "shout",
          title: "Shout",
          description: "Upper-cases text",
          inputSchema: z.object({ text: z.string() }),
          annotations: { readOnlyHint: true },
          relation: "executor",
          async handler({ text }, call) {
            call.onFailure((code) => {
              failures.push(code);
            });
            if (text === "fail") throw new McpServerError("FORBIDDEN", "no failing allowed");
            return { content: [{ type: "text", text: text.toUpperCase() }] };
          },
        }),
      ],
      { access, reportFailure: () => {}, principalOf: () => principal("alice", ["user"]) },
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: "c", version: "1" });
    await client.connect(clientSide);
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(["shout"]);
      expect(await client.callTool({ name: "shout", arguments: { text: "hi" } })).toMatchObject({
        content: [{ type: "text", text: "HI" }],
      });
      const failed = await client.callTool({ name: "shout", arguments: { text: "fail" } });
      expect(failed.isError).toBe(true);
      expect(failures).toEqual(["FORBIDDEN"]);
    } finally {
      await client.close();
    }
  });
});
