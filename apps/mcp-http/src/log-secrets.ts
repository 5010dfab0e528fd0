import { parseLocalUsers } from "@mcp-langgraph/auth-provider";
import type { AppConfig } from "./config.js";

/** Field names whose values are secrets wherever they appear in a log line (pino `redact`). */
export const SECRET_FIELD_NAMES = [
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "cookie",
  "set-cookie",
  "password",
  "token",
  "accessToken",
  "access_token",
  "refreshToken",
  "refresh_token",
  "idToken",
  "id_token",
  "apiKey",
  "api_key",
  "clientSecret",
  "client_secret",
  "secretAccessKey",
  "sessionToken",
  "signingKey",
  "privateKeyJwk",
  "connectionString",
  // `name:password:roles,…`: a password shorter than the scrubber's minimum would show in a config dump.
  "localUsers",
  // Bound to its user, so not a credential alone; still nobody else's business.
  "mcp-session-id",
] as const;

/**
 * Redact paths for pino: each secret name at the top level and up to three levels down (pino
 * matches a wildcard as exactly one level), plus request and response headers.
 */
export function redactPaths(): string[] {
  const quoted = SECRET_FIELD_NAMES.map((name) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : `["${name}"]`));
  const join = (prefix: string, name: string) =>
    name.startsWith("[") ? `${prefix}${name}` : `${prefix}.${name}`;
  return quoted.flatMap((name) => [name, join("*", name), join("*.*", name), join("*.*.*", name)]);
}

/** Secrets shorter than this are not searched for in free text: they would match ordinary words and JSON syntax. */
export const MIN_SCRUBBED_SECRET_CHARS = 8;

const SECRET_KEY = /key|secret|token|password|credential|connectionstring/i;
const JWK_PRIVATE_MEMBERS = new Set(["d", "p", "q", "dp", "dq", "qi", "k"]);

/** The password of a URL such as `postgres://user:pw@host/db` or `redis://:pw@host`. */
function urlPassword(value: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || !URL.canParse(value)) return undefined;
  const { password } = new URL(value);
  return password ? decodeURIComponent(password) : undefined;
}

function collect(value: unknown, underSecretKey: boolean, out: Set<string>, depth: number): void {
  if (depth > 8 || value === null || value === undefined) return;
  if (typeof value === "string") {
    if (underSecretKey) out.add(value);
    const password = urlPassword(value);
    if (password) out.add(password);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collect(item, underSecretKey, out, depth + 1);
    return;
  }
  if (typeof value === "object") {
    for (const [key, member] of Object.entries(value)) {
      const secret = underSecretKey || SECRET_KEY.test(key) || JWK_PRIVATE_MEMBERS.has(key);
      collect(member, secret, out, depth + 1);
    }
  }
}

/**
 * Every secret value the configuration holds (provider and API keys, the OIDC client secret, the
 * signing key, local users' passwords, passwords inside backend URLs, the OpenFGA token), so the
 * log output can be scrubbed of them even where they hide inside free text such as an error
 * message a provider SDK composed.
 */
export function configuredSecrets(config: AppConfig): string[] {
  const out = new Set<string>();
  collect(config.services, false, out, 0);
  collect(config.sessions, false, out, 0);
  collect(config.auth.oidc?.clientSecret, true, out, 0);
  // Collector API keys travel in the OTLP export headers.
  collect(config.tracing?.headers, true, out, 0);
  if (config.auth.signingKey) collect(config.auth.signingKey, false, out, 0);
  collect(config.mcp.requestState.key, true, out, 0);
  if (config.auth.localUsers?.trim()) {
    try {
      for (const user of parseLocalUsers(config.auth.localUsers)) out.add(user.password);
    } catch {
      // A malformed LOCAL_USERS fails start-up on its own, with a message that names no password.
    }
  }
  return [...out].filter((secret) => secret.length >= MIN_SCRUBBED_SECRET_CHARS);
}

/** Replaces each secret (as it appears inside JSON output) with `[Redacted]`. */
export function secretScrubber(secrets: readonly string[]): (line: string) => string {
  // JSON-escaped, as pino writes strings; longest first, so a secret containing another goes whole.
  const needles = [...new Set(secrets.map((secret) => JSON.stringify(secret).slice(1, -1)))].sort(
    (a, b) => b.length - a.length,
  );
  if (needles.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const needle of needles) if (out.includes(needle)) out = out.replaceAll(needle, "[Redacted]");
    return out;
  };
}
