import type { MiddlewareHandler } from "hono";
import type { Identity } from "../identity.js";
import type { AppEnv } from "../routes/deps.js";
import { AUTH_TIMEOUT_MS, callerOf } from "../routes/unauthorized.js";

export interface AuthenticateOptions {
  identity: Identity;
  unauthorized: (hadCredential: boolean) => Response;
  /**
   * Whether an API key is accepted. Key management and account routes need a login token: a key
   * cannot mint or list keys, so a leaked key stays contained.
   */
  acceptApiKeys: boolean;
}

/**
 * Authenticates the caller of a REST route (`/auth/*`) and leaves the principal on the context;
 * a missing or bad credential is a 401 with its challenge, a backend that cannot answer a 503
 * (thrown, mapped by the app's error handler).
 */
export function authenticate({
  identity,
  unauthorized,
  acceptApiKeys,
}: AuthenticateOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const authorization = c.req.header("authorization");
    const principal = await callerOf(
      identity,
      authorization,
      AbortSignal.timeout(AUTH_TIMEOUT_MS),
      c.get("log"),
    );
    if (!principal || (!acceptApiKeys && principal.claims.api_key_id !== undefined)) {
      return unauthorized(authorization !== undefined);
    }
    c.set("principal", principal);
    await next();
  };
}
