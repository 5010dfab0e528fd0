import {
  type AuthInfo,
  DEFAULT_NEGOTIATED_PROTOCOL_VERSION,
  type InitializeRequest,
  isInitializeRequest,
  isJsonContentType,
  type JSONRPCMessage,
  type MessageExtraInfo,
  parseJSONRPCMessage,
  type RequestId,
  SUPPORTED_PROTOCOL_VERSIONS,
  type Transport,
  type TransportSendOptions,
} from "@modelcontextprotocol/server";
import type { BoundedEventStore } from "./event-store.js";
import {
  JSONRPC_INVALID_REQUEST,
  JSONRPC_PARSE_ERROR,
  JSONRPC_SERVER_ERROR,
  JSONRPC_SESSION_NOT_FOUND,
  jsonRpcErrorResponse,
} from "./jsonrpc.js";
import {
  boundErrorMessage,
  DEFAULT_MAX_ERROR_MESSAGE_CHARS,
  DEFAULT_MAX_PENDING_SERVER_REQUESTS,
  PendingServerRequests,
} from "./outbound-bounds.js";
import {
  DEFAULT_SSE_KEEP_ALIVE_MS,
  messageFrame,
  primingFrame,
  SSE_HEADERS,
  SseStream,
} from "./sse-stream.js";

/** The SDK's limit on messages in one batch. */
const MAX_BATCH_SIZE = 100;
const STANDALONE_STREAM = "_GET_stream";
/** Separates a shared transport's prefix from the SDK's own id of a server-to-client request. */
const REQUEST_ID_SEPARATOR = "~";

export interface SessionTransportOptions {
  sessionIdGenerator: () => string;
  /** Keeps the events of SSE streams so a client can resume one with Last-Event-ID. */
  eventStore: BoundedEventStore;
  onsessioninitialized?: (sessionId: string) => void;
  onsessionclosed?: (sessionId: string) => void;
  keepAliveMs?: number;
  /**
   * A POST still unanswered after this long becomes an SSE stream (priming
   * event, keep-alives), so a long call can be resumed and is not cut by an
   * idle proxy. Default 1,000 ms.
   */
  streamAfterMs?: number;
  /** Error answers' messages are cut to this many characters (they may echo input). Default 1,024. */
  maxErrorMessageChars?: number;
  /** Server-to-client requests (sampling, elicitation) awaiting the client's answer at once. Default 16. */
  maxPendingServerRequests?: number;
  /**
   * A call whose response stream the client dropped keeps running this long for the client to
   * resume it (Last-Event-ID); then the client has gone and its calls are cancelled, which stops
   * their work (an agent turn and its model request). Default 10,000 ms; 0: at once.
   */
  disconnectGraceMs?: number;
  /**
   * Set with SESSION_BACKEND=redis: the session's streams, replies and notifications are shared
   * with the other instances serving it (ADR 0175-0177). Unset: everything stays in this process.
   */
  shared?: SharedStreams;
}

/** What a transport shares with the other instances serving its session (see McpSharedSession). */
export interface SharedStreams {
  /** Unique among instances: starts this transport's stream ids and its server-to-client request ids. */
  readonly prefix: string;
  /** An event was stored in this process: its copy goes to Redis behind the answer. */
  appended(streamId: string, eventId: string, data: string): void;
  /** Every event of the stream has been appended. */
  ended(streamId: string): void;
  /** Replays a stream stored by another instance after `lastEventId` and carries it on; false: unknown. */
  resume(lastEventId: string, stream: SseStream): Promise<boolean>;
  /** The client's reply to a request another instance sent: to it. */
  forwardReply(message: JSONRPCMessage): Promise<void>;
  /** A notification for the standalone stream, which another instance may hold (or none yet). */
  notify(data: string, eventId: string): void;
  /** This transport holds the session's standalone stream until it closes: writes what waited for it. */
  holdStandalone(stream: SseStream): Promise<void>;
}

export const DEFAULT_DISCONNECT_GRACE_MS = 10_000;

export interface HandleRequestOptions {
  /** The body, already parsed by the HTTP edge (which answers malformed JSON itself). */
  parsedBody?: unknown;
  authInfo?: AuthInfo;
  /**
   * Registers a listener for the client closing the connection before the response ended (the
   * HTTP edge knows its socket; a Fetch `Request` does not say), so a call whose answer is still
   * held can be cancelled when its client has gone (`disconnectGraceMs`).
   */
  onClientGone?: (listener: () => void) => void;
}

