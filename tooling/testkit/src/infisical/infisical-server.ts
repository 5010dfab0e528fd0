import { randomBytes } from "node:crypto";
import { type LoopbackServer, sendJson, startLoopbackServer } from "../llm-loopback/loopback-server.ts";

export interface InfisicalIdentity {
  clientId: string;
  clientSecret: string;
  projectId: string;
  environment: string;
}

export interface InfisicalLoopback extends LoopbackServer {
  /** The project's secrets at `/` in the identity's environment; edit to "rotate" them. */
  secrets: Map<string, string>;
  /** Answers every request with this status (e.g. 500) until set back to undefined. */
  failWith: number | undefined;
  /** Invalidates every access token issued so far (as an expired or revoked token). */
  revokeTokens(): void;
  /** Logins and list calls answered successfully so far. */
  readonly logins: number;
  readonly lists: number;
}

/**
 * A loopback Infisical speaking the parts of its HTTP API that `@infisical/sdk` uses for
 * universal auth and reading secrets (read from the SDK's own source):
 * `POST /api/v1/auth/universal-auth/login` → `{ accessToken, expiresIn, … }`,
 * `GET /api/v3/secrets/raw?workspaceId&environment&secretPath…` → `{ secrets, imports }` and
 * `GET /api/v3/secrets/raw/:name` → `{ secret }`, each with `Authorization: Bearer <accessToken>`.
 * Errors carry Infisical's `{ statusCode, message, error }` body.
 */
export async function startInfisicalLoopback(
  identity: InfisicalIdentity,
  initial: Record<string, string> = {},
): Promise<InfisicalLoopback> {
  const secrets = new Map(Object.entries(initial));
  const tokens = new Set<string>();
  const state = { failWith: undefined as number | undefined, logins: 0, lists: 0 };
  const refuse = (response: Parameters<typeof sendJson>[0], statusCode: number, message: string) =>
    sendJson(response, statusCode, {
      statusCode,
      message,
      error: statusCode === 401 ? "Unauthorized" : "Error",
    });
  const asSecret = (key: string, value: string) => ({
    id: `id-${key}`,
    _id: `id-${key}`,
    workspace: identity.projectId,
    environment: identity.environment,
    version: 1,
    type: "shared",
    secretKey: key,
    secretValue: value,
    secretComment: "",
    secretPath: "/",
    tags: [],
    createdAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
  });

  const server = await startLoopbackServer((request, response) => {
    if (state.failWith !== undefined) return refuse(response, state.failWith, "loopback failure");
    const url = new URL(request.url, "http://loopback");
    if (request.method === "POST" && url.pathname === "/api/v1/auth/universal-auth/login") {
      const body = request.body as { clientId?: unknown; clientSecret?: unknown } | undefined;
      if (body?.clientId !== identity.clientId || body?.clientSecret !== identity.clientSecret) {
        return refuse(response, 401, "Invalid credentials");
      }
      const accessToken = randomBytes(24).toString("hex");
      tokens.add(accessToken);
      state.logins++;
      return sendJson(response, 200, {
        accessToken,
        expiresIn: 7200,
        accessTokenMaxTTL: 43_200,
        tokenType: "Bearer",
      });
    }
    if (request.method === "GET" && url.pathname.startsWith("/api/v3/secrets/raw")) {
      const token = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ""))?.[1];
      if (!token || !tokens.has(token)) return refuse(response, 401, "Invalid token");
      if (
        url.searchParams.get("workspaceId") !== identity.projectId ||
        url.searchParams.get("environment") !== identity.environment
      ) {
        return refuse(response, 404, "Project or environment not found");
      }
      const name = decodeURIComponent(url.pathname.slice("/api/v3/secrets/raw/".length));
      if (url.pathname === "/api/v3/secrets/raw") {
        state.lists++;
        return sendJson(response, 200, {
          secrets: [...secrets].map(([key, value]) => asSecret(key, value)),
          imports: [],
        });
      }
      const value = secrets.get(name);
      if (value === undefined) return refuse(response, 404, `Secret with name '${name}' not found`);
      return sendJson(response, 200, { secret: asSecret(name, value) });
    }
    return refuse(response, 404, `Route ${request.method}:${url.pathname} not found`);
  });

  // defineProperties, not Object.assign: assign would copy the getters' current values.
  const controls = {
    secrets,
    get failWith() {
      return state.failWith;
    },
    set failWith(status: number | undefined) {
      state.failWith = status;
    },
    revokeTokens: () => tokens.clear(),
    get logins() {
      return state.logins;
    },
    get lists() {
      return state.lists;
    },
  };
  return Object.defineProperties(server, Object.getOwnPropertyDescriptors(controls)) as InfisicalLoopback;
}
