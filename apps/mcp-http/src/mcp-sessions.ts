import { randomBytes } from "node:crypto";
import type { Principal } from "@mcp-langgraph/auth-provider";
import type { Logger } from "@mcp-langgraph/core";
import type { SharedSubscriptionStore } from "@mcp-langgraph/mcp-server";
import type { InitializeRequest, JSONRPCMessage, McpServer } from "@modelcontextprotocol/server";
import { BoundedEventStore } from "./event-store.js";
import type { LoginSessionCheck } from "./login-session.js";
import type { BusMessage, McpSessionBus } from "./mcp-session-bus.js";
import type { McpSessionDirectory, McpSessionRecord } from "./mcp-session-directory.js";
import type { McpSessionSubscriptions, SessionSubscriptions } from "./mcp-session-subscriptions.js";
import { sharedSessionStreams } from "./mcp-shared-session.js";
import { McpSessionTransport } from "./session-transport.js";
import { sharedDeadline } from "./shared-deadline.js";

interface McpSession {
  transport: McpSessionTransport;
  events: BoundedEventStore;
  server: McpServer;
  ownerId: string;
  lastSeen: number;
  /** With a bus: resolves to the end of this copy's subscription to the session's channel. */
  listening?: Promise<() => void>;
  /** With a bus: the session's resource subscriptions, kept in Redis (ADR 0183). */
  subscriptions?: SessionSubscriptions;
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

/** What a session's server is built with besides the app's services. */
export interface McpSessionServerContext {
  /** Set when the session is shared: its resource subscriptions live there, not in the server. */
  subscriptions?: SharedSubscriptionStore;
}

export interface McpSessionRegistryOptions {
  createServer: (session: McpSessionServerContext) => McpServer;
  idleMs: number;
  maxSessionsPerUser: number;
  /** Defaults: the event store's and transport's own. */
  limits?: Partial<McpSessionLimits>;
  logger: Logger;
  now?: () => number;
  /**
   * Set with SESSION_BACKEND=redis: sessions live in Redis, and this process holds a rebuilt copy
   * of each session it serves (see ADR 0160). Unset: the sessions of this process, in memory.
   */
  directory?: McpSessionDirectory;
  /**
   * Set with the directory: the session's events, replies to server-to-client requests,
   * notifications and its end are shared with the other instances (ADR 0175-0177).
   */
  bus?: McpSessionBus;
  /** Set with the bus: the sessions' resource subscriptions are shared with the other instances (ADR 0183). */
  subscriptions?: McpSessionSubscriptions;
}

/** Session ids this server issues: 256 random bits, base64url. Anything else is unknown without a lookup. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export type SessionLookup = { kind: "found"; transport: McpSessionTransport } | { kind: "not-found" };

/** A session's record as `checkLoginAndTouch` found it (and slid it), for the `lookup` that follows. */
export interface TouchedSession {
  readonly sessionId: string;
  readonly record: McpSessionRecord | undefined;
}

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
  /** The deadline of a lookup in the directory; shared by the lookups that start within 100 ms. */
  readonly #lookupDeadline: () => AbortSignal;

