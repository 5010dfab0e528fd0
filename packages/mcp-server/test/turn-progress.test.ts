import type { ServerContext } from "@modelcontextprotocol/server";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PROGRESS_META_KEY, turnProgress } from "../src/turn-progress.ts";

interface Sent {
  progress: number;
  message: string;
  event: unknown;
}

/** A request context whose notifications are recorded; the clock is the test's. */
function request(progressToken?: string | number) {
  const sent: Sent[] = [];
  let clock = 0;
  const ctx = {
    mcpReq: {
      ...(progressToken === undefined ? {} : { _meta: { progressToken } }),
      notify: async (notification: { method: string; params?: Record<string, unknown> }) => {
        expect(notification.method).toBe("notifications/progress");
        const params = notification.params as {
          progressToken: unknown;
          progress: number;
          message: string;
          _meta: Record<string, unknown>;
        };
        expect(params.progressToken).toBe(progressToken);
        sent.push({
          progress: params.progress,
          message: params.message,
          event: params._meta[PROGRESS_META_KEY],
        });
      },
    },
  } as unknown as Pick<ServerContext, "mcpReq">;
  return {
    ctx,
    sent,
    now: () => clock,
    advance(ms: number) {
      clock += ms;
      vi.advanceTimersByTime(ms);
    },
  };
}

const texts = (sent: Sent[]) => sent.map((item) => item.message);
/** Lets queued notifications reach the recorder (a few promise turns; no timers run). */
async function delivered() {
  for (let turn = 0; turn < 10; turn++) await Promise.resolve();
}

afterEach(() => {
  vi.useRealTimers();
});

describe("turnProgress", () => {
  it("is off for a request without a progress token", () => {
    expect(turnProgress(request().ctx, 250)).toBeUndefined();
  });

  it("sends the first piece at once and coalesces what follows within the interval into one notification", async () => {
    vi.useFakeTimers();
    const { ctx, sent, now, advance } = request("t-1");
    const progress = turnProgress(ctx, 250, now)!;
    progress.text("Hel");
    progress.text("lo");
    progress.text(" wor");
    await delivered();
    expect(texts(sent)).toEqual(["Hel"]);
    advance(249);
    await delivered();
    expect(texts(sent)).toEqual(["Hel"]);
    advance(1);
    await delivered();
    expect(texts(sent)).toEqual(["Hel", "lo wor"]);
    progress.text("ld");
    await progress.flush();
    expect(sent).toEqual([
      { progress: 1, message: "Hel", event: { kind: "text" } },
      { progress: 2, message: "lo wor", event: { kind: "text" } },
      { progress: 3, message: "ld", event: { kind: "text" } },
    ]);
  });

  it("sends held text before a tool's start and end, which carry its name only", async () => {
    const { ctx, sent, now } = request(7);
    const progress = turnProgress(ctx, 60_000, now)!;
    progress.text("Let me");
    progress.text(" compute.");
    progress.tool("calculator", "start");
    progress.tool("calculator", "end");
    progress.text("4");
    await progress.flush();
    expect(sent).toEqual([
      { progress: 1, message: "Let me", event: { kind: "text" } },
      { progress: 2, message: " compute.", event: { kind: "text" } },
      { progress: 3, message: "Running tool calculator", event: { kind: "tool_start", tool: "calculator" } },
      { progress: 4, message: "Tool calculator finished", event: { kind: "tool_end", tool: "calculator" } },
      { progress: 5, message: "4", event: { kind: "text" } },
    ]);
  });

  it("sends nothing more once stopped, not even the text it held", async () => {
    vi.useFakeTimers();
    const { ctx, sent, now, advance } = request("t-2");
    const progress = turnProgress(ctx, 250, now)!;
    progress.text("a");
    progress.text("b");
    progress.stop();
    progress.text("c");
    progress.tool("calculator", "start");
    advance(1_000);
    await progress.flush();
    expect(texts(sent)).toEqual(["a"]);
  });

  it("still answers when the client can no longer receive notifications", async () => {
    const progress = turnProgress(
      { mcpReq: { _meta: { progressToken: 1 }, notify: () => Promise.reject(new Error("gone")) } } as never,
      0,
    )!;
    progress.text("a");
    progress.tool("calculator", "start");
    await expect(progress.flush()).resolves.toBeUndefined();
  });
});
