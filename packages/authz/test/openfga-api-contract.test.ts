import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FgaDevServer, startFgaDevServer } from "../src/dev-server/server.ts";
import { createAuthorizer, isAuthzError } from "../src/index.ts";
import { CONTRACT_MODEL, describeAuthorizerContract } from "./contract/authorizer-contract.ts";
import { type Exchange, startFaultProxy } from "./support/fault-proxy.ts";
import { endpointKey, endpoints, errorResponses, OPENFGA_API_SOURCE } from "./support/openfga-api.ts";

// Every other OpenFGA test here talks to the project's own dev server, so on their own they would
// pass with a client and server that agree with each other but not with OpenFGA. This suite pins
// both sides to OpenFGA's published API (see support/openfga-api.ts for the version): (a) every
// request OpenFgaAuthorizer sends and (b) every answer of the dev server, errors included.

/** Statuses the dev server may answer with that OpenFGA does not publish, and why. */
const UNPUBLISHED_STATUSES: Record<number, string> = {
  413: "the dev server's request-size limit (maxBodyBytes); the API publishes no size-limit answer",
};

const TOKEN = "api-contract-token";
let server: FgaDevServer;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;

beforeAll(async () => {
  server = await startFgaDevServer({ token: TOKEN });
  proxy = await startFaultProxy(server.url);
});
afterAll(async () => {
  await proxy.close();
  await server.close();
});

const issues = (
  schema: { safeParse(value: unknown): { success: boolean; error?: unknown } },
  value: unknown,
) => {
  const result = schema.safeParse(value);
  return result.success ? [] : [JSON.stringify((result.error as { issues: unknown }).issues)];
};

/** What in one answer of the dev server departs from the published response shape. */
function responseViolations(method: string, path: string, status: number, body: unknown): string[] {
  const key = endpointKey(method, path);
  const where = `${method} ${path} → ${status}`;
  if (!key) return [`${where}: not an endpoint this package uses`];
  const endpoint = endpoints[key];
  if (endpoint && status === endpoint.status) {
    return issues(endpoint.response, body).map((issue) => `${where} response: ${issue}`);
  }
  const errorSchema =
    errorResponses[status] ?? (status in UNPUBLISHED_STATUSES ? errorResponses[400] : undefined);
  if (!errorSchema) return [`${where}: status not published for this endpoint`];
  return issues(errorSchema, body).map((issue) => `${where} error body: ${issue}`);
}

/** What in one request of OpenFgaAuthorizer departs from the published request shape. */
function requestViolations(exchange: Exchange): string[] {
  const key = endpointKey(exchange.method, exchange.path);
  const endpoint = key ? endpoints[key] : undefined;
  const where = `${exchange.method} ${exchange.path}`;
  if (!endpoint) return [`${where}: not an endpoint this package uses`];
  return [
    ...issues(endpoint.query, Object.fromEntries(exchange.query)).map((issue) => `${where} query: ${issue}`),
    ...issues(endpoint.request, exchange.requestBody).map((issue) => `${where} request: ${issue}`),
  ];
}

const viaProxy = (model = CONTRACT_MODEL) =>
  createAuthorizer({ backend: "openfga", apiUrl: proxy.url, model, token: TOKEN });

// (a) and (b) for the whole behaviour contract: each of its calls goes through the recording proxy.
describeAuthorizerContract("OpenFGA API via a recording proxy to the project's dev server", (model) =>
  viaProxy(model),
);

describe("OpenFgaAuthorizer's error paths through the recording proxy", () => {
  const codeOf = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      return isAuthzError(error) ? error.code : error;
    }
    return "no error";
  };

  it("sends published requests when the server answers with errors", async () => {
    const authz = await viaProxy();
    try {
      expect(await codeOf(authz.check({ user: "user:anne", relation: "nope", object: "document:x" }))).toBe(
        "AUTHZ_VALIDATION",
      );
      expect(
        await codeOf(
          authz.batchCheck([
            { user: "user:anne", relation: "owner", object: "document:x" },
            { user: "user:anne", relation: "nope", object: "document:x" },
          ]),
        ),
      ).toBe("AUTHZ_VALIDATION");
      expect(await codeOf(authz.listObjects({ user: "user:anne", relation: "nope", type: "document" }))).toBe(
        "AUTHZ_VALIDATION",
      );
      expect(
        await codeOf(authz.writeTuples([{ user: "user:anne", relation: "nope", object: "document:x" }])),
      ).toBe("AUTHZ_VALIDATION");
    } finally {
      await authz.close();
    }
    expect(
      await codeOf(
        createAuthorizer({
          backend: "openfga",
          apiUrl: proxy.url,
          storeId: "01ARZ3NDEKTSV4RRFFQ69G5FAV",
          token: TOKEN,
        }),
      ),
    ).toBe("AUTHZ_UNAVAILABLE");
    // The DSL parses; the server rejects the model (400 invalid_authorization_model).
    expect(await codeOf(viaProxy("model\n  schema 1.1\ntype user\n  relations\n    define x: [nope]"))).toBe(
      "AUTHZ_VALIDATION",
    );
  });
});