  constructor(options: McpSessionRegistryOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#lookupDeadline = sharedDeadline(options.directory?.timeoutMs ?? 0);
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

  /**
   * Whether `checkLoginAndTouch` can serve a request for `sessionId`: sessions in Redis next to
   * login sessions that run scripts, and an id this server could have issued.
   */
  checksLoginSessions(sessionId: string): boolean {
    return this.#options.directory?.checksLoginSessions === true && SESSION_ID.test(sessionId);
  }

  /**
   * The caller's login session and the session's record, checked and slid in one Redis round trip
   * (ADR 0188), before anything is served. Throws TOKEN_INVALID when the login session has ended.
   * Bounded by the same deadline as `lookup`.
   */
  async checkLoginAndTouch(sessionId: string, loginSession: LoginSessionCheck): Promise<TouchedSession> {
    const { directory } = this.#options;
    if (!directory || !this.checksLoginSessions(sessionId)) {
      throw new Error("checkLoginAndTouch needs a directory that checks login sessions and a valid id");
    }
    const deadline = this.#lookupDeadline();
    return { sessionId, record: await directory.touchWithLoginSession(sessionId, loginSession, deadline) };
  }

  /**
   * Synchronous in memory; with a directory, one Redis round trip (and a rebuild the first time),
   * none when `touched` (by `checkLoginAndTouch` for this request) already holds the record.
   */
  lookup(
    sessionId: string,
    principal: Principal,
    touched?: TouchedSession,
  ): SessionLookup | Promise<SessionLookup> {
    const { directory } = this.#options;
    if (directory) {
      return this.#lookupShared(directory, sessionId, principal, this.#lookupDeadline(), touched);
    }
    const session = this.#sessions.get(sessionId);
    if (!session || session.ownerId !== principal.userId) return { kind: "not-found" };
    session.lastSeen = this.#now();
    return { kind: "found", transport: session.transport };
  }

  /** Opens a transport for an initialize request; the session registers once the transport assigns its id. */
  #draining = false;

  /**
   * Opens a transport for an initialize request (`initialize`: its params). With a directory the
   * session is registered in Redis before the request is handled, so the client's next request
   * finds it on any instance.
   */
  async open(
    principal: Principal,
    initialize: InitializeRequest["params"],
    signal: AbortSignal,
  ): Promise<{ sessionId: string; transport: McpSessionTransport }> {
    const { directory } = this.#options;
    const sessionId = randomBytes(32).toString("base64url");
    if (directory) {
      const evicted = await directory.create(sessionId, { ownerId: principal.userId, initialize }, signal);
      // The copies held here close now, the ones elsewhere when they hear of it (or at their next request).
      await Promise.allSettled(evicted.map((id) => this.close(id)));
      await Promise.allSettled(evicted.map((id) => this.#announceEnd(id, signal)));
    } else {
      await this.#evictBeyondLimit(principal.userId);
    }
    const session = this.#createSession(principal.userId, sessionId);
    const { transport, server } = session;
    if (session.listening) this.#opening.set(sessionId, session.listening);
    await server.connect(transport);
    await session.listening;
    return { sessionId, transport };
  }

  /** The initialize of `open` was refused (bad headers, say): the session it registered goes. */
  async discard(sessionId: string, principal: Principal, signal: AbortSignal): Promise<void> {
    await this.close(sessionId);
    // Never registered (refused before its initialize was handled): its subscription ends here.
    void this.#opening
      .get(sessionId)
      ?.then((stop) => stop())
      .catch(() => {});
    this.#opening.delete(sessionId);
    await this.ended(sessionId, principal, signal);
  }

  /**
   * DELETE answered 200 on this instance: the session ends everywhere (its record goes, so every
   * other instance answers 404 from the next request on).
   */
  async ended(sessionId: string, principal: Principal, signal: AbortSignal): Promise<void> {
    await this.#options.directory?.remove(sessionId, principal.userId, signal);
    await this.#announceEnd(sessionId, signal);
  }

  /** Tells every instance holding a copy of the session that it has ended, so each closes its copy now. */
  async #announceEnd(sessionId: string, signal: AbortSignal): Promise<void> {
    await this.#options.bus?.publish(sessionId, { t: "x" }, signal);
  }

  /** What another instance says about a session this instance holds a copy of. */
  #heard(
    sessionId: string,
    transport: McpSessionTransport,
    subscriptions: SessionSubscriptions | undefined,
    message: BusMessage,
  ): void {
    if (message.t === "s") {
      void subscriptions
        ?.resync(AbortSignal.timeout(this.#options.bus?.timeoutMs ?? 0))
        .catch((error: unknown) => {
          // This copy keeps its former view until the next change or its rebuild; the others are unaffected.
          this.#options.logger.warn(
            { err: String(error) },
            "a copy of an MCP session missed a subscription change",
          );
        });
    } else if (message.t === "r") transport.deliverReply(message.m as JSONRPCMessage);
    else if (message.t === "n") transport.deliverNotification(message.d, message.i);
    else if (message.t === "a" || message.t === "d") transport.readElsewhere(message.s, message.t === "a");
    else if (message.t === "x") void this.close(sessionId);
  }

  /** Rebuilt copies of sessions opened elsewhere, by id, while their rebuild is under way. */
  readonly #rebuilding = new Map<string, Promise<McpSessionTransport>>();

  async #lookupShared(
    directory: McpSessionDirectory,
    sessionId: string,
    principal: Principal,
    signal: AbortSignal,
    touched: TouchedSession | undefined,
  ): Promise<SessionLookup> {
    if (!SESSION_ID.test(sessionId)) return { kind: "not-found" };
    const record =
      touched?.sessionId === sessionId
        ? touched.record
        : await directory.touch(sessionId, principal.userId, signal);
    const held = this.#sessions.get(sessionId);
    if (!record) {
      // Ended or expired elsewhere: a copy held here is stale.
      if (held && held.ownerId === principal.userId) await this.close(sessionId);
      return { kind: "not-found" };
    }
    if (held) {
      held.lastSeen = this.#now();
      return { kind: "found", transport: held.transport };
    }
    let rebuilt = this.#rebuilding.get(sessionId);
    if (!rebuilt) {
      rebuilt = this.#rebuild(sessionId, record.ownerId, record.initialize);
      this.#rebuilding.set(sessionId, rebuilt);
      void rebuilt.finally(() => this.#rebuilding.delete(sessionId)).catch(() => {});
    }
    return { kind: "found", transport: await rebuilt };
  }

  /** A session opened on another instance, rebuilt here from its record. */
  async #rebuild(
    sessionId: string,
    ownerId: string,
    initialize: InitializeRequest["params"],
  ): Promise<McpSessionTransport> {
    const session = this.#createSession(ownerId, sessionId);
    await session.server.connect(session.transport);
    try {
      await session.listening;
      // After listening: a subscription change from now on is heard, and an earlier one is read here.
      await session.subscriptions?.resync(AbortSignal.timeout(this.#options.bus?.timeoutMs ?? 0));
      await session.transport.restore(sessionId, initialize);
    } catch (error) {
      await session.server.close();
      throw error;
    }
    // Registered once ready, so no request reaches a server still replaying the initialize.
    this.#register(sessionId, session);
    return session.transport;
  }

  /** Subscriptions of sessions opened here whose initialize has not been handled yet. */
  readonly #opening = new Map<string, Promise<() => void>>();

  #register(sessionId: string, session: Omit<McpSession, "lastSeen">): void {
    this.#opening.delete(sessionId);
    this.#sessions.set(sessionId, { ...session, lastSeen: this.#now() });
    this.#options.logger.info({ user: session.ownerId, sessions: this.#sessions.size }, "mcp session opened");
  }

  /** A server and its transport for session `sessionId`, not connected yet. */
  #createSession(ownerId: string, sessionId: string): Omit<McpSession, "lastSeen"> {
    const { bus } = this.#options;
    const subscriptions =
      bus && this.#options.subscriptions
        ? this.#options.subscriptions.forSession(sessionId, ownerId, bus.channel(sessionId))
        : undefined;
    const server = this.#options.createServer(subscriptions ? { subscriptions } : {});
    const limits = this.#options.limits ?? {};
    const shared: { listening?: Promise<() => void>; subscriptions?: SessionSubscriptions } = {
      ...(subscriptions ? { subscriptions } : {}),
    };
    if (bus) {
      shared.listening = bus.listen(sessionId, (message) =>
        this.#heard(sessionId, transport, subscriptions, message),
      );
      // Awaited by open and rebuild (which fail with it); this only keeps an early close from leaking it.
      shared.listening.catch(() => {});
    }
    const events = new BoundedEventStore({
      ...(limits.eventStoreMaxEvents ? { maxEvents: limits.eventStoreMaxEvents } : {}),
      ...(limits.eventStoreMaxBytes ? { maxBytes: limits.eventStoreMaxBytes } : {}),
    });
    const transport: McpSessionTransport = new McpSessionTransport({
      sessionIdGenerator: () => sessionId,
      // Resumable streams (Last-Event-ID). No `retry:` hint: with one, clients whose POST stream
      // ended reconnected on a fixed schedule and a burst of 100 clients queued up seconds-long tails.
      eventStore: events,
      ...(limits.maxErrorMessageChars ? { maxErrorMessageChars: limits.maxErrorMessageChars } : {}),
      ...(limits.maxPendingServerRequests
        ? { maxPendingServerRequests: limits.maxPendingServerRequests }
        : {}),
      ...(limits.disconnectGraceMs !== undefined ? { disconnectGraceMs: limits.disconnectGraceMs } : {}),
      ...(bus ? { shared: sharedSessionStreams(bus, sessionId, this.#options.logger) } : {}),
      onsessioninitialized: (id) => this.#register(id, { transport, events, server, ownerId, ...shared }),
      onsessionclosed: (id) => {
        this.#forget(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.#forget(transport.sessionId);
    };
    return { transport, events, server, ownerId, ...shared };
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
  async closeUser(userId: string, signal: AbortSignal): Promise<number> {
    const own = [...this.#sessions].filter(([, session]) => session.ownerId === userId);
    // Everywhere first: every other instance then answers 404 (and drops its copy) at the next request.
    const shared = (await this.#options.directory?.removeUser(userId, signal)) ?? [];
    await Promise.allSettled(own.map(([id]) => this.close(id)));
    await Promise.allSettled(shared.map((id) => this.#announceEnd(id, signal)));
    return new Set([...shared, ...own.map(([id]) => id)]).size;
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
    // The events of the last answers, still on their way to Redis.
    await this.#options.bus?.flush();
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
    const session = this.#sessions.get(sessionId);
    void session?.listening?.then((stop) => stop()).catch(() => {});
    if (this.#sessions.delete(sessionId)) {
      this.#options.logger.info({ sessions: this.#sessions.size }, "mcp session closed");
    }
  }
}
