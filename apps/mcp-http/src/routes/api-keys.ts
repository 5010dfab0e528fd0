import type { Hono, MiddlewareHandler } from "hono";
import { z } from "zod";
import type { AppEnv, HttpAppDeps } from "./deps.js";
import { AUTH_TIMEOUT_MS } from "./unauthorized.js";

const apiKeySchema = z.object({
  name: z.string().min(1).max(64).optional(),
  ttl_days: z.number().int().min(1).max(3650).optional(),
});

const describeKey = (info: { id: string; name: string; createdAt: Date; expiresAt?: Date }) => ({
  id: info.id,
  name: info.name,
  created_at: info.createdAt.toISOString(),
  expires_at: info.expiresAt?.toISOString() ?? null,
});

export interface ApiKeyRouteDeps extends Pick<HttpAppDeps, "identity"> {
  /** Authenticates a login token (never an API key: a key cannot mint or list keys). */
  loginToken: MiddlewareHandler<AppEnv>;
}

/** `/auth/api-keys`: create, list and revoke the caller's own API keys, when API keys are on. */
export function registerApiKeyRoutes(app: Hono<AppEnv>, { identity, loginToken }: ApiKeyRouteDeps): void {
  const apiKeys = identity.apiKeys;
  if (!apiKeys) return;

  app.post("/auth/api-keys", loginToken, async (c) => {
    const principal = c.get("principal");
    const parsed = apiKeySchema.safeParse(await c.req.json().catch(() => ({})));
    if (!parsed.success)
      return c.json({ error: "invalid_request", message: "Expected {name?, ttl_days?}." }, 400);
    // A name the manager refuses (400) or a full key ring (409) maps in onError.
    const created = await apiKeys.create(
      { username: principal.username, roles: principal.roles },
      {
        ...(parsed.data.name ? { name: parsed.data.name } : {}),
        ...(parsed.data.ttl_days ? { ttlSeconds: parsed.data.ttl_days * 86_400 } : {}),
        signal: AbortSignal.timeout(AUTH_TIMEOUT_MS),
      },
    );
    return c.json({ api_key: created.key, ...describeKey(created.info) }, 201);
  });

  app.get("/auth/api-keys", loginToken, async (c) => {
    const keys = await apiKeys.list(c.get("principal").username, {
      signal: AbortSignal.timeout(AUTH_TIMEOUT_MS),
    });
    return c.json({ keys: keys.map(describeKey) });
  });

  app.delete("/auth/api-keys/:id", loginToken, async (c) => {
    await apiKeys.revoke(c.get("principal").username, c.req.param("id"), {
      signal: AbortSignal.timeout(AUTH_TIMEOUT_MS),
    });
    return c.body(null, 204);
  });
}
