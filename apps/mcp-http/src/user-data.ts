import { createHash } from "node:crypto";
import { type ApiKeyManager, isAuthError, type Principal } from "@mcp-langgraph/auth-provider";
import type { Authorizer, Tuple } from "@mcp-langgraph/authz";
import type { Logger } from "@mcp-langgraph/core";
import { clientThreadId, type RunningMcpServices, type TaskStore } from "@mcp-langgraph/mcp-server";
import type { SessionStore } from "@mcp-langgraph/session";
import { deleteConversationTuples } from "./conversation-tuples.js";

type Agent = RunningMcpServices["agent"];
type ConversationMessage = NonNullable<Awaited<ReturnType<Agent["getConversation"]>>>[number];

/**
 * Object types of the project model a user can be named on. OpenFGA's Read needs an object type
 * when it filters by user, so tuples naming a user are read one type at a time.
 */
const TUPLE_OBJECT_TYPES = ["organization", "role", "tool", "conversation"] as const;

export interface UserDataDeps {
  sessions: SessionStore;
  apiKeys: ApiKeyManager | undefined;
  agent: Pick<Agent, "getConversation" | "deleteConversation">;
  authorizer: Pick<Authorizer, "readTuples" | "deleteTuples">;
  /** Ends the user's live MCP sessions (in this process; everywhere with SESSION_BACKEND=redis). */
  closeMcpSessions: (userId: string, signal: AbortSignal) => Promise<number>;
  /** MCP tasks (their results hold the agent's replies): all of the user's are deleted, runs stopped. */
  tasks: Pick<TaskStore, "deleteOwner">;
  /** Deadline of each backend call (one read or one delete). */
  timeoutMs: number;
  logger: Logger;
}

/** What the export holds besides the conversations, which are read one at a time while streaming. */
export interface UserExportHead {
  profile: { user_id: string; username: string; roles: string[]; groups: string[] };
  login_sessions: {
    current: boolean;
    created_at: string;
    last_accessed_at: string;
    expires_at: string;
    metadata: Record<string, unknown>;
  }[];
  api_keys: {
    id: string;
    name: string;
    roles: string[];
    scopes: string[];
    created_at: string;
    expires_at: string | null;
  }[];
  authorization_tuples: Tuple[];
}

export interface UserExport {
  head: UserExportHead;
  /** The keys of the conversations the user owns; `conversation(key)` reads one. */
  conversationKeys: string[];
  conversation(
    key: string,
    signal: AbortSignal,
  ): Promise<{ thread_id: string; messages: ConversationMessage[] } | null>;
}

export interface ErasureCounts {
  conversations: number;
  tuples: number;
  api_keys: number;
  login_sessions: number;
  mcp_sessions: number;
  tasks: number;
}

export interface UserData {
  /** Everything held about the caller; conversations are read lazily so the export streams. */
  export(principal: Principal, signal: AbortSignal): Promise<UserExport>;
  /**
   * Erases everything held about the caller. Safe to retry after a failure: each step deletes what
   * is still there. Data goes first and the login sessions last, so a caller whose erase failed
   * part-way still holds a working token to retry with.
   */
  erase(principal: Principal, signal: AbortSignal): Promise<ErasureCounts>;
}

/** A stable, non-reversible tag for the audit log: which erase is which, without the user id. */
export function auditSubject(userId: string): string {
  return createHash("sha256").update(`gdpr-audit:${userId}`, "utf8").digest("hex").slice(0, 16);
}

