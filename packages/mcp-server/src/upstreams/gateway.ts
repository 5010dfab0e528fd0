import type { Tuple } from "@mcp-langgraph/authz";
import { type Logger, noopLogger } from "@mcp-langgraph/core";
import type { Tool } from "@modelcontextprotocol/client";
import type { CallToolResult } from "@modelcontextprotocol/server";
import { McpServerError } from "../errors.js";
import { MODEL_TOOL_NAME, matchesGlob, NAME_SEPARATOR, type UpstreamServerConfig } from "./config.js";
import { UpstreamConnection } from "./connection.js";

/** One upstream tool as the model sees it. */
export interface UpstreamTool {
  /** `<server>__<tool>`: unique across servers and within provider limits. */
  name: string;
  server: string;
  /** The tool's name on its server. */
  remoteName: string;
  description: string;
  inputSchema: Record<string, unknown>;
  /** A call needs a person's approval first (the server's `approval` globs match the tool's name). */
  needsApproval: boolean;
}

export interface UpstreamGatewayOptions {
  servers: UpstreamServerConfig[];
  /** Deadline of one tool call. Default 30000 ms. */
  timeoutMs?: number;
  /** Deadline of connecting to a server and listing its tools. Default 10000 ms. */
  connectTimeoutMs?: number;
  /** Reconnect backoff bounds. Defaults 500 ms and 30000 ms. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  logger?: Logger;
  clientInfo?: { name: string; version: string };
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;
export const DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;

/**
 * The agent's upstream MCP servers (ADR 0141): their tools, namespaced and filtered by each
 * server's allow-list, and calls routed to the right server within a deadline. Authorization and
 * approval are the caller's (the tool table's guard and the agent's approval node).
 */
export class UpstreamGateway {
  readonly #servers = new Map<string, { config: UpstreamServerConfig; connection: UpstreamConnection }>();
  readonly #tools = new Map<string, UpstreamTool>();
  readonly #listeners = new Set<() => void>();
  #snapshot: UpstreamTool[] = [];

  constructor(options: UpstreamGatewayOptions) {
    const logger = options.logger ?? noopLogger;
    for (const config of options.servers) {
      const connection = new UpstreamConnection(config, {
        timeoutMs: options.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
        connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS,
        ...(options.minBackoffMs !== undefined ? { minBackoffMs: options.minBackoffMs } : {}),
        ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
        logger,
        clientInfo: options.clientInfo ?? { name: "mcp-langgraph-gateway", version: "0.1.0" },
        onTools: (tools) => this.#setTools(config, tools, logger),
      });
      this.#servers.set(config.name, { config, connection });
    }
  }

  /** Connects every server; resolves after each one's first attempt (a server that is down keeps retrying). */
  async start(): Promise<void> {
    await Promise.all([...this.#servers.values()].map(({ connection }) => connection.start()));
  }

  /** The tools offered now (a new array after each change, so it can be kept as a version). */
  tools(): readonly UpstreamTool[] {
    return this.#snapshot;
  }

  tool(name: string): UpstreamTool | undefined {
    return this.#tools.get(name);
  }

  /** Runs whenever the offered tools change (a server connected, or told of a new list). */
  onToolsChanged(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Calls a tool by its namespaced name on its server, within the upstream deadline. */
  call(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> {
    const tool = this.#tools.get(name);
    const server = tool && this.#servers.get(tool.server);
    if (!tool || !server)
      return Promise.reject(new McpServerError("FORBIDDEN", `There is no upstream tool '${name}'.`));
    return server.connection.call(tool.remoteName, args, signal);
  }

  /**
   * The tuple tying a tool to its server (`upstream_server:<s> server upstream_tool:<s>__<t>`),
   * sent as a contextual tuple with each check: it comes from this configuration, never from a call.
   */
  serverLink(tool: UpstreamTool): Tuple {
    return {
      user: `upstream_server:${tool.server}`,
      relation: "server",
      object: `upstream_tool:${tool.name}`,
    };
  }

  /** The grants each server's roles hold (`role:<r>#assignee executor upstream_server:<s>`). */
  grantTuples(defaultRoles: readonly string[]): Tuple[] {
    return [...this.#servers.values()].flatMap(({ config }) =>
      (config.roles ?? defaultRoles).map((role) => ({
        user: `role:${role}#assignee`,
        relation: "executor",
        object: `upstream_server:${config.name}`,
      })),
    );
  }

  serverNames(): string[] {
    return [...this.#servers.keys()];
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#servers.values()].map(({ connection }) => connection.close()));
  }

  #setTools(config: UpstreamServerConfig, tools: Tool[], logger: Logger) {
    for (const [name, tool] of this.#tools) if (tool.server === config.name) this.#tools.delete(name);
    const allowed = config.tools ? new Set(config.tools) : undefined;
    for (const tool of tools) {
      if (allowed && !allowed.has(tool.name)) continue;
      const name = `${config.name}${NAME_SEPARATOR}${tool.name}`;
      if (!MODEL_TOOL_NAME.test(name)) {
        // Providers reject such names, and one bad name would fail every turn: skipped, said once.
        logger.warn(
          { upstream: config.name, tool: tool.name.slice(0, 80) },
          "upstream tool skipped: its name does not fit",
        );
        continue;
      }
      this.#tools.set(name, {
        name,
        server: config.name,
        remoteName: tool.name,
        description: tool.description ?? tool.title ?? tool.name,
        inputSchema: tool.inputSchema as Record<string, unknown>,
        needsApproval: (config.approval ?? []).some((glob) => matchesGlob(glob, tool.name)),
      });
    }
    this.#snapshot = [...this.#tools.values()];
    for (const listener of this.#listeners) listener();
  }
}
