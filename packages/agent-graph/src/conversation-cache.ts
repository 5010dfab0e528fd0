import { type BaseCheckpointSaver, MemorySaver } from "@langchain/langgraph";
import { AgentError } from "./errors.js";
import type { Conversation } from "./messages.js";
import { assertIntegerInRange } from "./validation.js";

export interface ConversationCacheOptions {
  /** Threads kept decoded; the least recently read is evicted first. Default 1000. */
  maxThreads?: number;
  /**
   * Size of all kept threads together, in characters as counted by `conversationChars` (message
   * text, tool names, tool-call arguments as JSON, plus 64 per message). A thread larger than
   * this is never kept. Default 10 000 000.
   */
  maxChars?: number;
}

export const DEFAULT_CONVERSATION_CACHE_THREADS = 1_000;
export const DEFAULT_CONVERSATION_CACHE_CHARS = 10_000_000;

/** Stands for a message's fixed fields (role, timestamp) and its object, so empty messages still count. */
const MESSAGE_OVERHEAD_CHARS = 64;

/**
 * Where the agent's conversation reads go: either straight to the checkpointer, or through an LRU
 * of decoded threads. Both have the same interface so the agent's read and turn code is the same.
 */
export interface ConversationCache {
  /** The thread from the cache, or from `load` (then kept, unless a write of the thread overlapped it). */
  read(threadId: string, load: () => Promise<Conversation | null>): Promise<Conversation | null>;
  /**
   * Runs a write of the thread (a turn). The thread is dropped from the cache when `run` starts and
   * again when it settles, and nothing read while it runs is kept: during a turn the checkpointer
   * holds each completed step, so every read then goes to it.
   */
  write<T>(threadId: string, run: () => Promise<T>): Promise<T>;
}

const passThrough: ConversationCache = {
  read: (_threadId, load) => load(),
  write: (_threadId, run) => run(),
};

/**
 * The agent's cache (`AgentOptions.conversationCache`): an LRU when asked for, or by default when the
 * agent creates its own saver (`checkpointer` undefined: nothing else can write it); else the
 * pass-through. Only a `MemorySaver` qualifies: any other saver may be written by other processes,
 * whose writes this cache would never see.
 */
export function createConversationCache(
  options: ConversationCacheOptions | false | undefined,
  checkpointer: BaseCheckpointSaver | undefined,
): ConversationCache {
  if (options === false || (options === undefined && checkpointer !== undefined)) return passThrough;
  if (checkpointer !== undefined && !(checkpointer instanceof MemorySaver)) {
    throw new AgentError(
      "AGENT_INPUT_INVALID",
      "conversationCache needs an in-process MemorySaver that only this agent writes; a shared checkpointer is written by other processes",
    );
  }
  return new LruConversationCache(options ?? {});
}

interface Entry {
  conversation: Conversation;
  chars: number;
}

/** A read in flight; a write of its thread marks it stale so its (older) result is not kept. */
interface Fill {
  threadId: string;
  stale: boolean;
}

/**
 * Exact only while this process's agent is the checkpointer's one writer: it learns of writes from
 * `write`, never from the checkpointer (ADR 0055).
 */
export class LruConversationCache implements ConversationCache {
  readonly #maxThreads: number;
  readonly #maxChars: number;
  /** Least recently read first: a Map iterates in insertion order and a hit re-inserts. */
  readonly #entries = new Map<string, Entry>();
  readonly #writes = new Map<string, number>();
  readonly #fills = new Set<Fill>();
  #chars = 0;

  constructor({
    maxThreads = DEFAULT_CONVERSATION_CACHE_THREADS,
    maxChars = DEFAULT_CONVERSATION_CACHE_CHARS,
  }: ConversationCacheOptions) {
    assertIntegerInRange(maxThreads, "conversationCache.maxThreads", 1, 10_000_000);
    assertIntegerInRange(maxChars, "conversationCache.maxChars", 1, 10_000_000_000);
    this.#maxThreads = maxThreads;
    this.#maxChars = maxChars;
  }

  /** Threads and characters held now. */
  get size(): { threads: number; chars: number } {
    return { threads: this.#entries.size, chars: this.#chars };
  }

  async read(threadId: string, load: () => Promise<Conversation | null>): Promise<Conversation | null> {
    const entry = this.#entries.get(threadId);
    if (entry) {
      this.#entries.delete(threadId);
      this.#entries.set(threadId, entry);
      return entry.conversation;
    }
    const fill: Fill = { threadId, stale: false };
    this.#fills.add(fill);
    try {
      const conversation = await load();
      // A read that overlapped a write may hold a state from before or during it: not kept.
      if (conversation && !fill.stale && !this.#writes.has(threadId)) this.#keep(threadId, conversation);
      return conversation;
    } finally {
      this.#fills.delete(fill);
    }
  }

  async write<T>(threadId: string, run: () => Promise<T>): Promise<T> {
    this.#writes.set(threadId, (this.#writes.get(threadId) ?? 0) + 1);
    this.#invalidate(threadId);
    try {
      return await run();
    } finally {
      const writes = (this.#writes.get(threadId) ?? 1) - 1;
      if (writes === 0) this.#writes.delete(threadId);
      else this.#writes.set(threadId, writes);
      this.#invalidate(threadId);
    }
  }

  #invalidate(threadId: string) {
    this.#drop(threadId);
    // Few reads are in flight at once (a checkpoint read is short), so a scan is cheaper than an index.
    for (const fill of this.#fills) if (fill.threadId === threadId) fill.stale = true;
  }

  #drop(threadId: string) {
    const entry = this.#entries.get(threadId);
    if (!entry) return;
    this.#entries.delete(threadId);
    this.#chars -= entry.chars;
  }

  #keep(threadId: string, conversation: Conversation) {
    const chars = conversationChars(conversation);
    this.#drop(threadId);
    if (chars > this.#maxChars) return;
    this.#entries.set(threadId, { conversation, chars });
    this.#chars += chars;
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxThreads && this.#chars <= this.#maxChars) break;
      this.#entries.delete(oldest);
      this.#chars -= entry.chars;
    }
  }
}

/** The size a conversation counts for against `maxChars`. */
export function conversationChars(conversation: Conversation): number {
  let chars = 0;
  for (const message of conversation) {
    chars += MESSAGE_OVERHEAD_CHARS + message.content.length + (message.toolName?.length ?? 0);
    for (const call of message.toolCalls ?? []) chars += call.name.length + JSON.stringify(call.args).length;
  }
  return chars;
}
