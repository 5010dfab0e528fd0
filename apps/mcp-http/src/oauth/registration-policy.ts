import { errors, type KoaContextWithOIDC } from "oidc-provider";

const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** Whether a redirect URI is `https:` or `http:` on a loopback host (RFC 8252 §7.3), the default registration policy. */
export function isLoopbackOrHttps(uri: unknown): boolean {
  if (typeof uri !== "string") return false;
  const url = URL.parse(uri);
  if (!url) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
}

/**
 * oidc-provider's hook on client metadata, run while a registration request is validated:
 * with OAUTH_REGISTRATION=loopback a client may only register redirect URIs a local app or an
 * https site can receive, so an open registration endpoint cannot be used to send codes to
 * arbitrary custom schemes or plain-http hosts. It runs for every listed extra property, once
 * per client, so it hangs off `software_id` (RFC 7591 metadata that oidc-provider does not know).
 */
export function registrationValidator(mode: "open" | "loopback" | "off") {
  return (
    ctx: KoaContextWithOIDC | undefined,
    key: string,
    _value: unknown,
    metadata: { redirect_uris?: unknown },
  ) => {
    if (key !== "software_id" || mode !== "loopback" || ctx?.oidc?.route !== "registration") return;
    const uris = Array.isArray(metadata.redirect_uris) ? metadata.redirect_uris : [];
    const refused = uris.find((uri) => !isLoopbackOrHttps(uri));
    if (refused !== undefined) {
      // RFC 7591's code for a refused redirect URI, with this policy's reason instead of the
      // library's default text (which is about authorization requests).
      const error = new errors.InvalidRedirectUri();
      error.error_description =
        "redirect_uris must use https, or http on a loopback address (127.0.0.1, [::1], localhost)";
      throw error;
    }
  };
}