export function createUserData(deps: UserDataDeps): UserData {
  const { sessions, apiKeys, agent, authorizer, timeoutMs, logger } = deps;
  /** One backend call's signal: the request's, cut at the configured deadline. */
  const step = (signal: AbortSignal) => AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);

  const ownedConversations = async (userId: string, signal: AbortSignal): Promise<string[]> => {
    const owned = await authorizer.readTuples(
      { user: userId, relation: "owner", object: "conversation:" },
      { signal: step(signal) },
    );
    return [...new Set(owned.map((tuple) => tuple.object.slice("conversation:".length)))];
  };

  const tuplesNaming = async (userId: string, signal: AbortSignal): Promise<Tuple[]> =>
    (
      await Promise.all(
        TUPLE_OBJECT_TYPES.map((type) =>
          authorizer.readTuples({ user: userId, object: `${type}:` }, { signal: step(signal) }),
        ),
      )
    ).flat();

  return {
    async export(principal, signal) {
      const { userId } = principal;
      const [loginSessions, keys, tuples, conversationKeys] = await Promise.all([
        sessions.listUserSessions(userId, { signal: step(signal) }),
        apiKeys ? apiKeys.list(principal.username, { signal: step(signal) }) : [],
        tuplesNaming(userId, signal),
        ownedConversations(userId, signal),
      ]);
      return {
        head: {
          profile: {
            user_id: userId,
            username: principal.username,
            roles: [...principal.roles],
            groups: [...(principal.groups ?? [])],
          },
          // Session ids are left out: they are bearer material inside the user's tokens.
          login_sessions: loginSessions.map((session) => ({
            current: session.sessionId === principal.sessionId,
            created_at: session.createdAt.toISOString(),
            last_accessed_at: session.lastAccessedAt.toISOString(),
            expires_at: session.expiresAt.toISOString(),
            metadata: session.metadata,
          })),
          // Metadata only: the secret is never stored, and its hash is never shown.
          api_keys: keys.map((key) => ({
            id: key.id,
            name: key.name,
            roles: key.roles,
            scopes: key.scopes,
            created_at: key.createdAt.toISOString(),
            expires_at: key.expiresAt?.toISOString() ?? null,
          })),
          authorization_tuples: tuples,
        },
        conversationKeys,
        async conversation(key, callSignal) {
          const messages = await agent.getConversation(key, { signal: step(callSignal) });
          if (!messages) return null;
          return { thread_id: clientThreadId(userId, key) ?? key, messages: [...messages] };
        },
      };
    },

    async erase(principal, signal) {
      const { userId } = principal;
      // Live MCP sessions first, so none of them writes a conversation while the rest goes.
      const mcpSessions = await deps.closeMcpSessions(userId, step(signal));
      // Then the tasks: their runs stop (they hear the deletion) before their conversations go.
      const tasks = await deps.tasks.deleteOwner(userId, step(signal));

      // Checkpoints before the tuples that find them: a retry after a failure here still sees them.
      const conversations = await ownedConversations(userId, signal);
      let tuples = 0;
      for (const key of conversations) {
        await agent.deleteConversation(key, { signal: step(signal) });
        tuples += await deleteConversationTuples(authorizer, key, () => step(signal));
      }
      const naming = await tuplesNaming(userId, signal);
      if (naming.length > 0) await authorizer.deleteTuples(naming, { signal: step(signal) });
      tuples += naming.length;

      let keys = 0;
      if (apiKeys) {
        for (const key of await apiKeys.list(principal.username, { signal: step(signal) })) {
          try {
            await apiKeys.revoke(principal.username, key.id, { signal: step(signal) });
            keys++;
          } catch (error) {
            // Revoked meanwhile (e.g. by a concurrent erase): the goal is reached.
            if (!(isAuthError(error) && error.code === "NOT_FOUND")) throw error;
          }
        }
      }

      // Last: every token issued before the erase names one of these sessions and is refused after.
      const loginSessions = await sessions.deleteUserSessions(userId, { signal: step(signal) });

      const counts: ErasureCounts = {
        conversations: conversations.length,
        tuples,
        api_keys: keys,
        login_sessions: loginSessions,
        mcp_sessions: mcpSessions,
        tasks,
      };
      logger.info({ audit: "user_erased", subject: auditSubject(userId), ...counts }, "user data erased");
      return counts;
    },
  };
}
