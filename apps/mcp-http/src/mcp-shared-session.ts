import { randomBytes } from "node:crypto";
import type { Logger } from "@mcp-langgraph/core";
import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import { type BusMessage, END_OF_STREAM, type McpSessionBus } from "./mcp-session-bus.js";
import type { SharedStreams } from "./session-transport.js";
import type { SseStream } from "./sse-stream.js";

/** A stream id of a shared transport: its prefix (12 base64url chars), a dot, a counter or `G`. */
const STREAM_ID = /^[A-Za-z0-9_-]{12}\.(?:[0-9]{1,15}|G)$/;

interface Entry {
  id: string;
  sequence: number;
  data: string;
}

/** `<eventId>\n<data>`; END_OF_STREAM is no entry. */
function parseEntry(entry: string): Entry | undefined {
  const newline = entry.indexOf("\n");
  if (newline < 0) return undefined;
  const id = entry.slice(0, newline);
  return { id, sequence: Number(id.slice(id.lastIndexOf(":") + 1)), data: entry.slice(newline + 1) };
}

/**
 * One session's transport, shared with the other instances through the bus (ADR 0175-0177): its
 * events are copied to Redis behind each answer, a stream another instance stored is replayed and
 * then carried on from its producer's appends, replies and notifications go to the instance they
 * belong to.
 */
export function sharedSessionStreams(bus: McpSessionBus, sessionId: string, logger: Logger): SharedStreams {
  // 72 random bits: unique among every transport of every instance for this session's lifetime.
  const prefix = randomBytes(9).toString("base64url");
  const deadline = () => AbortSignal.timeout(bus.timeoutMs);
  return {
    prefix,
    appended(streamId, eventId, data) {
      bus.append(sessionId, streamId, `${eventId}\n${data}`);
    },
    ended(streamId) {
      // After the stream's last events, which the transport appends right after finishing it.
      queueMicrotask(() => bus.append(sessionId, streamId, END_OF_STREAM));
    },
    async forwardReply(message: JSONRPCMessage) {
      const reached = await bus.publish(sessionId, { t: "r", m: message }, deadline());
      if (reached === 0) logger.warn({}, "a reply to a server-to-client request reached no instance");
    },
    notify(data, eventId) {
      void bus.notify(sessionId, { t: "n", d: data, i: eventId }, deadline()).catch((error: unknown) => {
        logger.warn({ err: String(error) }, "a notification for a stream held elsewhere was not sent");
      });
    },
    async holdStandalone(stream) {
      const holder = randomBytes(9).toString("base64url");
      const waiting = await bus.hold(sessionId, holder, deadline());
      for (const message of waiting) if (message.t === "n") stream.writeMessage(message.d, message.i);
      stream.onClose(() => {
        void bus.release(sessionId, holder, deadline()).catch(() => {});
      });
    },
    resume: (lastEventId, stream) => resumeStream(bus, sessionId, lastEventId, stream, logger),
  };
}

/**
 * Replays the events of a stream stored by another instance after `lastEventId`, then writes the
 * ones its producer appends from now on, until the end of the stream. Listening starts before the
 * read, and the read marks the stream as read (atomically with respect to appends), so no event
 * falls between the replay and the live ones; an event both replayed and published is written once.
 */
async function resumeStream(
  bus: McpSessionBus,
  sessionId: string,
  lastEventId: string,
  stream: SseStream,
  logger: Logger,
): Promise<boolean> {
  const separator = lastEventId.lastIndexOf(":");
  const streamId = lastEventId.slice(0, separator);
  const after = Number(lastEventId.slice(separator + 1));
  if (separator < 0 || !STREAM_ID.test(streamId) || !Number.isSafeInteger(after)) return false;

  let written = after;
  let replayed = false;
  const held: string[][] = [];
  const write = (entries: string[]) => {
    for (const raw of entries) {
      if (stream.closed) return;
      if (raw === END_OF_STREAM) {
        stream.close();
        return;
      }
      const entry = parseEntry(raw);
      if (!entry || entry.sequence <= written) continue;
      written = entry.sequence;
      if (entry.data === "") stream.writePriming(entry.id);
      else stream.writeMessage(entry.data, entry.id);
    }
  };
  const stop = await bus.listen(sessionId, (message: BusMessage) => {
    if (message.t !== "e" || message.s !== streamId) return;
    if (replayed) write(message.e);
    else held.push(message.e);
  });
  let stored: string[];
  try {
    stored = await bus.read(sessionId, streamId, AbortSignal.timeout(bus.timeoutMs));
  } catch (error) {
    stop();
    throw error;
  }
  const start = stored.findIndex((entry) => entry.startsWith(`${lastEventId}\n`));
  if (start < 0) {
    stop();
    return false;
  }
  write(stored.slice(start + 1));
  replayed = true;
  for (const entries of held) write(entries);
  if (stream.closed) {
    stop();
    return true;
  }
  // The producer keeps the call running while the client reads it here (no disconnect grace).
  const tell = (t: "a" | "d") =>
    void bus
      .publish(sessionId, { t, s: streamId }, AbortSignal.timeout(bus.timeoutMs))
      .catch((error: unknown) => {
        logger.warn(
          { err: String(error) },
          "the instance running a call was not told where its stream is read",
        );
      });
  tell("a");
  stream.onClose(() => {
    stop();
    tell("d");
  });
  return true;
}
