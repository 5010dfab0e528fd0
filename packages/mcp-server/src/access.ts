import type { Principal } from "@mcp-langgraph/auth-provider";
import type { Authorizer, Tuple } from "@mcp-langgraph/authz";
import { isAuthzError } from "@mcp-langgraph/authz";
import { McpServerError } from "./errors.js";

/** Roles are turned into contextual tuples; anything else in a claim is ignored. */
const ROLE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const MAX_ROLE_TUPLES = 32;

/**
 * Contextual tuples derived from the verified token only (never from tool
 * arguments): each role the identity provider asserted becomes
 * `<user> assignee role:<name>` for this one decision.
 */
export function roleTuples(principal: Principal): Tuple[] {
  return principal.roles
    .filter((role) => ROLE_NAME.test(role))
    .slice(0, MAX_ROLE_TUPLES)
    .map((role) => ({ user: principal.userId, relation: "assignee", object: `role:${role}` }));
}

export type ConversationAccess = "created" | "editable";

/** What a tool call is authorized against: `tool:<name>` for this server's tools, `upstream_tool:<name>` for an upstream's. */
export interface ToolObject {
  /** The tool's name, as the caller knows it (for the refusal message). */
  name: string;
  object: string;
  relation: string;
  /**
   * Facts from the server's own configuration (e.g. which upstream server a tool belongs to), sent
   * with the roles as contextual tuples; never anything from the call's arguments.
   */
  links?: Tuple[];
}

/**
 * The authorization decisions the MCP tools make. Every failure of the
 * authorizer (error, timeout, open circuit) denies: the caller sees an
 * "unavailable" error, never an allow.
 */
export class ToolAccess {
  readonly #authorizer: Authorizer;
  /**
   * In-process queue of claims per thread id. The claim is atomic in the store (for the
   * OpenFGA server, nearly: ADR 0070); queueing keeps that residual race out of one process.
   */
  readonly #claims = new Map<string, Promise<unknown>>();

  constructor(authorizer: Authorizer) {
    this.#authorizer = authorizer;
  }

  async requireTool(principal: Principal, tool: ToolObject, signal?: AbortSignal): Promise<void> {
    const allowed = await this.#decide(() =>
      this.#authorizer.check(
        {
          user: principal.userId,
          relation: tool.relation,
          object: tool.object,
          contextualTuples: [...roleTuples(principal), ...(tool.links ?? [])],
        },
        { signal },
      ),
    );
    if (!allowed)
      throw new McpServerError("FORBIDDEN", `You are not allowed to execute the tool '${tool.name}'.`);
  }

  async requireConversation(
    principal: Principal,
    relation: "viewer" | "editor",
    threadId: string,
    signal?: AbortSignal,
    /** The id the caller knows the conversation by (its client thread id), for the message. */
    shownAs: string = threadId,
  ): Promise<void> {
    const allowed = await this.#decide(() =>
      this.#authorizer.check(
        {
          user: principal.userId,
          relation,
          object: `conversation:${threadId}`,
          contextualTuples: roleTuples(principal),
        },
        { signal },
      ),
    );
    // One message whether the conversation is someone else's or does not exist: no existence oracle.
    if (!allowed)
      throw new McpServerError("FORBIDDEN", `Conversation '${shownAs}' was not found or is not yours.`);
  }

  /**
   * Opens a conversation for writing: an unclaimed thread id becomes the
   * caller's (owner tuple); a claimed one needs the editor relation.
   */
  async openConversation(
    principal: Principal,
    threadId: string,
    signal?: AbortSignal,
  ): Promise<ConversationAccess> {
    const previous = this.#claims.get(threadId) ?? Promise.resolve();
    const claim = previous.catch(() => {}).then(() => this.#claim(principal, threadId, signal));
    this.#claims.set(threadId, claim);
    try {
      return await claim;
    } finally {
      if (this.#claims.get(threadId) === claim) this.#claims.delete(threadId);
    }
  }

  async viewableConversations(principal: Principal, signal?: AbortSignal): Promise<string[]> {
    const objects = await this.#decide(() =>
      this.#authorizer.listObjects(
        {
          user: principal.userId,
          relation: "viewer",
          type: "conversation",
          contextualTuples: roleTuples(principal),
        },
        { signal },
      ),
    );
    return objects.map((object) => object.slice("conversation:".length));
  }

  async #claim(principal: Principal, threadId: string, signal?: AbortSignal): Promise<ConversationAccess> {
    const object = `conversation:${threadId}`;
    // Atomic in the authorizer's store, so processes sharing it cannot both create one thread.
    const { claimed } = await this.#decide(() =>
      this.#authorizer.claimTuple({ user: principal.userId, relation: "owner", object }, { signal }),
    );
    if (claimed) return "created";
    await this.requireConversation(principal, "editor", threadId, signal);
    return "editable";
  }

  async #decide<T>(decision: () => Promise<T>): Promise<T> {
    try {
      return await decision();
    } catch (error) {
      if (error instanceof McpServerError) throw error;
      throw new McpServerError(
        "AUTHZ_UNAVAILABLE",
        isAuthzError(error) && error.code !== "AUTHZ_UNAVAILABLE"
          ? "The authorization request was rejected."
          : "Authorization is unavailable right now; the request was denied.",
        { cause: error },
      );
    }
  }
}
