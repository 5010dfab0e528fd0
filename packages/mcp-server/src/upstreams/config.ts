import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { McpServerError } from "../errors.js";

/**
 * One server name and one tool name joined by `__` form the name the model sees. Server names may
 * not contain `__`, so the split is unambiguous and two servers' tools can never share a name.
 */
export const NAME_SEPARATOR = "__";
/** The strictest common limit of the providers' function names (OpenAI: `^[a-zA-Z0-9_-]{1,64}$`). */
export const MODEL_TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SERVER_NAME = /^[A-Za-z0-9-]+(?:_[A-Za-z0-9-]+)*$/;
const ROLE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Globs: letters, digits, `_ - .` and `*` (any run of characters). */
const GLOB = /^[A-Za-z0-9_.*-]{1,128}$/;

const common = {
  name: z
    .string()
    .min(1)
    .max(32)
    .regex(SERVER_NAME, "letters, digits, '-' and single '_' (no '__'), at most 32"),
  /** Only these of the server's tools are offered (default: all). */
  tools: z.array(z.string().min(1).max(128)).max(1_000).optional(),
  /** Tools matching any of these globs need a person's approval before each call. */
  approval: z.array(z.string().regex(GLOB, "a glob of letters, digits, '_ - .' and '*'")).max(100).optional(),
  /** Roles allowed to use this server's tools (default: TOOL_ROLES). */
  roles: z
    .array(z.string().regex(ROLE_NAME, "role names are letters, digits and _ . : -"))
    .max(32)
    .optional(),
};

const serverSchema = z
  .strictObject({
    ...common,
    command: z.string().min(1).max(4_096).optional(),
    args: z.array(z.string().max(4_096)).max(256).optional(),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name"), z.string())
      .optional(),
    cwd: z.string().min(1).optional(),
    url: z.url({ protocol: /^https?$/ }).optional(),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,128}$/, "a header name"), z.string()).optional(),
  })
  .superRefine((server, ctx) => {
    const stdio = server.command !== undefined;
    const http = server.url !== undefined;
    if (stdio === http)
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "give either command (stdio) or url (HTTP), not both",
      });
    for (const field of ["args", "env", "cwd"] as const)
      if (http && server[field] !== undefined)
        ctx.addIssue({ code: "custom", path: [field], message: "only for a stdio server (with command)" });
    if (stdio && server.headers !== undefined)
      ctx.addIssue({ code: "custom", path: ["headers"], message: "only for an HTTP server (with url)" });
  });

const documentSchema = z.strictObject({
  servers: z
    .array(serverSchema)
    .max(100)
    .superRefine((servers, ctx) => {
      const seen = new Set<string>();
      servers.forEach((server, index) => {
        if (seen.has(server.name))
          ctx.addIssue({ code: "custom", path: [index, "name"], message: `'${server.name}' is used twice` });
        seen.add(server.name);
      });
    }),
});

interface UpstreamCommon {
  name: string;
  tools?: string[];
  approval?: string[];
  roles?: string[];
}
export type UpstreamServerConfig = UpstreamCommon &
  (
    | { transport: "stdio"; command: string; args: string[]; env: Record<string, string>; cwd?: string }
    | { transport: "http"; url: string; headers: Record<string, string> }
  );

/**
 * Parses an upstreams document (`servers: [{ name, command, args, env } | { name, url, headers }]`,
 * each with optional `tools`, `approval`, `roles`). Throws CONFIG_INVALID naming every bad field by
 * its path (e.g. `servers.1.url`); never echoes values, which may be secrets (headers, env).
 */
export function parseUpstreams(source: string, format: "json" | "yaml" = "yaml"): UpstreamServerConfig[] {
  let document: unknown;
  try {
    document = format === "json" ? JSON.parse(source) : parseYaml(source);
  } catch (error) {
    throw new McpServerError(
      "CONFIG_INVALID",
      `not valid ${format.toUpperCase()}: ${error instanceof Error ? error.message.split("\n")[0] : "parse error"}`,
    );
  }
  const parsed = documentSchema.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${["", ...issue.path].join(".").slice(1) || "document"}: ${issue.message}`,
    );
    throw new McpServerError("CONFIG_INVALID", problems.join("; "));
  }
  return parsed.data.servers.map(({ name, tools, approval, roles, ...rest }) => ({
    name,
    ...(tools ? { tools } : {}),
    ...(approval ? { approval } : {}),
    ...(roles ? { roles } : {}),
    ...(rest.command !== undefined
      ? {
          transport: "stdio" as const,
          command: rest.command,
          args: rest.args ?? [],
          env: rest.env ?? {},
          ...(rest.cwd ? { cwd: rest.cwd } : {}),
        }
      : { transport: "http" as const, url: rest.url ?? "", headers: rest.headers ?? {} }),
  }));
}

/** Reads and validates an upstreams file (JSON when it ends in .json, YAML otherwise); errors name the file. */
export async function loadUpstreamsFile(
  path: string,
  { signal }: { signal?: AbortSignal } = {},
): Promise<UpstreamServerConfig[]> {
  let source: string;
  try {
    source = await readFile(path, { encoding: "utf8", ...(signal ? { signal } : {}) });
  } catch (cause) {
    throw new McpServerError("CONFIG_INVALID", `MCP_UPSTREAMS_FILE ${path} cannot be read`, { cause });
  }
  try {
    return parseUpstreams(source, path.endsWith(".json") ? "json" : "yaml");
  } catch (error) {
    throw new McpServerError(
      "CONFIG_INVALID",
      `MCP_UPSTREAMS_FILE ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Whether `name` matches the glob (`*` is any run of characters, everything else literal). */
export function matchesGlob(glob: string, name: string): boolean {
  const pattern = glob
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${pattern}$`).test(name);
}
