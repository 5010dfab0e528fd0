import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// Regression (issue 13): LOCAL_SIGNING_KEY and SESSION_KEY_PREFIX were read but not documented.
// The README's configuration tables and the config modules must name the same variables.

const repo = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8");

/** Keys of the zod object schemas (and the config record interface) in a config module's source. */
function variablesIn(source: string): string[] {
  return [...source.matchAll(/^\s+([A-Z][A-Z0-9_]+)\??:/gm)].map((match) => match[1] as string);
}

/** The LangSmith switches settings.ts reads through agent-graph's LANGSMITH_TRACING_VARIABLES list. */
function tracingVariables(source: string): string[] {
  const list = /LANGSMITH_TRACING_VARIABLES = \[([^\]]*)\]/.exec(source)?.[1] ?? "";
  return [...list.matchAll(/"([A-Z][A-Z0-9_]+)"/g)].map((match) => match[1] as string);
}

/** Variables named in the first column of each table under `### <heading>` in README's Configuration. */
function documented(heading: string): string[] {
  const readme = repo("README.md");
  const configuration = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Layout"));
  const start = configuration.indexOf(`### ${heading}`);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const section = configuration.slice(start).split(/\n### /)[0] ?? "";
  return section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .flatMap((line) =>
      [...(line.split("|")[1] ?? "").matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1] as string),
    );
}

const duplicates = (names: string[]) => names.filter((name, index) => names.indexOf(name) !== index);
const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

/** An app's variables: its config module's own, and the shared MCP_TASK_* limits where it spreads them. */
const taskLimits = variablesIn(repo("packages/mcp-server/src/tasks/task-limit-variables.ts"));
function appVariables(path: string): string[] {
  const source = repo(path);
  return [...variablesIn(source), ...(source.includes("...TASK_LIMIT_VARIABLES,") ? taskLimits : [])];
}

const httpApp = appVariables("apps/mcp-http/src/config.ts");
const stdioApp = appVariables("apps/mcp-stdio/src/config.ts");
const secrets = variablesIn(repo("packages/secrets/src/config.ts"));
const services = [
  ...variablesIn(repo("packages/mcp-server/src/settings.ts")),
  ...variablesIn(repo("packages/llm-factory/src/config.ts")),
  ...tracingVariables(repo("packages/agent-graph/src/run-context.ts")),
];

describe("README configuration tables", () => {
  it("the config modules were read (the extraction is not vacuous)", () => {
    expect(httpApp).toEqual(expect.arrayContaining(["PORT", "LOCAL_SIGNING_KEY", "SESSION_KEY_PREFIX"]));
    expect(stdioApp).toEqual(expect.arrayContaining(["MCP_TOKEN"]));
    expect(taskLimits).toEqual(expect.arrayContaining(["MCP_TASK_MAX_PER_USER", "MCP_TASK_MAX_TTL_MS"]));
    expect(secrets).toEqual(expect.arrayContaining(["INFISICAL_CLIENT_ID", "SECRET_FILE_MAX_BYTES"]));
    expect(services).toEqual(
      expect.arrayContaining(["TOOL_ROLES", "OPENAI_API_KEY", "AGENT_TURN_TIMEOUT_MS"]),
    );
  });

  it("document every variable the HTTP app reads, and no other", () => {
    expect(sorted(documented("HTTP app"))).toEqual(sorted(httpApp));
  });

  it("document every variable the services read (both apps), and no other", () => {
    expect(sorted(documented("Services"))).toEqual(sorted(services));
  });

  it("document every variable the secrets resolution reads (both apps), and no other", () => {
    expect(sorted(documented("Secrets"))).toEqual(sorted(secrets));
  });

  it("document every variable the stdio binary reads, and no other", () => {
    expect(sorted(documented("stdio binary"))).toEqual(sorted(stdioApp));
  });

  it("list each variable once per app", () => {
    const shared = [...documented("Services"), ...documented("Secrets")];
    expect(duplicates([...documented("HTTP app"), ...shared])).toEqual([]);
    expect(duplicates([...documented("stdio binary"), ...shared])).toEqual([]);
  });
});
