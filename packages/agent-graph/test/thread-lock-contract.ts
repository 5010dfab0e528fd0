import { describe, expect, it } from "vitest";
import type { ThreadLockProvider } from "../src/index.ts";

export interface ThreadLockHarness {
  /** Providers that must exclude each other (several for a shared lock: one per "instance"). */
  providers: ThreadLockProvider[];
  close(): Promise<void>;
}

/** A promise and its resolver, so a test decides when an operation ends. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

/**
 * What every ThreadLockProvider promises, run against the in-process locks and Redis (one spec,
 * every implementation, as LangGraph's checkpoint validation does for savers).
 */
export function describeThreadLockContract(
  name: string,
  harness: () => Promise<ThreadLockHarness>,
  { skip = false } = {},
) {
  describe.skipIf(skip)(`ThreadLockProvider contract: ${name}`, () => {
    const pick = (h: ThreadLockHarness, i: number) =>
      h.providers[i % h.providers.length] as ThreadLockProvider;

    it("runs the operations on one thread one after another, never two at once", async () => {
      const h = await harness();
      try {
        const thread = `t-${crypto.randomUUID()}`;
        let inside = 0;
        let peak = 0;
        const order: number[] = [];
        const first = gate();
        let entered = 0;
        const runs = [0, 1, 2, 3].map((i) =>
          pick(h, i).run(
            thread,
            async (held) => {
              inside++;
              entered++;
              peak = Math.max(peak, inside);
              expect(held.aborted).toBe(false);
              // Whichever got the lock first keeps it until the test opens the gate.
              if (entered === 1) await first.opened;
              await new Promise((resolve) => setImmediate(resolve));
              order.push(i);
              inside--;
              return i;
            },
            AbortSignal.timeout(20_000),
          ),
        );
        // The first holder keeps its lock until released: the others, free to try meanwhile
        // (Redis waiters poll every few ms), must not have entered.
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(entered).toBe(1);
        expect(order).toEqual([]);
        first.open();
        expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
        expect(peak).toBe(1);
        expect(order).toHaveLength(4);
      } finally {
        await h.close();
      }
    });

    it("lets different threads run at the same time", async () => {
      const h = await harness();
      try {
        const both = gate();
        let started = 0;
        const run = (i: number) =>
          pick(h, i).run(
            `t-${crypto.randomUUID()}`,
            async () => {
              started++;
              if (started === 2) both.open();
              await both.opened;
              return i;
            },
            AbortSignal.timeout(10_000),
          );
        expect(await Promise.all([run(0), run(1)])).toEqual([0, 1]);
      } finally {
        await h.close();
      }
    });

    it("stops waiting when the waiter's signal aborts, and the lock then passes on as usual", async () => {
      const h = await harness();
      try {
        const thread = `t-${crypto.randomUUID()}`;
        const holder = gate();
        let holding!: () => void;
        const held = new Promise<void>((resolve) => {
          holding = resolve;
        });
        const first = pick(h, 0).run(
          thread,
          async () => {
            holding();
            await holder.opened;
          },
          undefined,
        );
        await held;
        const controller = new AbortController();
        let ran = false;
        const waiting = pick(h, 1).run(
          thread,
          async () => {
            ran = true;
          },
          controller.signal,
        );
        controller.abort(new Error("caller gone"));
        await expect(waiting).rejects.toThrow("caller gone");
        holder.open();
        await first;
        expect(ran).toBe(false);
        expect(await pick(h, 1).run(thread, async () => "next", AbortSignal.timeout(10_000))).toBe("next");
      } finally {
        await h.close();
      }
    });

    it("passes the operation's failure on and frees the lock", async () => {
      const h = await harness();
      try {
        const thread = `t-${crypto.randomUUID()}`;
        await expect(
          pick(h, 0).run(
            thread,
            async () => {
              throw new Error("turn failed");
            },
            undefined,
          ),
        ).rejects.toThrow("turn failed");
        expect(await pick(h, 1).run(thread, async () => "after", AbortSignal.timeout(10_000))).toBe("after");
      } finally {
        await h.close();
      }
    });
  });
}
