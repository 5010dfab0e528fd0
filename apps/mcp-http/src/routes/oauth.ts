import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { isAuthError, type LocalIdentity, type LoginThrottle } from "@mcp-langgraph/auth-provider";
import type { Logger } from "@mcp-langgraph/core";
import { isSessionError } from "@mcp-langgraph/session";
import type { Context, Hono } from "hono";
import type { Interaction } from "oidc-provider";
import { clientAddress } from "../client-address.js";
import { MCP_SCOPE, OAUTH_PATHS } from "../oauth/authorization-server.js";
import type { EmbeddedOAuth } from "../oauth/embedded.js";
import {
  LOGIN_CSS,
  LOGIN_CSS_PATH,
  type PageResponse,
  type RequestSummary,
  renderConsentPage,
  renderErrorPage,
  renderLoginPage,
} from "../oauth/pages.js";
import type { AppEnv } from "./deps.js";
import { AUTH_TIMEOUT_MS } from "./unauthorized.js";

export interface OAuthRouteDeps {
  oauth: EmbeddedOAuth;
  loginThrottle: LoginThrottle | undefined;
  trustProxyHops: number;
  logger: Logger;
}

const WRONG_CREDENTIALS = "Wrong user name or password.";
/** Scopes the authorization server itself knows (authorization-server.ts), granted as asked. */
const OP_SCOPES = new Set(["openid", "offline_access", MCP_SCOPE]);

const page = (c: Context, response: PageResponse) =>
  c.body(response.body, response.status as 200, response.headers);

/**
 * The embedded authorization server on this app's port: oidc-provider answers its endpoints
 * (discovery, /oauth/authorize, /oauth/token, /oauth/revoke, /oauth/register) through its Node
 * callback; the login and consent pages are this app's, so they share the login throttle and
 * the session store with `POST /auth/login`.
 */