/** One POST that carried requests: answered as JSON, or as an SSE stream once it needs one. */
interface Exchange {
  readonly streamId: string;
  readonly requestIds: RequestId[];
  readonly responses: Map<RequestId, JSONRPCMessage>;
  readonly protocolVersion: string;
  /** Settles the POST's HTTP response; undefined once it is settled. */
  respond: ((response: Response) => void) | undefined;
  upgraded: boolean;
  /** The live SSE stream of an upgraded exchange; undefined while none is attached. */
  stream: SseStream | undefined;
  /** Upgrades a slow exchange (see `streamAfterMs`). */
  timer: NodeJS.Timeout | undefined;
  /** Requests the client cancelled: they get no answer, so the exchange completes without one. */
  cancelled: Set<RequestId>;
  /** Cancels the exchange's calls unless the client resumes its dropped stream first. */
  abandonTimer: NodeJS.Timeout | undefined;
  /** The client reads the stream through another instance (shared sessions): it has not gone. */
  readElsewhere: boolean;
}

const isResponse = (message: JSONRPCMessage) => !("method" in message);
const isComplete = (exchange: Exchange) =>
  exchange.responses.size + exchange.cancelled.size === exchange.requestIds.length;
const isRequest = (message: JSONRPCMessage) => "method" in message && "id" in message;

/**
 * The server side of one stateful Streamable HTTP session (protocol 2025-xx),
 * a drop-in for the SDK's `WebStandardStreamableHTTPServerTransport` with the
 * same validation, status codes, messages and wire format (every POST that
 * carries requests is answered with an SSE stream, priming event first), and
 * one difference: when that stream is built. The SDK opens a live stream per
 * POST before the handler runs; here a POST's stream goes live only when the
 * server sends something other than the final answer (progress, logging,
 * sampling, elicitation), when a handler closes it for polling (SEP-1699), or
 * when the call is still running after `streamAfterMs` (so long calls keep
 * their keep-alives and resumability). Otherwise the whole stream, with the
 * same events and stored event ids, is sent as one body: one socket write
 * instead of four, and no stream machinery, on the hot path. See ADR 0060.
 */
export class McpSessionTransport implements Transport {
  sessionId: string | undefined;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  readonly #options: SessionTransportOptions;
  readonly #events: BoundedEventStore;
  readonly #keepAliveMs: number;
  readonly #streamAfterMs: number;
  readonly #maxErrorMessageChars: number;
  readonly #disconnectGraceMs: number;
  readonly #pending: PendingServerRequests;
  readonly #shared: SharedStreams | undefined;
  /** The standalone stream's id: one per transport when shared, so instances' events never mix. */
  readonly #standaloneId: string;
  /** Stream ids: the shared prefix (unique among instances) and a counter. */
  readonly #streamPrefix: string;
  #supportedVersions: string[] = SUPPORTED_PROTOCOL_VERSIONS;
  #started = false;
  #initialized = false;
  #closed = false;
  /** Shutting down: requests in flight finish, new ones are refused. */
  #draining = false;
  #onIdle: (() => void) | undefined;
  #nextStream = 0;
  /** In-flight requests by id, each to the POST it arrived on. */
  readonly #exchanges = new Map<RequestId, Exchange>();
  /** Upgraded, unfinished exchanges by stream id, for resumption. */
  readonly #streams = new Map<string, Exchange>();
  #standalone: SseStream | undefined;
  /** The headers of every one-body answer of this session: the same each time, so built once. */
  #answerHeaders: Readonly<Record<string, string>> = SSE_HEADERS;
  /** The replayed initialize of a session rebuilt on this instance (`restore`), until the server answers it. */
  #restoring: { id: RequestId; settle: (answer: JSONRPCMessage) => void } | undefined;

