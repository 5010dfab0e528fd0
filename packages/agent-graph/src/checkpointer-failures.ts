import type { RunnableConfig } from "@langchain/core/runnables";
import type {
  ChannelVersions,
  Checkpoint,
  CheckpointListOptions,
  CheckpointMetadata,
  CheckpointTuple,
  PendingWrite,
} from "@langchain/langgraph-checkpoint";
import { AgentError, isAgentError } from "./errors.js";

/** The methods wrapped, as the concrete savers implement them (BaseCheckpointSaver declares them abstract). */
interface Saver {
  getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined>;
  list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple>;
  put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig>;
  putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string): Promise<void>;
  deleteThread(threadId: string): Promise<void>;
}
/** The constructor shape a TypeScript mixin extends (the language requires `any[]` here). */
// biome-ignore lint/suspicious/noExplicitAny: a mixin's base constructor must take `...args: any[]`.
type SaverConstructor = new (...args: any[]) => Saver;

/**
 * A library saver whose every read and write failure surfaces as a typed CHECKPOINTER_UNAVAILABLE
 * error (an AgentError passes through). One mixin serves every backend, since the library's savers
 * share no base class of their own beyond the abstract one.
 */
export function withTypedFailures<TBase extends SaverConstructor>(Base: TBase) {
  return class TypedFailures extends Base {
    override async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
      try {
        return await super.getTuple(config);
      } catch (error) {
        throw asCheckpointerError(error, "reading a checkpoint failed");
      }
    }

    override async *list(
      config: RunnableConfig,
      options?: CheckpointListOptions,
    ): AsyncGenerator<CheckpointTuple> {
      try {
        yield* super.list(config, options);
      } catch (error) {
        throw asCheckpointerError(error, "listing checkpoints failed");
      }
    }

    override async put(
      config: RunnableConfig,
      checkpoint: Checkpoint,
      metadata: CheckpointMetadata,
      newVersions: ChannelVersions,
    ): Promise<RunnableConfig> {
      try {
        return await super.put(config, checkpoint, metadata, newVersions);
      } catch (error) {
        throw asCheckpointerError(error, "writing a checkpoint failed");
      }
    }

    override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string): Promise<void> {
      try {
        await super.putWrites(config, writes, taskId);
      } catch (error) {
        throw asCheckpointerError(error, "writing pending writes failed");
      }
    }

    override async deleteThread(threadId: string): Promise<void> {
      try {
        await super.deleteThread(threadId);
      } catch (error) {
        throw asCheckpointerError(error, "deleting a thread failed");
      }
    }
  };
}

/** A storage failure as CHECKPOINTER_UNAVAILABLE; an AgentError is already typed and passes through. */
export function asCheckpointerError(error: unknown, message: string): AgentError {
  if (isAgentError(error)) return error;
  // Driver messages can echo connection details; keep them on `cause` only, never in the message.
  const code = (error as { code?: unknown } | null)?.code;
  return new AgentError("CHECKPOINTER_UNAVAILABLE", message, {
    cause: error,
    details: typeof code === "string" ? { code } : undefined,
  });
}
