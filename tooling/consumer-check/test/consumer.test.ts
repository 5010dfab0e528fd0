import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "@mcp-langgraph/tooling/testing";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXPECTED_EXPORTS, NOT_IN_MAIN } from "./expected-exports.ts";
import { exportTargets, type PackedPackage, pack, referencedFiles, workspaceRanges } from "./tarball.ts";
import { publishablePackages } from "./workspace.ts";

// Outside the workspace, so nothing resolves through pnpm's links or the repository's .npmrc.
const work = mkdtempSync(join(tmpdir(), "mcp-langgraph-consumer-"));
const project = join(work, "project");
const packages = publishablePackages();
const packed = new Map<string, PackedPackage>();

beforeAll(async () => {
  for (const { dir } of packages) {
    const result = await pack(dir, work);
    packed.set(result.name, result);
  }
  const dependencies = Object.fromEntries([...packed.values()].map((p) => [p.name, `file:${p.tarball}`]));
  const manifest = { name: "consumer", private: true, type: "module", dependencies };
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, "package.json"), JSON.stringify(manifest, null, 2));
  // npm, not pnpm: what most users run. Peers (LangChain, the MCP SDK) come from the registry.
  const install = await runCommand("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: project,
    timeoutMs: 900_000,
  });
  if (install.code !== 0)
    throw new Error(`npm install of the tarballs failed\n${install.stdout}\n${install.stderr}`);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** Imports each specifier in a plain Node ESM process inside the consumer project; returns export names. */
async function importInNode(specifiers: string[]): Promise<Record<string, string[]>> {
  const script = `
    const names = {};
    for (const specifier of ${JSON.stringify(specifiers)}) names[specifier] = Object.keys(await import(specifier));
    process.stdout.write(JSON.stringify(names));`;
  const result = await runCommand("node", ["--input-type=module", "-e", script], {
    cwd: project,
    timeoutMs: 120_000,
  });
  if (result.code !== 0) throw new Error(`importing the packages failed\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

describe.each(packages.map((p) => [p.name] as const))("published %s", (name) => {
  const manifestOf = () => packed.get(name)?.manifest ?? {};

  it("ships every file its manifest references (exports, main, types, bin)", () => {
    const files = packed.get(name)?.files ?? new Set();
    const missing = referencedFiles(manifestOf()).filter((file) => !files.has(file));
    expect(missing).toEqual([]);
  });

  it("has no workspace: dependency ranges", () => {
    expect(workspaceRanges(manifestOf())).toEqual([]);
  });

  it("has no export condition pointing at TypeScript sources", () => {
    const sources = exportTargets(manifestOf().exports).filter(
      ([, target]) => /\.(c|m)?ts$/.test(target) && !/\.d\.(c|m)?ts$/.test(target),
    );
    expect(sources.map(([conditions, target]) => `${conditions.join(".")} -> ${target}`)).toEqual([]);
  });
});

describe("importing the installed packages in Node", () => {
  it("loads every export subpath of every package, each with its named exports", async () => {
    const specifiers = [...packed.values()].flatMap(({ name, manifest }) =>
      Object.keys((manifest.exports as Record<string, unknown> | undefined) ?? {})
        .filter((subpath) => subpath !== "./package.json")
        .map((subpath) => (subpath === "." ? name : `${name}/${subpath.slice(2)}`)),
    );
    expect(specifiers.sort()).toEqual(Object.keys(EXPECTED_EXPORTS).sort());
    const names = await importInNode(specifiers);
    for (const [specifier, expected] of Object.entries(EXPECTED_EXPORTS)) {
      expect(names[specifier], specifier).toEqual(expect.arrayContaining(expected));
    }
    for (const [specifier, absent] of Object.entries(NOT_IN_MAIN)) {
      expect(
        names[specifier]?.filter((name) => absent.includes(name)),
        specifier,
      ).toEqual([]);
    }
  });

  it("runs the OpenFGA dev server binary", async () => {
    const result = await runCommand(
      join(project, "node_modules", ".bin", "mcp-langgraph-fga-dev"),
      ["--help"],
      {
        cwd: project,
        timeoutMs: 60_000,
      },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("OpenFGA's HTTP API");
  });

  it("runs the stdio binary under a real MCP client", async () => {
    const transport = new StdioClientTransport({
      command: join(project, "node_modules", ".bin", "mcp-langgraph-stdio"),
      cwd: project,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? project },
      stderr: "ignore",
    });
    const client = new Client({ name: "consumer-check", version: "1" });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools(undefined, { signal: AbortSignal.timeout(60_000) });
      expect(tools.map((tool) => tool.name)).toContain("agent_chat");
    } finally {
      await client.close();
    }
  });
});