  constructor(options: SessionTransportOptions) {
    this.#options = options;
    this.#events = options.eventStore;
    this.#keepAliveMs = options.keepAliveMs ?? DEFAULT_SSE_KEEP_ALIVE_MS;
    this.#streamAfterMs = options.streamAfterMs ?? 1_000;
    this.#maxErrorMessageChars = options.maxErrorMessageChars ?? DEFAULT_MAX_ERROR_MESSAGE_CHARS;
    this.#disconnectGraceMs = options.disconnectGraceMs ?? DEFAULT_DISCONNECT_GRACE_MS;
    this.#pending = new PendingServerRequests(
      options.maxPendingServerRequests ?? DEFAULT_MAX_PENDING_SERVER_REQUESTS,
    );
    this.#shared = options.shared;
    this.#streamPrefix = options.shared ? `${options.shared.prefix}.` : "";
    this.#standaloneId = options.shared ? `${options.shared.prefix}.G` : STANDALONE_STREAM;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error("Transport already started");
    this.#started = true;
  }

  setSupportedProtocolVersions(versions: string[]): void {
    this.#supportedVersions = versions;
  }

  async handleRequest(request: Request, options: HandleRequestOptions = {}): Promise<Response> {
    if (this.#closed) return this.#fail(404, JSONRPC_SESSION_NOT_FOUND, "Session not found");
    // While draining, a new standalone stream would only hold the shutdown up; a resumption may finish a call.
    if (this.#draining && request.method === "GET" && !request.headers.has("last-event-id")) {
      return this.#shuttingDown();
    }
    switch (request.method) {
      case "POST":
        return this.#post(request, options);
      case "GET":
        return this.#get(request);
      case "DELETE":
        return this.#delete(request);
      default:
        this.onerror?.(new Error("Method not allowed."));
        return jsonRpcErrorResponse(405, JSONRPC_SERVER_ERROR, "Method not allowed.", {
          allow: "GET, POST, DELETE",
        });
    }
  }

  /**
   * Makes this transport the session `sessionId`, initialized on another instance: the client's
   * original initialize is replayed into the connected server (so it negotiates the same protocol
   * version and records the same client capabilities), its answer is dropped, and the
   * `initialized` notification follows. Resolves once the server is ready for the session's requests.
   */
  async restore(sessionId: string, initialize: InitializeRequest["params"]): Promise<void> {
    if (this.#initialized) throw new Error("Transport already initialized");
    this.sessionId = sessionId;
    this.#answerHeaders = Object.freeze({ ...SSE_HEADERS, ...this.#sessionHeader() });
    this.#initialized = true;
    const id = `restore-${sessionId}`;
    const answer = await new Promise<JSONRPCMessage>((settle) => {
      this.#restoring = { id, settle };
      this.onmessage?.({ jsonrpc: "2.0", id, method: "initialize", params: initialize });
    });
    if ("error" in answer)
      throw new Error(`the session's initialize was refused on replay: ${answer.error.message}`);
    this.onmessage?.({ jsonrpc: "2.0", method: "notifications/initialized" });
  }

  /**
   * The client's reply to a server-to-client request of this transport that reached another
   * instance: handled as if it had come here. Anything else (not ours, not pending) is dropped.
   */
  deliverReply(message: JSONRPCMessage): void {
    if (this.#closed || !this.#shared || !isResponse(message) || !("id" in message)) return;
    if (message.id === undefined) return;
    const local = this.#inboundReply(message as JSONRPCMessage & { id: RequestId }, this.#shared.prefix);
    if (local === "elsewhere" || !this.#pending.has(message.id as RequestId)) return;
    this.#pending.settle(message.id as RequestId);
    this.onmessage?.(local);
  }

  /**
   * Another instance started (`true`) or stopped reading one of this transport's streams for the
   * client: while it reads, a call whose stream dropped here is not abandoned.
   */
  readElsewhere(streamId: string, reading: boolean): void {
    const exchange = this.#streams.get(streamId);
    if (!exchange) return;
    exchange.readElsewhere = reading;
    if (reading) {
      clearTimeout(exchange.abandonTimer);
      exchange.abandonTimer = undefined;
    } else if (!exchange.stream) this.#startGrace(exchange);
  }

  /** A notification another instance sent for the standalone stream: written if this instance holds it. */
  deliverNotification(data: string, eventId: string): void {
    this.#standalone?.writeMessage(data, eventId);
  }

  /** Server-to-client requests awaiting the client's answer. */
  get pendingServerRequests(): number {
    return this.#pending.size;
  }

  async send(outgoing: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    let message = boundErrorMessage(outgoing, this.#maxErrorMessageChars);
    if (this.#shared && "method" in message) message = this.#outboundIds(message, this.#shared.prefix);
    const response = isResponse(message);
    if (!response) this.#trackOutbound(message);
    const requestId = response ? (message as { id: RequestId }).id : options?.relatedRequestId;
    if (requestId === undefined) {
      if (response) {
        throw new Error(
          "Cannot send a response on a standalone SSE stream unless resuming a previous client request",
        );
      }
      const data = JSON.stringify(message);
      const eventId = this.#append(this.#standaloneId, data);
      if (this.#standalone) this.#standalone.writeMessage(data, eventId);
      else this.#shared?.notify(data, eventId);
      return;
    }
    const exchange = this.#exchanges.get(requestId);
    if (!exchange) {
      // Off the hot path: only an answer with no POST waiting for it gets here.
      if (response && this.#restoring?.id === requestId) {
        this.#restoring.settle(message);
        this.#restoring = undefined;
        return;
      }
      throw new Error(`No connection established for request ID: ${String(requestId)}`);
    }
    if (response) exchange.responses.set(requestId, message);
    const complete = isComplete(exchange);
    if (!exchange.upgraded) {
      if (!response) {
        this.#upgrade(exchange);
        this.#emit(exchange, message);
      } else if (complete) {
        this.#finish(exchange);
        exchange.respond?.(this.#wholeStream(exchange));
        exchange.respond = undefined;
      }
      return;
    }
    this.#emit(exchange, message);
    if (complete) {
      exchange.stream?.close();
      this.#finish(exchange);
    }
  }

  /**
   * The first phase of shutdown: new requests are refused (503), the standalone stream (which
   * carries no answers) ends, and this resolves once every request in flight has been answered,
   * or when `signal` aborts. `close()` follows.
   */
  drain(signal: AbortSignal): Promise<void> {
    this.#draining = true;
    this.#closeStandalone();
    if (this.#exchanges.size === 0 || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        this.#onIdle = undefined;
        resolve();
      };
      this.#onIdle = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.clear();
    this.#standalone?.close();
    this.#standalone = undefined;
    for (const exchange of new Set(this.#exchanges.values())) {
      clearTimeout(exchange.timer);
      clearTimeout(exchange.abandonTimer);
      exchange.stream?.close();
      // A request still waiting for its answer gets one instead of hanging until the client times out.
      exchange.respond?.(jsonRpcErrorResponse(404, JSONRPC_SESSION_NOT_FOUND, "Session not found"));
      exchange.respond = undefined;
    }
    this.#exchanges.clear();
    this.#streams.clear();
    this.onclose?.();
  }

  async #post(request: Request, options: HandleRequestOptions): Promise<Response> {
    const accept = request.headers.get("accept");
    if (!accept?.includes("application/json") || !accept.includes("text/event-stream")) {
      return this.#fail(
        406,
        JSONRPC_SERVER_ERROR,
        "Not Acceptable: Client must accept both application/json and text/event-stream",
      );
    }
    if (!isJsonContentType(request.headers.get("content-type"))) {
      return this.#fail(
        415,
        JSONRPC_SERVER_ERROR,
        "Unsupported Media Type: Content-Type must be application/json",
      );
    }
    let body = options.parsedBody;
    if (body === undefined) {
      try {
        body = JSON.parse(await request.text());
      } catch {
        return this.#fail(400, JSONRPC_PARSE_ERROR, "Parse error: Invalid JSON");
      }
    }
    if (Array.isArray(body) && body.length > MAX_BATCH_SIZE) {
      return this.#fail(
        400,
        JSONRPC_INVALID_REQUEST,
        `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`,
      );
    }
    let messages: JSONRPCMessage[];
    try {
      messages = Array.isArray(body) ? body.map(parseJSONRPCMessage) : [parseJSONRPCMessage(body)];
    } catch (error) {
      this.onerror?.(error as Error);
      return jsonRpcErrorResponse(400, JSONRPC_PARSE_ERROR, "Parse error: Invalid JSON-RPC message");
    }
    if (this.#closed) return this.#fail(404, JSONRPC_SESSION_NOT_FOUND, "Session not found");

    // The method check first: the full schema check runs only on what claims to be an initialize.
    const initialize = messages.find(
      (message) => "method" in message && message.method === "initialize" && isInitializeRequest(message),
    ) as (JSONRPCMessage & InitializeRequest) | undefined;
    if (initialize) {
      if (this.#initialized && this.sessionId !== undefined) {
        return this.#fail(400, JSONRPC_INVALID_REQUEST, "Invalid Request: Server already initialized");
      }
      if (messages.length > 1) {
        return this.#fail(
          400,
          JSONRPC_INVALID_REQUEST,
          "Invalid Request: Only one initialization request is allowed",
        );
      }
      this.sessionId = this.#options.sessionIdGenerator();
      this.#answerHeaders = Object.freeze({ ...SSE_HEADERS, ...this.#sessionHeader() });
      this.#initialized = true;
      this.#options.onsessioninitialized?.(this.sessionId);
    } else {
      const refused = this.#validateSession(request) ?? this.#validateProtocolVersion(request);
      if (refused) return refused;
    }
    if (this.#closed) return this.#fail(404, JSONRPC_SESSION_NOT_FOUND, "Session not found");

    if (this.#shared) messages = await this.#routeReplies(messages, this.#shared);
    for (const message of messages) {
      // The client's answer to one of our requests (result or error) ends its wait.
      if (isResponse(message) && "id" in message) this.#pending.settle(message.id as RequestId);
    }
    const requests = messages.filter(isRequest) as { id: RequestId }[];
    const authInfo = options.authInfo;
    if (requests.length === 0) {
      for (const message of messages) this.onmessage?.(message, { authInfo, request });
      this.#settleCancelled(messages);
      return new Response(null, { status: 202 });
    }

    if (this.#draining) return this.#shuttingDown();

    const protocolVersion = initialize
      ? initialize.params.protocolVersion
      : (request.headers.get("mcp-protocol-version") ?? DEFAULT_NEGOTIATED_PROTOCOL_VERSION);
    const resumable = this.#supportsPriming(protocolVersion);
    const answer = new Promise<Response>((resolve) => {
      const exchange: Exchange = {
        streamId: this.#streamPrefix + String(++this.#nextStream),
        requestIds: requests.map((message) => message.id),
        responses: new Map(),
        protocolVersion,
        respond: resolve,
        upgraded: false,
        stream: undefined,
        timer: undefined,
        cancelled: new Set(),
        abandonTimer: undefined,
        readElsewhere: false,
      };
      for (const id of exchange.requestIds) this.#exchanges.set(id, exchange);
      exchange.timer = setTimeout(() => {
        if (!exchange.upgraded && exchange.respond) this.#upgrade(exchange);
      }, this.#streamAfterMs);
      exchange.timer.unref();
      options.onClientGone?.(() => this.#clientLeft(exchange));
      const closeStandaloneSSEStream = resumable ? () => this.#closeStandalone() : undefined;
      for (const message of messages) {
        const id = isRequest(message) ? (message as { id: RequestId }).id : undefined;
        this.onmessage?.(message, {
          authInfo,
          request,
          ...(resumable && id !== undefined
            ? { closeSSEStream: () => this.#closeRequestStream(id), closeStandaloneSSEStream }
            : {}),
        });
      }
      this.#settleCancelled(messages);
    });
    return answer;
  }

  async #get(request: Request): Promise<Response> {
    if (!request.headers.get("accept")?.includes("text/event-stream")) {
      return this.#fail(406, JSONRPC_SERVER_ERROR, "Not Acceptable: Client must accept text/event-stream");
    }
    const refused = this.#validateSession(request) ?? this.#validateProtocolVersion(request);
    if (refused) return refused;
    const lastEventId = request.headers.get("last-event-id");
    if (lastEventId) {
      if (this.#shared && this.#events.streamOf(lastEventId) === undefined) {
        return this.#resumeShared(lastEventId, this.#shared);
      }
      return this.#resume(lastEventId);
    }
    if (this.#standalone) {
      return this.#fail(409, JSONRPC_SERVER_ERROR, "Conflict: Only one SSE stream is allowed per session");
    }
    const stream: SseStream = new SseStream(this.#sessionHeader(), this.#keepAliveMs, () => {
      if (this.#standalone === stream) this.#standalone = undefined;
    });
    this.#standalone = stream;
    if (this.#shared) {
      try {
        await this.#shared.holdStandalone(stream);
      } catch (error) {
        stream.close();
        if (this.#standalone === stream) this.#standalone = undefined;
        throw error;
      }
    }
    return stream.response;
  }

  async #delete(request: Request): Promise<Response> {
    const refused = this.#validateSession(request) ?? this.#validateProtocolVersion(request);
    if (refused) return refused;
    try {
      if (this.sessionId !== undefined) this.#options.onsessionclosed?.(this.sessionId);
      return new Response(null, { status: 200 });
    } finally {
      await this.close();
    }
  }

  /** A GET with Last-Event-ID: replays what the stream missed, then carries it on if it is still open. */
  #resume(lastEventId: string): Response {
    const streamId = this.#events.streamOf(lastEventId);
    if (streamId === undefined) return this.#fail(400, JSONRPC_SERVER_ERROR, "Invalid event ID format");
    const exchange = this.#streams.get(streamId);
    const live = streamId === this.#standaloneId ? this.#standalone : exchange?.stream;
    if (live) {
      return this.#fail(409, JSONRPC_SERVER_ERROR, "Conflict: Stream already has an active connection");
    }
    const stream: SseStream = new SseStream(this.#sessionHeader(), this.#keepAliveMs, () => {
      if (this.#standalone === stream) this.#standalone = undefined;
      if (exchange) this.#detach(exchange, stream);
    });
    for (const event of this.#events.eventsAfter(lastEventId)) {
      if (event.data === "") stream.writePriming(event.id);
      else stream.writeMessage(event.data, event.id);
    }
    if (streamId === this.#standaloneId) this.#standalone = stream;
    else if (exchange) {
      clearTimeout(exchange.abandonTimer);
      exchange.stream = stream;
    } else stream.close(); // the exchange has finished: the replay was all there was to send
    return stream.response;
  }

  /** A stream this instance does not hold: replayed from Redis and carried on by its producer's appends. */
  async #resumeShared(lastEventId: string, shared: SharedStreams): Promise<Response> {
    const stream = new SseStream(this.#sessionHeader(), this.#keepAliveMs, () => {});
    if (!(await shared.resume(lastEventId, stream))) {
      stream.close();
      return this.#fail(400, JSONRPC_SERVER_ERROR, "Invalid event ID format");
    }
    return stream.response;
  }

  /** Stores an event in this process and, when shared, queues its copy for Redis. */
  #append(streamId: string, data: string): string {
    const eventId = this.#events.append(streamId, data);
    this.#shared?.appended(streamId, eventId, data);
    return eventId;
  }

  /**
   * A server-to-client request leaves with an id unique among instances (`<prefix>~<id>`), so the
   * client's reply names the instance waiting for it; a cancellation names the same id.
   */
  #outboundIds(message: JSONRPCMessage, prefix: string): JSONRPCMessage {
    if (!("method" in message)) return message;
    if ("id" in message) return { ...message, id: `${prefix}${REQUEST_ID_SEPARATOR}${String(message.id)}` };
    if (message.method !== "notifications/cancelled") return message;
    const params = message.params as { requestId?: RequestId } | undefined;
    if (params?.requestId === undefined) return message;
    return {
      ...message,
      params: { ...params, requestId: `${prefix}${REQUEST_ID_SEPARATOR}${String(params.requestId)}` },
    };
  }

  /** A reply with the SDK's own id back when it is ours; "elsewhere" when another instance sent the request. */
  #inboundReply(message: JSONRPCMessage & { id: RequestId }, prefix: string): JSONRPCMessage | "elsewhere" {
    const id = message.id;
    if (typeof id !== "string" || !id.includes(REQUEST_ID_SEPARATOR)) return message;
    const [owner, own] = [
      id.slice(0, id.indexOf(REQUEST_ID_SEPARATOR)),
      id.slice(id.indexOf(REQUEST_ID_SEPARATOR) + 1),
    ];
    if (owner !== prefix) return "elsewhere";
    const numeric = Number(own);
    return { ...message, id: own !== "" && Number.isSafeInteger(numeric) ? numeric : own } as JSONRPCMessage;
  }

  /** Replies to this transport's requests get their SDK ids back; replies to another instance's go to it. */
  async #routeReplies(messages: JSONRPCMessage[], shared: SharedStreams): Promise<JSONRPCMessage[]> {
    const kept: JSONRPCMessage[] = [];
    for (const message of messages) {
      if (!isResponse(message) || !("id" in message)) {
        kept.push(message);
        continue;
      }
      const local = this.#inboundReply(message as JSONRPCMessage & { id: RequestId }, shared.prefix);
      if (local === "elsewhere") await shared.forwardReply(message);
      else {
        this.#pending.settle(message.id as RequestId);
        kept.push(local);
      }
    }
    return kept;
  }

  /** Turns a POST's answer into an SSE stream, flushing any responses it already holds. */
  #upgrade(exchange: Exchange): void {
    clearTimeout(exchange.timer);
    const stream: SseStream = new SseStream(this.#sessionHeader(), this.#keepAliveMs, () =>
      this.#detach(exchange, stream),
    );
    exchange.upgraded = true;
    exchange.stream = stream;
    this.#streams.set(exchange.streamId, exchange);
    if (this.#supportsPriming(exchange.protocolVersion)) {
      stream.writePriming(this.#append(exchange.streamId, ""));
    }
    for (const held of exchange.responses.values()) this.#emit(exchange, held);
    exchange.respond?.(stream.response);
    exchange.respond = undefined;
  }

  /**
   * The complete SSE stream of an exchange whose answers were all ready before
   * anything else was sent: the same events (and stored event ids) a live
   * stream would have carried, as one body, so it leaves in one socket write.
   */
  #wholeStream(exchange: Exchange): Response {
    let body = this.#supportsPriming(exchange.protocolVersion)
      ? primingFrame(this.#append(exchange.streamId, ""))
      : "";
    for (const id of exchange.requestIds) {
      if (!exchange.responses.has(id)) continue; // cancelled: no answer
      const data = JSON.stringify(exchange.responses.get(id));
      body += messageFrame(data, this.#append(exchange.streamId, data));
    }
    return new Response(body, { status: 200, headers: this.#answerHeaders });
  }

  /** Stores an event of an upgraded exchange and writes it when a stream is attached. */
  #emit(exchange: Exchange, message: JSONRPCMessage): void {
    const data = JSON.stringify(message);
    const eventId = this.#append(exchange.streamId, data);
    exchange.stream?.writeMessage(data, eventId);
  }

  /**
   * Bounds the server's requests awaiting the client (a full session makes `send` throw, which
   * the SDK turns into that request's rejection) and forgets those it cancels.
   */
  #trackOutbound(message: JSONRPCMessage): void {
    if (isRequest(message)) {
      this.#pending.add((message as { id: RequestId }).id);
    } else if ("method" in message && message.method === "notifications/cancelled") {
      const requestId = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (requestId !== undefined) this.#pending.settle(requestId);
    }
  }

  #finish(exchange: Exchange): void {
    this.#shared?.ended(exchange.streamId);
    clearTimeout(exchange.timer);
    clearTimeout(exchange.abandonTimer);
    for (const id of exchange.requestIds) {
      if (this.#exchanges.get(id) === exchange) this.#exchanges.delete(id);
    }
    if (this.#exchanges.size === 0) this.#onIdle?.();
    this.#streams.delete(exchange.streamId);
  }

  /**
   * The client dropped an exchange's stream. The spec says a disconnect is no cancellation (the
   * client may resume with Last-Event-ID), so the calls keep running for the grace period; a
   * client that has not come back by then has gone, and its calls are cancelled (ADR 0121).
   */
  #detach(exchange: Exchange, stream: SseStream): void {
    if (exchange.stream !== stream) return;
    exchange.stream = undefined;
    if (!this.#streams.has(exchange.streamId)) return; // finished: nothing left to cancel
    if (!exchange.readElsewhere) this.#startGrace(exchange);
  }

  #startGrace(exchange: Exchange): void {
    clearTimeout(exchange.abandonTimer);
    exchange.abandonTimer = setTimeout(() => this.#abandon(exchange), this.#disconnectGraceMs);
    exchange.abandonTimer.unref();
  }

  /** Cancels an exchange's unanswered calls through the SDK's own path, as the client's cancel would. */
  #abandon(exchange: Exchange): void {
    const unanswered = exchange.requestIds.filter(
      (id) => !exchange.responses.has(id) && !exchange.cancelled.has(id),
    );
    for (const requestId of unanswered) {
      this.onmessage?.({
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: { requestId, reason: "The client disconnected and did not resume the stream." },
      });
      exchange.cancelled.add(requestId);
    }
    this.#complete(exchange);
  }

  /**
   * The client closed a POST's connection before its answer ended. Before the answer became a
   * stream the client holds no event id to resume from, so it has gone: its calls are cancelled at
   * once. A live stream's own cancel reports its disconnect (`#detach`, with the grace period).
   */
  #clientLeft(exchange: Exchange): void {
    if (exchange.upgraded || !exchange.requestIds.some((id) => this.#exchanges.get(id) === exchange)) return;
    this.#abandon(exchange);
  }

  /** Ends an exchange whose requests are all answered or cancelled. */
  #complete(exchange: Exchange): void {
    this.#finish(exchange);
    if (exchange.upgraded) exchange.stream?.close();
    else {
      exchange.respond?.(this.#wholeStream(exchange));
      exchange.respond = undefined;
    }
  }

  /**
   * Cancelled requests get no answer (the SDK drops it), so an exchange whose other requests are all
   * answered is complete: its stream ends instead of staying open until the session closes.
   */
  #settleCancelled(messages: JSONRPCMessage[]): void {
    for (const message of messages) {
      if (!("method" in message) || message.method !== "notifications/cancelled" || "id" in message) continue;
      const requestId = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      const exchange = requestId === undefined ? undefined : this.#exchanges.get(requestId);
      if (!exchange || requestId === undefined || exchange.responses.has(requestId)) continue;
      exchange.cancelled.add(requestId);
      if (isComplete(exchange)) this.#complete(exchange);
    }
  }

  /** SEP-1699 polling: the server ends a request's stream; the client resumes it with Last-Event-ID. */
  #closeRequestStream(requestId: RequestId): void {
    const exchange = this.#exchanges.get(requestId);
    if (!exchange) return;
    // A stream that does not exist yet is opened first, so the client holds an event id to resume from.
    if (!exchange.upgraded) this.#upgrade(exchange);
    exchange.stream?.close();
    exchange.stream = undefined;
  }

  #closeStandalone(): void {
    this.#standalone?.close();
    this.#standalone = undefined;
  }

  /** Priming events carry empty data, which clients before 2025-11-25 cannot parse. */
  #supportsPriming(protocolVersion: string): boolean {
    return this.#supportedVersions.includes(protocolVersion) && protocolVersion >= "2025-11-25";
  }

  #validateSession(request: Request): Response | undefined {
    if (!this.#initialized)
      return this.#fail(400, JSONRPC_SERVER_ERROR, "Bad Request: Server not initialized");
    const sessionId = request.headers.get("mcp-session-id");
    if (!sessionId) {
      return this.#fail(400, JSONRPC_SERVER_ERROR, "Bad Request: Mcp-Session-Id header is required");
    }
    if (sessionId !== this.sessionId) return this.#fail(404, JSONRPC_SESSION_NOT_FOUND, "Session not found");
    return undefined;
  }

  #validateProtocolVersion(request: Request): Response | undefined {
    const version = request.headers.get("mcp-protocol-version");
    if (version === null || this.#supportedVersions.includes(version)) return undefined;
    return this.#fail(
      400,
      JSONRPC_SERVER_ERROR,
      `Bad Request: Unsupported protocol version: ${version} (supported versions: ${this.#supportedVersions.join(", ")})`,
    );
  }

  #sessionHeader(): Record<string, string> {
    return this.sessionId === undefined ? {} : { "mcp-session-id": this.sessionId };
  }

  #shuttingDown(): Response {
    return this.#fail(503, JSONRPC_SERVER_ERROR, "Service Unavailable: the server is shutting down; retry");
  }

  #fail(status: number, code: number, message: string): Response {
    this.onerror?.(new Error(message));
    return jsonRpcErrorResponse(status, code, message);
  }
}
