import { Client, type ClientCapabilities, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

/** Logs `username` in through `POST /auth/login` and returns the access token. */
export async function login(baseUrl: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${baseUrl}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 200) throw new Error(`login ${username} failed: ${response.status}`);
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

/** How the client speaks and sends: the protocol, its transport's fetch, its capabilities. */
export interface ConnectOptions {
  /** The 2025-11-25 session (the default) or the sessionless 2026-07-28 protocol. */
  protocol?: "2025-11-25" | "2026-07-28";
  /** Sends every request of the client (e.g. `roundRobinFetch`, to spread one session over instances, or to check headers). */
  fetch?: typeof fetch;
  /** Client capabilities (e.g. sampling, elicitation). */
  capabilities?: ClientCapabilities;
}

/** The official MCP client connected to `baseUrl`/mcp over Streamable HTTP with a bearer token. */
export async function connect(
  baseUrl: string,
  token: string,
  options: ConnectOptions = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client(
    { name: "mcp-http-test", version: "1.0.0" },
    {
      // Pinned, not `auto`: a server that fell back to 2025-11-25 would fail the connect, not pass quietly.
      ...(options.protocol === "2026-07-28"
        ? { versionNegotiation: { mode: { pin: "2026-07-28" as const } } }
        : {}),
      ...(options.capabilities ? { capabilities: options.capabilities } : {}),
    },
  );
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  await client.connect(transport);
  return { client, transport };
}

/**
 * A `fetch` that sends each request to the next of `baseUrls` in turn (same path and query), as a
 * round-robin balancer with no affinity would. `sent` lists the instance each request went to.
 */
export function roundRobinFetch(baseUrls: string[]): { fetch: typeof fetch; sent: string[] } {
  let next = 0;
  const sent: string[] = [];
  const rotating = (input: string | URL | Request, init?: RequestInit) => {
    const original = new URL(input instanceof Request ? input.url : input);
    const base = baseUrls[next++ % baseUrls.length] as string;
    sent.push(base);
    const target = new URL(original.pathname + original.search, base);
    return input instanceof Request ? fetch(new Request(target, input), init) : fetch(target, init);
  };
  return { fetch: rotating as typeof fetch, sent };
}
