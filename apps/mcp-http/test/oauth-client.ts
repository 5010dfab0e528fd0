import { createHash, randomBytes } from "node:crypto";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthDiscoveryState,
  OAuthTokens,
} from "@modelcontextprotocol/client";

/**
 * An MCP client's OAuth state kept in memory, as a desktop client keeps it in its settings: the
 * SDK drives discovery, registration, PKCE and the token exchange; the test plays the browser.
 */
export class MemoryOAuthClient implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier = "";
  #discovery: OAuthDiscoveryState | undefined;

  constructor(
    readonly redirectUrl: string,
    readonly clientName = "Browser Test Client",
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.clientName,
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.#client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.#client = info;
  }
  tokens() {
    return this.#tokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.#tokens = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.#verifier = verifier;
  }
  codeVerifier() {
    return this.#verifier;
  }
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.#discovery = state;
  }
  discoveryState() {
    return this.#discovery;
  }
}

/** A PKCE pair (RFC 7636, S256). */
export function pkcePair() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** The claims of a JWT, unverified (the server verified it; the test reads what it says). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<
    string,
    unknown
  >;
}

/** Registers a public client by RFC 7591 dynamic registration. */
export async function registerClient(
  baseUrl: string,
  redirectUris: string[],
  clientName = "Raw Client",
  extra: Record<string, string> = {},
) {
  const response = await fetch(`${baseUrl}/oauth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: clientName,
      redirect_uris: redirectUris,
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      ...extra,
    }),
  });
  const text = await response.text();
  // A 404 (registration off) has no JSON body.
  const body = (text.startsWith("{") ? JSON.parse(text) : { text }) as Record<string, string>;
  return { status: response.status, body };
}

/** The parts of an authorization request that name the client and bind the code. */
export interface CodeRequest {
  clientId: string;
  redirectUri: string;
  /** The PKCE S256 challenge (see `pkcePair`). */
  challenge: string;
  /** The MCP endpoint the token is for (RFC 8707). */
  resource: string;
}

/**
 * The /oauth/authorize URL for a code with PKCE (S256) and the `mcp` scope, as an MCP client asks
 * for it; `overrides` replace parameters, or with `undefined` leave them out.
 */
export function authorizeUrl(
  baseUrl: string,
  request: CodeRequest,
  overrides: Record<string, string | undefined> = {},
): string {
  const all: Record<string, string | undefined> = {
    response_type: "code",
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    code_challenge: request.challenge,
    code_challenge_method: "S256",
    scope: "mcp",
    resource: request.resource,
    ...overrides,
  };
  const params = Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return `${baseUrl}/oauth/authorize?${new URLSearchParams(params)}`;
}

/** A cookie jar of one browser, without a browser: follows an authorization request through its interaction. */
export class Browserless {
  #cookies = new Map<string, string>();

  /** One request with this browser's cookies, redirects not followed; keeps the cookies it sets. */
  async get(url: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(url, {
      ...init,
      redirect: "manual",
      headers: { ...(init.headers as Record<string, string>), cookie: this.cookieHeader() },
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(";");
      const [name, ...value] = (pair ?? "").split("=");
      if (name) this.#cookies.set(name.trim(), value.join("="));
    }
    return response;
  }

  cookieHeader(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  /** Follows `response`'s redirects (relative to `base`) until one leads to `stopAt`, which is not fetched. */
  async follow(base: string, response: Response, stopAt: string): Promise<URL> {
    let current = response;
    for (let hop = 0; hop < 10; hop++) {
      const location = current.headers.get("location");
      if (!location) throw new Error(`no redirect (HTTP ${current.status}): ${await current.text()}`);
      const next = new URL(location, base);
      if (next.href.startsWith(stopAt)) return next;
      current = await this.get(next.href);
    }
    throw new Error("more than 10 redirects");
  }
}
