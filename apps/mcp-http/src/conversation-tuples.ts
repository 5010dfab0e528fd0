import type { Authorizer } from "@mcp-langgraph/authz";

/**
 * Deletes every tuple on conversation `key` (its owner tuple and any share with another user);
 * returns how many. For the GDPR erase and conversation retention, after the checkpoints are gone.
 */
export async function deleteConversationTuples(
  authorizer: Pick<Authorizer, "readTuples" | "deleteTuples">,
  key: string,
  /** A fresh signal per backend call: each gets its own deadline. */
  callSignal: () => AbortSignal,
): Promise<number> {
  const onObject = await authorizer.readTuples({ object: `conversation:${key}` }, { signal: callSignal() });
  if (onObject.length > 0) await authorizer.deleteTuples(onObject, { signal: callSignal() });
  return onObject.length;
}
