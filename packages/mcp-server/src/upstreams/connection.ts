import type { Logger } from "@mcp-langgraph/core";
import { Client, StreamableHTTPClientTransport, type Tool } from "@modelcontextprotocol/client";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import type { CallToolResult } from "@modelcontextprotocol/server";
import { McpServerError } from "../errors.js";
import type { UpstreamServerConfig } from "./config.js";

export interface UpstreamConnectionOptions {
  /** Deadline of one tool call (MCP_UPSTREAM_TIMEOUT_MS). */
  timeoutMs: number;
  /** Deadline of connecting and listing tools (MCP_UPSTREAM_CONNECT_TIMEOUT_MS): a stdio server starts a process first. */
  connectTimeoutMs: number;
  /** First reconnect delay; doubles per failed attempt up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  logger: Logger;
  /** Told whenever the server's tool list is (re)read. */
  onTools: (tools: Tool[]) => void;
  clientInfo: { name: string; version: string };
}

/**
 * One upstream MCP server, through the official client (stdio or Streamable HTTP). Connects in the
 * background and reconnects with exponential backoff when the transport closes or a call finds it
 * gone; lists tools on connect and on `notifications/tools/list_changed`. Never passes on anything
 * of the caller: the transport carries only what the configuration says.
 */
export class UpstreamConnection {
  readonly #config: UpstreamServerConfig;
  readonly #options: Required<Omit<UpstreamConnectionOptions, "logger" | "onTools" | "clientInfo">> &
    UpstreamConnectionOptions;
  #client: Client | undefined;
  #connecting: Promise<void> | undefined;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(config: UpstreamServerConfig, options: UpstreamConnectionOptions) {
    this.#config = config;
    this.#options = { minBackoffMs: 500, maxBackoffMs: 30_000, ...options };
  }

  get name(): string {
    return this.#config.name;
  }

  /** Whether the server is connected now. */
  get connected(): boolean {
    return this.#client !== undefined;
  }

  /** Starts connecting; resolves after the first attempt (success or not), never rejects. */
  start(): Promise<void> {
    return this.#connect();
  }

  async call(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> {
    const client = this.#client;
    if (!client) {
      this.#scheduleReconnect(0);
      throw new McpServerError(
        "UPSTREAM_UNAVAILABLE",
        `The upstream server '${this.name}' is not reachable right now; please retry later.`,
      );
    }
    const { timeoutMs } = this.#options;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      return (await client.callTool(
        { name: tool, arguments: args },
        { signal: AbortSignal.any([signal, deadline]), timeout: timeoutMs },
      )) as CallToolResult;
    } catch (error) {
      signal.throwIfAborted();
      if (deadline.aborted || isTimeout(error))
        throw new McpServerError(
          "UPSTREAM_TIMEOUT",
          `The upstream server '${this.name}' did not answer within ${timeoutMs} ms.`,
          { cause: error },
        );
      // A protocol error is the upstream's answer; anything else means the connection is gone.
      if (!isProtocolError(error)) this.#lost(client);
      throw new McpServerError(
        "UPSTREAM_UNAVAILABLE",
        `The upstream server '${this.name}' failed the call.`,
        {
          cause: error,
        },
      );
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => {});
  }

  #connect(): Promise<void> {
    this.#connecting ??= this.#attempt().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #attempt(): Promise<void> {
    if (this.#closed || this.#client) return;
    const { connectTimeoutMs: timeoutMs, logger } = this.#options;
    const client = new Client(this.#options.clientInfo, {
      listChanged: {
        tools: {
          onChanged: (error, tools) => {
            if (error)
              logger.warn({ upstream: this.name, err: error.message }, "upstream tool list refresh failed");
            else if (tools && this.#client === client) this.#options.onTools(tools);
          },
        },
      },
    });
    try {
      const signal = AbortSignal.timeout(timeoutMs);
      await client.connect(this.#transport(), { signal, timeout: timeoutMs });
      const { tools } = await client.listTools({}, { signal, timeout: timeoutMs });
      if (this.#closed) {
        await client.close().catch(() => {});
        return;
      }
      client.onclose = () => this.#lost(client);
      this.#client = client;
      this.#failures = 0;
      this.#options.onTools(tools);
      logger.info({ upstream: this.name, tools: tools.length }, "upstream MCP server connected");
    } catch (error) {
      await client.close().catch(() => {});
      this.#failures++;
      logger.warn(
        {
          upstream: this.name,
          attempt: this.#failures,
          err: error instanceof Error ? error.message : "failed",
        },
        "upstream MCP server unreachable; retrying with backoff",
      );
      this.#scheduleReconnect(this.#backoffMs());
    }
  }

  #transport() {
    const config = this.#config;
    if (config.transport === "stdio")
      // Only the default variables (PATH, HOME, ...) and the configured ones: never the app's secrets.
      return new StdioClientTransport({
        command: config.command,
        args: config.args,
        env: { ...getDefaultEnvironment(), ...config.env },
        ...(config.cwd ? { cwd: config.cwd } : {}),
        stderr: "ignore",
      });
    return new StreamableHTTPClientTransport(new URL(config.url), {
      requestInit: { headers: config.headers },
    });
  }

  #lost(client: Client) {
    if (this.#client !== client) return;
    // The last known tools stay offered: a call while the server is down tells the model so.
    this.#client = undefined;
    void client.close().catch(() => {});
    this.#options.logger.warn({ upstream: this.name }, "upstream MCP server connection lost; reconnecting");
    this.#scheduleReconnect(this.#backoffMs());
  }

  #backoffMs(): number {
    const { minBackoffMs, maxBackoffMs } = this.#options;
    const base = Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(this.#failures, 16));
    // Jitter, so many instances do not all knock at the same moment.
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  #scheduleReconnect(delayMs: number) {
    if (this.#closed || this.#timer || this.#connecting) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#connect();
    }, delayMs);
    this.#timer.unref();
  }
}

const isTimeout = (error: unknown) =>
  error instanceof Error && (error.name === "TimeoutError" || /timed? ?out/i.test(error.message));
const isProtocolError = (error: unknown) =>
  error instanceof Error && typeof (error as { code?: unknown }).code === "number";
