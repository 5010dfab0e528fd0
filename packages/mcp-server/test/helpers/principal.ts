import type { Principal } from "@mcp-langgraph/auth-provider";

/** A verified caller named `name` with `roles`, its token valid for another hour. */
export const principal = (name: string, roles: string[]): Principal => ({
  userId: `user:${name}`,
  username: name,
  roles,
  scopes: [],
  expiresAt: new Date(Date.now() + 3_600_000),
  claims: {},
});
