import { Client } from "@modelcontextprotocol/client";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { cacheToolList } from "../src/tool-list-cache.ts";

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

function serverWithOneTool() {
  const server = new McpServer({ name: "t", version: "1" }, { capabilities: { tools: {} } });
  const echo = server.registerTool(
    "echo",
    {
      description: "Echoes",
      inputSchema: z.object({ text: z.string().max(10) }),
      outputSchema: z.object({ text: z.string() }),
    },
    async ({ text }) => ({ content: [{ type: "text", text }], structuredContent: { text } }),
  );
  return { server, echo };
}

async function connect(server: McpServer): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "test", version: "1" });
  await client.connect(clientSide);
  clients.push(client);
  return client;
}

describe("cacheToolList", () => {
  it("answers tools/list exactly as the SDK does, call after call", async () => {
    const plain = await connect(serverWithOneTool().server);
    const cachedServer = serverWithOneTool().server;
    cacheToolList(cachedServer);
    const cached = await connect(cachedServer);
    const expected = await plain.listTools();
    expect(await cached.listTools()).toEqual(expected);
    expect(await cached.listTools()).toEqual(expected);
  });

  it("shows tools added, disabled, changed and removed after the first listing", async () => {
    const { server, echo } = serverWithOneTool();
    cacheToolList(server);
    const client = await connect(server);
    const names = async () => (await client.listTools()).tools.map((tool) => tool.name);
    expect(await names()).toEqual(["echo"]);

    server.registerTool("later", { description: "Added later" }, async () => ({ content: [] }));
    expect(await names()).toEqual(["echo", "later"]);
    echo.disable();
    expect(await names()).toEqual(["later"]);
    echo.enable();
    echo.update({ description: "Changed" });
    expect((await client.listTools()).tools.find((tool) => tool.name === "echo")?.description).toBe(
      "Changed",
    );
    echo.remove();
    expect(await names()).toEqual(["later"]);
  });

  it("still validates every tools/list request, with the SDK's own answer", async () => {
    const malformed = { method: "tools/list", params: { cursor: 42 as unknown as string } } as const;
    const failureOf = (client: Client) =>
      client.request(malformed).then(
        () => undefined,
        (failure: { code?: unknown; message?: unknown }) => ({
          code: failure.code,
          message: failure.message,
        }),
      );
    const plain = await connect(serverWithOneTool().server);
    const cachedServer = serverWithOneTool().server;
    cacheToolList(cachedServer);
    const cached = await connect(cachedServer);
    await cached.listTools();
    const expected = await failureOf(plain);
    expect(expected).toBeDefined();
    expect(await failureOf(cached)).toEqual(expected);
  });
});
