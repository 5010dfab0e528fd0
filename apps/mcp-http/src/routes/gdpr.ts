import type { Context, Hono, MiddlewareHandler } from "hono";
import { failureHeaders, httpFailureOf, RETRY_BACKEND_SECONDS, unavailable } from "../http-errors.js";
import type { UserData } from "../user-data.js";
import type { AppEnv } from "./deps.js";

export interface GdprRouteDeps {
  userData: UserData;
  /** Authenticates a login token (never an API key: a leaked key must not read or erase an account). */
  loginToken: MiddlewareHandler<AppEnv>;
}

/**
 * `GET /api/v1/users/me/export` and `DELETE /api/v1/users/me` (GDPR articles 15, 20 and 17). Every
 * backend failure is a 503 with `Retry-After`: the erase is safe to repeat, the export to re-read.
 */
export function registerGdprRoutes(app: Hono<AppEnv>, { userData, loginToken }: GdprRouteDeps): void {
  app.get("/api/v1/users/me/export", loginToken, async (c) => {
    const principal = c.get("principal");
    const signal = c.req.raw.signal;
    let data: Awaited<ReturnType<UserData["export"]>>;
    try {
      data = await userData.export(principal, signal);
    } catch (error) {
      return failed(c, error, "export");
    }
    // Conversations are read one at a time as the client takes them, so the process holds one
    // conversation of the export at once however many the user has: the size has no cap.
    const encoder = new TextEncoder();
    const head = JSON.stringify({ exported_at: new Date().toISOString(), ...data.head });
    const keys = [...data.conversationKeys];
    let first = true;
    let opened = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!opened) {
          opened = true;
          controller.enqueue(encoder.encode(`${head.slice(0, -1)},"conversations":[`));
          return;
        }
        const key = keys.shift();
        if (key === undefined) {
          controller.enqueue(encoder.encode("]}"));
          controller.close();
          return;
        }
        try {
          const conversation = await data.conversation(key, signal);
          if (!conversation) return; // deleted since it was listed
          controller.enqueue(encoder.encode(`${first ? "" : ","}${JSON.stringify(conversation)}`));
          first = false;
        } catch (error) {
          // Headers are sent: the only honest signal left is a cut-off body (invalid JSON).
          c.get("log").warn({ code: codeOf(error) }, "gdpr export failed part-way");
          controller.error(error);
        }
      },
    });
    return new Response(body, {
      status: 200,
      headers: {
        "content-type": "application/json",
        "content-disposition": 'attachment; filename="export.json"',
        "cache-control": "no-store",
      },
    });
  });

  app.delete("/api/v1/users/me", loginToken, async (c) => {
    try {
      const counts = await userData.erase(c.get("principal"), c.req.raw.signal);
      return c.json({ erased: counts }, 200);
    } catch (error) {
      return failed(c, error, "erase");
    }
  });
}

const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code ?? "unknown";

/**
 * A known failure keeps its own status (e.g. 401 for a credential refused mid-way); any other typed
 * backend failure (authorizer, checkpointer, session store) is a retryable 503. An untyped error is a
 * bug and goes to the app's error handler (500).
 */
function failed(c: Context<AppEnv>, error: unknown, what: "export" | "erase"): Response {
  const code = codeOf(error);
  const failure =
    httpFailureOf(error) ??
    (typeof code === "string"
      ? unavailable(`The ${what} could not finish; retry later.`, RETRY_BACKEND_SECONDS)
      : undefined);
  if (failure === undefined) throw error;
  c.get("log").warn({ code, status: failure.status }, `gdpr ${what} failed`);
  return new Response(JSON.stringify({ error: failure.error, message: failure.message }), {
    status: failure.status,
    headers: { "content-type": "application/json", ...failureHeaders(failure) },
  });
}
