import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * Client thread ids are per user: two users may both call a thread `project-x`. Each is stored
 * under a conversation key, `c<namespace>_<client id>`, where the namespace is a hash of the
 * owner's user id. The key names the checkpointer thread and the authz object
 * `conversation:<key>`, so ownership and sharing stay with the authorizer (ADR 0073).
 */
/** A conversation key: stable across restarts, inside the authz object alphabet, at most 162 characters. */
const KEY = /^c([0-9a-f]{32})_([A-Za-z0-9_-]{1,128})$/;

/**
 * What a client may pass as thread_id: its own id (1-128 characters), or the full key of a
 * conversation another user shared with it (how shared conversations are listed to it).
 */
export const threadIdSchema = z
  .string()
  .regex(
    /^(?:[A-Za-z0-9_-]{1,128}|c[0-9a-f]{32}_[A-Za-z0-9_-]{1,128})$/,
    "thread_id must be 1-128 characters of A-Z, a-z, 0-9, '_' or '-'",
  );

/** The namespace of one user's threads: hex of SHA-256 of the user id, cut to 128 bits. */
function namespaceOf(userId: string): string {
  return createHash("sha256").update(userId, "utf8").digest("hex").slice(0, 32);
}

/**
 * The one mapping from (user, client thread id) to conversation key. An id that is already a key
 * (a shared conversation as it was listed) is taken as it is; authorization then decides.
 */
export function conversationKey(userId: string, threadId: string): string {
  if (KEY.test(threadId)) return threadId;
  return `c${namespaceOf(userId)}_${threadId}`;
}

/**
 * The client thread id of `key` when it lies in `userId`'s own namespace (only there may a call
 * create a conversation), else undefined.
 */
export function ownThreadId(userId: string, key: string): string | undefined {
  const match = KEY.exec(key);
  return match?.[1] === namespaceOf(userId) ? match[2] : undefined;
}

/**
 * The thread id `userId` sees for `key`: the bare id for its own conversations, the whole key for
 * one shared by someone else; undefined for an object that is no conversation key (e.g. a thread
 * created before ids were per user), which is then not shown.
 */
export function clientThreadId(userId: string, key: string): string | undefined {
  if (!KEY.test(key)) return undefined;
  return ownThreadId(userId, key) ?? key;
}
