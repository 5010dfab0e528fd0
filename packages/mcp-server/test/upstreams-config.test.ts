import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadUpstreamsFile, matchesGlob, parseUpstreams, UpstreamGateway } from "../src/index.ts";

const messageOf = (action: () => unknown): string => {
  try {
    action();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error("did not throw");
};

describe("parseUpstreams", () => {
  it("reads stdio and HTTP servers with their options", () => {
    const servers = parseUpstreams(
      [
        "servers:",
        "  - { name: files, command: node, args: [server.js], env: { A: b }, approval: ['delete_*'] }",
        "  - { name: tickets, url: 'https://t.example/mcp', headers: { x-key: k }, roles: [admin], tools: [open] }",
      ].join("\n"),
    );
    expect(servers).toEqual([
      {
        name: "files",
        approval: ["delete_*"],
        transport: "stdio",
        command: "node",
        args: ["server.js"],
        env: { A: "b" },
      },
      {
        name: "tickets",
        tools: ["open"],
        roles: ["admin"],
        transport: "http",
        url: "https://t.example/mcp",
        headers: { "x-key": "k" },
      },
    ]);
  });

  it.each([
    ["servers: [{ name: a, url: 'ftp://x' }]", "servers.0.url"],
    ["servers: [{ name: a }]", "servers.0: give either command (stdio) or url (HTTP)"],
    ["servers: [{ name: a, command: x, url: 'http://x' }]", "servers.0: give either command"],
    ["servers: [{ name: a__b, command: x }]", "servers.0.name"],
    ["servers: [{ name: a, command: x }, { name: a, command: y }]", "servers.1.name: 'a' is used twice"],
    ["servers: [{ name: a, command: x, headers: { k: v } }]", "servers.0.headers: only for an HTTP server"],
    ["servers: [{ name: a, url: 'http://x', args: [y] }]", "servers.0.args: only for a stdio server"],
    ["servers: [{ name: a, command: x, approval: ['rm -rf'] }]", "servers.0.approval.0"],
    ["servers: [{ name: a, command: x, roles: ['bad role'] }]", "servers.0.roles.0"],
    ["servers: [{ name: a, command: x, colour: blue }]", "servers.0"],
    ["services: []", "servers"],
  ])("refuses %s naming the bad field", (source, field) => {
    expect(messageOf(() => parseUpstreams(source))).toContain(field);
  });

  it("never echoes a value (headers and env may hold secrets)", () => {
    const message = messageOf(() =>
      parseUpstreams("servers: [{ name: a, url: 'http://x', headers: { 'bad header': 'sk-secret' } }]"),
    );
    expect(message).toContain("servers.0.headers");
    expect(message).not.toContain("sk-secret");
  });

  it("reads JSON by extension and names the file in its errors", async () => {
    const dir = await mkdtemp(join(tmpdir(), "upstreams-config-"));
    try {
      const good = join(dir, "up.json");
      await writeFile(good, JSON.stringify({ servers: [{ name: "a", url: "http://127.0.0.1:1/mcp" }] }));
      expect(await loadUpstreamsFile(good)).toHaveLength(1);
      const bad = join(dir, "bad.yaml");
      await writeFile(bad, "servers: [{ name: a }]");
      await expect(loadUpstreamsFile(bad)).rejects.toThrow(`MCP_UPSTREAMS_FILE ${bad}: servers.0`);
      await expect(loadUpstreamsFile(join(dir, "missing.yaml"))).rejects.toThrow("cannot be read");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("matchesGlob", () => {
  it("matches * as any run and everything else literally", () => {
    expect(matchesGlob("delete_*", "delete_file")).toBe(true);
    expect(matchesGlob("delete_*", "undelete_file")).toBe(false);
    expect(matchesGlob("*", "anything")).toBe(true);
    expect(matchesGlob("a.b", "axb")).toBe(false);
  });
});

describe("UpstreamGateway", () => {
  it("grants each server's roles, TOOL_ROLES by default", () => {
    const gateway = new UpstreamGateway({
      servers: parseUpstreams(
        "servers: [{ name: a, url: 'http://127.0.0.1:1/mcp' }, { name: b, url: 'http://127.0.0.1:1/mcp', roles: [admin] }]",
      ),
    });
    expect(gateway.grantTuples(["user"])).toEqual([
      { user: "role:user#assignee", relation: "executor", object: "upstream_server:a" },
      { user: "role:admin#assignee", relation: "executor", object: "upstream_server:b" },
    ]);
  });

  it("refuses a call of a tool it does not know", async () => {
    const gateway = new UpstreamGateway({ servers: [] });
    await expect(gateway.call("a__b", {}, new AbortController().signal)).rejects.toThrow(
      "There is no upstream tool",
    );
  });
});
