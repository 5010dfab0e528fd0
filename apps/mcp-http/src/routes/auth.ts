import type { Hono, MiddlewareHandler } from "hono";
import { z } from "zod";
import { clientAddress } from "../client-address.js";
import type { AppEnv, HttpAppDeps } from "./deps.js";
import { AUTH_TIMEOUT_MS } from "./unauthorized.js";

const loginSchema = z.object({
  username: z.string().min(1).max(128),
  password: z.string().min(1).max(1024),
});

export interface AuthRouteDeps extends Pick<HttpAppDeps, "identity" | "loginThrottle"> {
  /** Proxy hops whose `X-Forwarded-For` entries are trusted for the client address (0: the socket's). */
  trustProxyHops: number;
  /** Authenticates the caller of `/auth/logout` (a login token or an API key). */
  authenticated: MiddlewareHandler<AppEnv>;
}

/** `POST /auth/login` (when the identity provider takes passwords) and `POST /auth/logout`. */
export function registerAuthRoutes(app: Hono<AppEnv>, deps: AuthRouteDeps): void {
  const { identity, authenticated, loginThrottle, trustProxyHops } = deps;
  const login = identity.login;
  if (login) {
    app.post("/auth/login", async (c) => {
      const parsed = loginSchema.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success) {
        return c.json(
          { error: "invalid_request", message: "Expected a JSON body {username, password}." },
          400,
        );
      }
      // Failures (wrong password 401, throttled 429, hashing pool or session or throttle store
      // down 503) map in onError.
      const { username, password } = parsed.data;
      const signal = AbortSignal.timeout(AUTH_TIMEOUT_MS);
      const verify = () => login(username, password, signal);
      const tokens = loginThrottle
        ? await loginThrottle.attempt(username, clientAddress(c, trustProxyHops), signal, verify)
        : await verify();
      return c.json({
        access_token: tokens.accessToken,
        token_type: tokens.tokenType,
        expires_in: tokens.expiresIn,
      });
    });
  }

  app.post("/auth/logout", authenticated, async (c) => {
    await identity.logout(
      c.get("principal"),
      c.req.header("authorization"),
      AbortSignal.timeout(AUTH_TIMEOUT_MS),
    );
    return c.body(null, 204);
  });
}
