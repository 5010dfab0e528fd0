import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Logger, noopLogger } from "@mcp-langgraph/core";
import type { AuthorizationModelJson } from "../engine/model.ts";
import { isAuthzError, OpenFgaErrorCode } from "../errors.ts";
import { openFgaErrorName } from "../openfga-codes.ts";
import type { Tuple } from "../types.ts";
import { type DevStore, DevStores } from "./stores.ts";

export interface FgaDevServerOptions {
  /** Default 127.0.0.1: the dev server has no access control beyond `token`. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest accepted request body, default 1 MiB. */
  maxBodyBytes?: number;
  logger?: Logger;
}

export interface FgaDevServer {
  /** Base URL to give `@openfga/sdk` as `apiUrl`. */
  readonly url: string;
  readonly stores: DevStores;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface ContextualTupleKeys {
  tuple_keys?: Tuple[];
}

type Json = Record<string, unknown>;

const readPageSize = (value: unknown) => {
  const size = value === undefined || value === null || value === "" ? 50 : Number(value);
  if (!Number.isInteger(size) || size < 1 || size > 100) {
    throw new HttpError(400, "validation_error", "page_size must be between 1 and 100");
  }
  return size;
};

const decodeToken = (token: unknown) => {
  if (token === undefined || token === null || token === "") return 0;
  const offset = Number(Buffer.from(String(token), "base64url").toString("utf8"));
  if (!Number.isInteger(offset) || offset < 0) {
    throw new HttpError(400, "invalid_continuation_token", "invalid continuation token");
  }
  return offset;
};

function page<T>(items: T[], pageSize: number, token: unknown): { items: T[]; continuation_token: string } {
  const offset = decodeToken(token);
  const next = offset + pageSize;
  return {
    items: items.slice(offset, next),
    continuation_token: next < items.length ? Buffer.from(String(next)).toString("base64url") : "",
  };
}

const contextual = (value: ContextualTupleKeys | undefined) => value?.tuple_keys ?? [];

/** Routes of the OpenFGA HTTP API this package's adapter (and most SDK users) need. */
function route(
  stores: DevStores,
  method: string,
  path: string,
  query: URLSearchParams,
  body: Json,
): [number, unknown] {
  if (path === "/stores") {
    if (method === "POST") {
      const store = stores.create(body.name as string);
      return [201, store.info];
    }
    if (method === "GET") {
      const listed = page(
        stores.list(),
        readPageSize(query.get("page_size")),
        query.get("continuation_token"),
      );
      return [200, { stores: listed.items, continuation_token: listed.continuation_token }];
    }
  }
  const match = /^\/stores\/([^/]+)(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(path);
  if (!match) throw new HttpError(404, "undefined_endpoint", `no route for ${method} ${path}`);
  const [, storeId = "", action, actionId] = match;
  const store = stores.get(storeId);
  const key = `${method} ${action ?? ""}${actionId === undefined ? "" : "/:id"}`;
  switch (key) {
    case "GET ":
      return [200, store.info];
    case "DELETE ":
      stores.delete(storeId);
      return [204, undefined];
    case "POST authorization-models":
      return [201, { authorization_model_id: store.writeModel(body as unknown as AuthorizationModelJson) }];
    case "GET authorization-models": {
      const listed = page(
        store.models(),
        readPageSize(query.get("page_size")),
        query.get("continuation_token"),
      );
      return [200, { authorization_models: listed.items, continuation_token: listed.continuation_token }];
    }
    case "GET authorization-models/:id":
      return [200, { authorization_model: { id: actionId, ...store.model(actionId).json } }];
    case "POST check":
      return [200, { allowed: check(store, body), resolution: "" }];
    case "POST batch-check":
      return [200, { result: batchCheck(store, body) }];
    case "POST list-objects":
      return [200, { objects: listObjects(store, body) }];
    case "POST write":
      write(store, body);
      return [200, {}];
    case "POST read":
      return [200, read(store, body)];
    default:
      throw new HttpError(404, "undefined_endpoint", `no route for ${method} ${path}`);
  }
}

function check(store: DevStore, body: Json): boolean {
  const tupleKey = (body.tuple_key ?? {}) as Tuple;
  return store.model(body.authorization_model_id as string | undefined).engine.check({
    user: tupleKey.user,
    relation: tupleKey.relation,
    object: tupleKey.object,
    contextualTuples: contextual(body.contextual_tuples as ContextualTupleKeys),
    ...(body.context ? { context: body.context as Json } : {}),
  });
}

function batchCheck(store: DevStore, body: Json): Record<string, unknown> {
  const checks = body.checks;
  if (!Array.isArray(checks) || checks.length === 0) {
    throw new HttpError(400, "validation_error", "checks must be a non-empty array");
  }
  const result: Record<string, unknown> = {};
  for (const item of checks as Json[]) {
    const id = String(item.correlation_id ?? "");
    if (id === "" || id in result)
      throw new HttpError(400, "validation_error", "correlation_id must be unique");
    try {
      result[id] = {
        allowed: check(store, { ...item, authorization_model_id: body.authorization_model_id }),
      };
    } catch (error) {
      if (!isAuthzError(error) || error.openfgaCode === undefined) throw error;
      result[id] = { error: { input_error: openFgaErrorName(error.openfgaCode), message: error.message } };
    }
  }
  return result;
}

function listObjects(store: DevStore, body: Json): string[] {
  return store.model(body.authorization_model_id as string | undefined).engine.listObjects({
    user: body.user as string,
    relation: body.relation as string,
    type: body.type as string,
    contextualTuples: contextual(body.contextual_tuples as ContextualTupleKeys),
    ...(body.context ? { context: body.context as Json } : {}),
  });
}

function write(store: DevStore, body: Json): void {
  const writes = (body.writes ?? {}) as { tuple_keys?: Tuple[]; on_duplicate?: string };
  const deletes = (body.deletes ?? {}) as { tuple_keys?: Tuple[]; on_missing?: string };
  const writeKeys = writes.tuple_keys ?? [];
  const deleteKeys = deletes.tuple_keys ?? [];
  if (!Array.isArray(writeKeys) || !Array.isArray(deleteKeys)) {
    throw new HttpError(400, "validation_error", "writes.tuple_keys and deletes.tuple_keys must be arrays");
  }
  if (writeKeys.length + deleteKeys.length === 0) {
    throw new HttpError(400, "validation_error", "a write needs writes or deletes");
  }
  store.write(
    body.authorization_model_id as string | undefined,
    writeKeys,
    deleteKeys,
    writes.on_duplicate === "ignore" ? "ignore" : "error",
    deletes.on_missing === "ignore" ? "ignore" : "error",
  );
}

function read(store: DevStore, body: Json) {
  const filter = (body.tuple_key ?? {}) as Partial<Tuple>;
  // Read ignores the model (stored tuples are returned as written), so any version's engine will do.
  const tuples = store.model(undefined).engine.read(filter);
  const listed = page(tuples, readPageSize(body.page_size), body.continuation_token);
  return {
    tuples: listed.items.map((key) => ({ key, timestamp: store.writtenAt(key) })),
    continuation_token: listed.continuation_token,
  };
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<Json> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError(413, "validation_error", "request body too large");
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not an object");
    return parsed as Json;
  } catch {
    throw new HttpError(400, "validation_error", "request body must be a JSON object");
  }
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (isAuthzError(error)) {
    if (error.openfgaCode === OpenFgaErrorCode.storeNotFound)
      return new HttpError(404, "store_id_not_found", error.message);
    if (error.code === "AUTHZ_INVALID_MODEL")
      return new HttpError(400, "invalid_authorization_model", error.message);
    if (error.openfgaCode !== undefined) {
      return new HttpError(400, openFgaErrorName(error.openfgaCode), error.message);
    }
  }
  return new HttpError(500, "internal_error", "internal server error");
}

/**
 * A loopback server speaking OpenFGA's HTTP API (stores, models, check,
 * batch-check, list-objects, write, read), backed by the embedded engine.
 * For development and tests: state lives in memory only.
 */
export async function startFgaDevServer(options: FgaDevServerOptions = {}): Promise<FgaDevServer> {
  const { host = "127.0.0.1", port = 0, token, maxBodyBytes = 1024 * 1024, logger = noopLogger } = options;
  const stores = new DevStores();

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    let status: number;
    let payload: unknown;
    try {
      if (token !== undefined && request.headers.authorization !== `Bearer ${token}`) {
        throw new HttpError(401, "unauthenticated", "missing or invalid bearer token");
      }
      const body = request.method === "POST" ? await readBody(request, maxBodyBytes) : {};
      [status, payload] = route(stores, request.method ?? "GET", url.pathname, url.searchParams, body);
    } catch (error) {
      const httpError = toHttpError(error);
      if (httpError.status === 500)
        logger.error({ err: error, path: url.pathname }, "fga dev server failure");
      status = httpError.status;
      payload = { code: httpError.code, message: httpError.message };
    }
    if (payload === undefined) {
      response.writeHead(status).end();
      return;
    }
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(payload));
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error }, "fga dev server failure");
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostInUrl}:${address.port}`,
    stores,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