describe("the project's dev server answers errors in the published shape", () => {
  const call = async (method: string, path: string, body?: string, token: string | null = TOKEN) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        "content-type": "application/json",
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
  };

  it("uses only published statuses and error bodies ({ code, message } with a published code)", async () => {
    const created = await call("POST", "/stores", JSON.stringify({ name: "shapes" }));
    const storeId = (created.body as { id: string }).id;
    const answers = [
      ["POST", "/stores", created],
      ["GET", `/stores/${storeId}`, await call("GET", `/stores/${storeId}`)],
      ["POST", `/stores/${storeId}/check`, await call("POST", `/stores/${storeId}/check`, "{not json")],
      [
        "POST",
        `/stores/${storeId}/check`,
        await call(
          "POST",
          `/stores/${storeId}/check`,
          JSON.stringify({ tuple_key: { user: "user:a", relation: "r", object: "doc:1" } }),
        ),
      ],
      [
        "POST",
        `/stores/${storeId}/authorization-models`,
        await call(
          "POST",
          `/stores/${storeId}/authorization-models`,
          JSON.stringify({
            schema_version: "1.1",
            type_definitions: [{ type: "user", relations: { x: {} } }],
          }),
        ),
      ],
      [
        "POST",
        `/stores/${storeId}/write`,
        await call("POST", `/stores/${storeId}/write`, '{"writes":{"tuple_keys":1}}'),
      ],
      [
        "POST",
        `/stores/${storeId}/read`,
        await call("POST", `/stores/${storeId}/read`, '{"page_size":1000}'),
      ],
      [
        "GET",
        "/stores/01ARZ3NDEKTSV4RRFFQ69G5FAV/authorization-models",
        await call("GET", "/stores/01ARZ3NDEKTSV4RRFFQ69G5FAV/authorization-models"),
      ],
      [
        "POST",
        `/stores/${storeId}/list-objects`,
        await call("POST", `/stores/${storeId}/list-objects`, "{}", null),
      ],
    ] as const;
    expect(answers.map(([, , answer]) => answer.status)).toEqual([
      201, 200, 400, 400, 400, 400, 400, 404, 401,
    ]);
    expect(
      answers.flatMap(([method, path, answer]) =>
        responseViolations(method, path, answer.status, answer.body),
      ),
    ).toEqual([]);
    const oversized = await call(
      "POST",
      `/stores/${storeId}/write`,
      JSON.stringify({ pad: "x".repeat(2 * 1024 * 1024) }),
    );
    expect(oversized.status).toBe(413);
    expect(responseViolations("POST", `/stores/${storeId}/write`, oversized.status, oversized.body)).toEqual(
      [],
    );
  });
});

describe(`published OpenFGA API shapes (${OPENFGA_API_SOURCE.repository}@${OPENFGA_API_SOURCE.commit.slice(0, 12)})`, () => {
  // Runs after the suites above (vitest keeps file order), over everything the proxy recorded.
  it("saw every endpoint OpenFgaAuthorizer uses, with successes and errors", () => {
    const seen = new Set(proxy.exchanges.map((exchange) => endpointKey(exchange.method, exchange.path)));
    expect([...seen].sort()).toEqual(
      [
        "POST /stores",
        "GET /stores/{store_id}/authorization-models",
        "POST /stores/{store_id}/authorization-models",
        "POST /stores/{store_id}/check",
        "POST /stores/{store_id}/batch-check",
        "POST /stores/{store_id}/list-objects",
        "POST /stores/{store_id}/write",
        "POST /stores/{store_id}/read",
      ].sort(),
    );
    const statuses = new Set(proxy.exchanges.map((exchange) => exchange.status));
    expect([...statuses].sort()).toEqual([200, 201, 400, 404]);
  });

  it("(a) every request OpenFgaAuthorizer sent matches the published request shape", () => {
    expect(proxy.exchanges.length).toBeGreaterThan(50);
    expect(proxy.exchanges.flatMap(requestViolations)).toEqual([]);
  });

  it("(b) every answer of the dev server matches the published response shape", () => {
    expect(
      proxy.exchanges.flatMap((exchange) =>
        responseViolations(exchange.method, exchange.path, exchange.status, exchange.responseBody),
      ),
    ).toEqual([]);
  });
});