export function registerOAuthRoutes(app: Hono<AppEnv>, deps: OAuthRouteDeps): void {
  const { oauth, loginThrottle, trustProxyHops, logger } = deps;
  const { provider, keys } = oauth;
  const callback = provider.callback();
  const nodeOf = (c: Context) => {
    const { incoming, outgoing } = c.env as HttpBindings;
    return { req: incoming, res: outgoing };
  };
  const forward = async (c: Context) => {
    const { req, res } = nodeOf(c);
    await callback(req, res);
    return RESPONSE_ALREADY_SENT;
  };

  /** The interaction this browser is in (its signed cookie must match the URL), or an error page. */
  const interactionOf = async (c: Context): Promise<Interaction | Response> => {
    const { req, res } = nodeOf(c);
    try {
      const interaction = await provider.interactionDetails(req, res);
      if (interaction.uid === c.req.param("uid")) return interaction;
    } catch (error) {
      logger.debug({ err: { name: (error as Error).name } }, "oauth interaction not found");
    }
    return page(
      c,
      renderErrorPage("invalid_request", "This sign-in has expired or was opened in another browser."),
    );
  };
  const summaryOf = async (interaction: Interaction): Promise<RequestSummary> => {
    const params = interaction.params as Record<string, unknown>;
    const clientId = String(params.client_id);
    const client = await provider.Client.find(clientId);
    return {
      uid: interaction.uid,
      csrf: keys.csrfToken(interaction.uid),
      clientName: client?.clientName ?? clientId,
      clientId,
      redirectUri: String(params.redirect_uri ?? ""),
      resource: String(params.resource ?? ""),
      scopes: String(params.scope ?? "")
        .split(" ")
        .filter(Boolean),
    };
  };
  /** The posted form, after the CSRF check; undefined (and nothing done) when the token is wrong. */
  const formOf = async (c: Context, interaction: Interaction) => {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    return keys.checkCsrf(interaction.uid, form.csrf) ? form : undefined;
  };
  const csrfRefused = (c: Context) =>
    page(c, renderErrorPage("invalid_request", "The form expired or did not come from this server.", 403));
  const unavailable = (c: Context) => {
    const response = renderErrorPage(
      "temporarily_unavailable",
      "Sign-in is unavailable; try again shortly.",
      503,
    );
    return page(c, response);
  };

  /** A grant for what the client asked: its OIDC scopes and this server's resource scope. */
  const grantFor = async (interaction: Interaction, username: string) => {
    const params = interaction.params as Record<string, unknown>;
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId: username, clientId: String(params.client_id) });
    if (!grant || grant.accountId !== username) throw new Error("grant does not belong to this user");
    const requested = String(params.scope ?? "")
      .split(" ")
      .filter(Boolean);
    const oidc = requested.filter((scope) => OP_SCOPES.has(scope));
    if (oidc.length > 0) grant.addOIDCScope(oidc.join(" "));
    const details = interaction.prompt.details as { missingOIDCClaims?: string[] };
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    grant.addResourceScope(String(params.resource), requested.includes(MCP_SCOPE) ? MCP_SCOPE : "");
    return grant;
  };
  const finish = async (
    c: Context,
    interaction: Interaction,
    identity: LocalIdentity,
    signal: AbortSignal,
  ) => {
    let grantId: string;
    try {
      grantId = await (await grantFor(interaction, identity.username)).save();
      await oauth.openSession(identity, grantId, signal);
    } catch (error) {
      // A session or state store that cannot answer: nothing is granted, the person may retry.
      if ((isAuthError(error) && error.code === "AUTH_UNAVAILABLE") || isSessionError(error)) {
        logger.warn({ code: (error as { code?: unknown }).code }, "oauth sign-in: store unavailable");
        return unavailable(c);
      }
      throw error;
    }
    const { req, res } = nodeOf(c);
    const result = {
      ...(interaction.prompt.name === "login"
        ? { login: { accountId: identity.username, remember: false } }
        : {}),
      consent: { grantId },
    };
    return c.redirect(await provider.interactionResult(req, res, result), 303);
  };

  app.get(LOGIN_CSS_PATH, (c) =>
    c.body(LOGIN_CSS, 200, {
      "content-type": "text/css; charset=utf-8",
      "cache-control": "public, max-age=3600",
      "x-content-type-options": "nosniff",
    }),
  );

  app.get(`${OAUTH_PATHS.interaction}/:uid`, async (c) => {
    const interaction = await interactionOf(c);
    if (interaction instanceof Response) return interaction;
    const summary = await summaryOf(interaction);
    logger.debug(
      { prompt: interaction.prompt.name, reasons: interaction.prompt.reasons },
      "oauth interaction",
    );
    if (interaction.prompt.name === "login") return page(c, renderLoginPage(summary));
    return page(c, renderConsentPage(summary, String(interaction.session?.accountId)));
  });

  app.post(`${OAUTH_PATHS.interaction}/:uid/login`, async (c) => {
    const interaction = await interactionOf(c);
    if (interaction instanceof Response) return interaction;
    const form = await formOf(c, interaction);
    if (!form) return csrfRefused(c);
    const summary = await summaryOf(interaction);
    const username = typeof form.username === "string" ? form.username : "";
    const password = typeof form.password === "string" ? form.password : "";
    if (!username || !password || username.length > 128 || password.length > 1024) {
      return page(
        c,
        renderLoginPage(summary, {
          status: 400,
          message: "Enter your user name and password.",
          username: username.slice(0, 128),
        }),
      );
    }
    const signal = AbortSignal.timeout(AUTH_TIMEOUT_MS);
    let identity: LocalIdentity;
    try {
      const verify = () => oauth.verifyCredentials(username, password, signal);
      // A throttled attempt never reaches the password check (login-throttle.ts).
      identity = loginThrottle
        ? await loginThrottle.attempt(username, clientAddress(c, trustProxyHops), signal, verify)
        : await verify();
    } catch (error) {
      if (isAuthError(error) && error.code === "INVALID_CREDENTIALS") {
        return page(c, renderLoginPage(summary, { status: 401, message: WRONG_CREDENTIALS, username }));
      }
      if (isAuthError(error) && error.code === "LOGIN_THROTTLED") {
        const retryAfter = Math.ceil(Number(error.details?.retryAfterMs ?? 60_000) / 1000);
        const response = renderLoginPage(summary, {
          status: 429,
          message: "Too many failed sign-ins. Try again later.",
          username,
        });
        return page(c, { ...response, headers: { ...response.headers, "retry-after": String(retryAfter) } });
      }
      if (isAuthError(error) && error.code === "AUTH_UNAVAILABLE") return unavailable(c);
      throw error;
    }
    return finish(c, interaction, identity, signal);
  });

  app.post(`${OAUTH_PATHS.interaction}/:uid/allow`, async (c) => {
    const interaction = await interactionOf(c);
    if (interaction instanceof Response) return interaction;
    if (!(await formOf(c, interaction))) return csrfRefused(c);
    const username = interaction.session?.accountId;
    const roles = username ? oauth.rolesOf(username) : undefined;
    // Consent without a signed-in, still configured user is no consent.
    if (interaction.prompt.name !== "consent" || !username || !roles) {
      return page(c, renderErrorPage("invalid_request", "Sign in first.", 400));
    }
    return finish(c, interaction, { username, roles: [...roles] }, AbortSignal.timeout(AUTH_TIMEOUT_MS));
  });

  app.post(`${OAUTH_PATHS.interaction}/:uid/deny`, async (c) => {
    const interaction = await interactionOf(c);
    if (interaction instanceof Response) return interaction;
    if (!(await formOf(c, interaction))) return csrfRefused(c);
    const { req, res } = nodeOf(c);
    const returnTo = await provider.interactionResult(
      req,
      res,
      { error: "access_denied", error_description: "The user did not allow the request." },
      { mergeWithLastSubmission: false },
    );
    return c.redirect(returnTo, 303);
  });

  // RFC 8414 metadata: the same document as OIDC discovery, which oidc-provider serves.
  app.get("/.well-known/oauth-authorization-server", (c) => {
    nodeOf(c).req.url = "/.well-known/openid-configuration";
    return forward(c);
  });
  app.get("/.well-known/openid-configuration", forward);
  app.all("/oauth/*", forward);
}
