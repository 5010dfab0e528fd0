import { randomBytes } from "node:crypto";
import type { Principal } from "@mcp-langgraph/auth-provider";
import type { Logger } from "@mcp-langgraph/core";
import type { McpServer } from "@modelcontextprotocol/server";
import { BoundedEventStore } from "./event-store.js";
import { McpSessionTransport } from "./session-transport.js";

interface McpSession {
  transport: McpSessionTransport;
  events: BoundedEventStore;
  server: McpServer;
  ownerId: string;
  lastSeen: number;
}

/** Per-session bounds on what a client can make this process hold. */
export interface McpSessionLimits {
  eventStoreMaxEvents: number;
  eventStoreMaxBytes: number;
  maxErrorMessageChars: number;
  maxPendingServerRequests: number;
  /** How long a call whose stream the client dropped waits for it to resume before it is cancelled. */
  disconnectGraceMs: number;
}

/** What one live session holds, for tests and diagnostics. */
export interface McpSessionUsage {
  ownerId: string;
  events: number;
  eventBytes: number;
  pendingServerRequests: number;
}

export interface McpSessionRegistryOptions {
  createServer: () => McpServer;
  idleMs: number;
  maxSessionsPerUser: number;
  /** Defaults: the event store's and transport's own. */
  limits?: Partial<McpSessionLimits>;
  logger: Logger;
  now?: () => number;
}

export type SessionLookup = { kind: "found"; transport: McpSessionTransport } | { kind: "not-found" };

/**
 * The live MCP sessions of this process. A session id is 256 random bits and is
 * bound to the user who opened it: a lookup by anyone else finds nothing (the
 * same 404 as an unknown id, so ids cannot be probed). Idle sessions are closed.
 */
export class McpSessionRegistry {
  readonly #sessions = new Map<string, McpSession>();
  readonly #options: McpSessionRegistryOptions;
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: McpSessionRegistryOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#sweeper = setInterval(() => void this.closeIdle(), Math.min(options.idleMs, 60_000));
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** What each live session holds right now. */
  usage(): McpSessionUsage[] {
    return [...this.#sessions.values()].map((session) => ({
      ownerId: session.ownerId,
      events: session.events.size,
      eventBytes: session.events.retainedBytes,
      pendingServerRequests: session.transport.pendingServerRequests,
    }));
  }

  lookup(sessionId: string, principal: Principal): SessionLookup {
    const session = this.#sessions.get(sessionId);
    if (!session || session.ownerId !== principal.userId) return { kind: "not-found" };
    session.lastSeen = this.#now();
    return { kind: "found", transport: session.transport };
  }

  /** Opens a transport for an initialize request; the session registers once the transport assigns its id. */
  #draining = false;

  async open(principal: Principal): Promise<McpSessionTransport> {
    await this.#evictBeyondLimit(principal.userId);
    const server = this.#options.createServer();
    const limits = this.#options.limits ?? {};
    const events = new BoundedEventStore({
      ...(limits.eventStoreMaxEvents ? { maxEvents: limits.eventStoreMaxEvents } : {}),
      ...(limits.eventStoreMaxBytes ? { maxBytes: limits.eventStoreMaxBytes } : {}),
    });
    const transport = new McpSessionTransport({
      sessionIdGenerator: () => randomBytes(32).toString("base64url"),
      // Resumable streams (Last-Event-ID). No `retry:` hint: with one, clients whose POST stream
      // ended reconnected on a fixed schedule and a burst of 100 clients queued up seconds-long tails.
      eventStore: events,
      ...(limits.maxErrorMessageChars ? { maxErrorMessageChars: limits.maxErrorMessageChars } : {}),
      ...(limits.maxPendingServerRequests
        ? { maxPendingServerRequests: limits.maxPendingServerRequests }
        : {}),
      ...(limits.disconnectGraceMs !== undefined ? { disconnectGraceMs: limits.disconnectGraceMs } : {}),
      onsessioninitialized: (sessionId) => {
        this.#sessions.set(sessionId, {
          transport,
          events,
          server,
          ownerId: principal.userId,
          lastSeen: this.#now(),
        });
        this.#options.logger.info(
          { user: principal.userId, sessions: this.#sessions.size },
          "mcp session opened",
        );
      },
      onsessionclosed: (sessionId) => {
        this.#forget(sessionId);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.#forget(transport.sessionId);
    };
    await server.connect(transport);
    return transport;
  }

  async closeIdle(): Promise<number> {
    const cutoff = this.#now() - this.#options.idleMs;
    const idle = [...this.#sessions].filter(([, session]) => session.lastSeen < cutoff);
    await Promise.allSettled(idle.map(([id]) => this.close(id)));
    return idle.length;
  }

  async close(sessionId: string): Promise<void> {
    const session = this.#sessions.get(sessionId);
    if (!session) return;
    this.#forget(sessionId);
    await session.server.close();
  }

  /** Closes every live session of one user (their account is being erased); returns how many. */
  async closeUser(userId: string): Promise<number> {
    const own = [...this.#sessions].filter(([, session]) => session.ownerId === userId);
    await Promise.allSettled(own.map(([id]) => this.close(id)));
    return own.length;
  }

  /** Set once shutdown has begun: the /mcp route opens no new session (it answers 503). */
  get draining(): boolean {
    return this.#draining;
  }

  /** Lets every session's requests in flight finish (new ones are refused) until `signal` aborts. */
  async drainAll(signal: AbortSignal): Promise<void> {
    this.#draining = true;
    await Promise.allSettled([...this.#sessions.values()].map((session) => session.transport.drain(signal)));
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.allSettled([...this.#sessions.keys()].map((id) => this.close(id)));
  }

  /** Keeps each user under the per-user cap by closing their least recently used sessions. */
  async #evictBeyondLimit(userId: string): Promise<void> {
    const own = [...this.#sessions].filter(([, session]) => session.ownerId === userId);
    const excess = own.length - this.#options.maxSessionsPerUser + 1;
    if (excess <= 0) return;
    own.sort(([, a], [, b]) => a.lastSeen - b.lastSeen);
    await Promise.allSettled(own.slice(0, excess).map(([id]) => this.close(id)));
  }

  #forget(sessionId: string): void {
    if (this.#sessions.delete(sessionId)) {
      this.#options.logger.info({ sessions: this.#sessions.size }, "mcp session closed");
    }
  }
}
