import { afterEach, describe, expect, it } from "vitest";
import type { ConversationChangeBus } from "../src/index.ts";

/**
 * Buses that together are one deployment: the in-process bus is one process (the same bus twice);
 * two Redis buses on one Redis are two instances.
 */
export interface ChangeBusFleet {
  buses: [ConversationChangeBus, ConversationChangeBus];
  close(): Promise<void>;
}

/** What one listener heard, with a way to wait for a count (never for time). */
function heard() {
  const changes: { key: string; changeId: string }[] = [];
  const waiters: (() => void)[] = [];
  return {
    changes,
    listener: (key: string, changeId: string) => {
      changes.push({ key, changeId });
      for (const wake of waiters.splice(0)) wake();
    },
    async until(count: number): Promise<void> {
      while (changes.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

/** The behaviour every ConversationChangeBus must show (in-process and Redis run the same suite). */
export function runChangeBusContract(name: string, makeFleet: () => Promise<ChangeBusFleet>): void {
  describe(`ConversationChangeBus contract: ${name}`, () => {
    const fleets: ChangeBusFleet[] = [];
    const open = async () => {
      const fleet = await makeFleet();
      fleets.push(fleet);
      return fleet.buses;
    };
    afterEach(async () => {
      await Promise.all(fleets.splice(0).map((fleet) => fleet.close()));
    });

    it("delivers a change once to every listener of its key, wherever it was published, with one change id", async () => {
      const [a, b] = await open();
      const onA = heard();
      const onB = heard();
      const other = heard();
      a.subscribe("c-1", onA.listener);
      b.subscribe("c-1", onB.listener);
      a.subscribe("c-2", other.listener);

      await b.publish("c-1");
      await Promise.all([onA.until(1), onB.until(1)]);
      // A later change of the other key arriving proves nothing more of the first is on its way.
      await a.publish("c-2");
      await other.until(1);
      await b.publish("c-2");
      await other.until(2);
      expect(onA.changes).toEqual([{ key: "c-1", changeId: expect.any(String) }]);
      expect(onB.changes).toEqual(onA.changes);
      expect(other.changes.map((change) => change.key)).toEqual(["c-2", "c-2"]);
      // Every change has its own id.
      expect(new Set([onA.changes[0]?.changeId, ...other.changes.map((c) => c.changeId)]).size).toBe(3);
    });

    it("stops delivering to a listener once stopped, and keeps delivering to the others", async () => {
      const [a, b] = await open();
      const stopped = heard();
      const kept = heard();
      const stop = a.subscribe("c-1", stopped.listener);
      b.subscribe("c-1", kept.listener);
      await a.publish("c-1");
      await Promise.all([stopped.until(1), kept.until(1)]);
      stop();
      stop();
      await b.publish("c-1");
      await a.publish("c-1");
      await kept.until(3);
      expect(stopped.changes).toHaveLength(1);
    });

    it("delivers to the other listeners when one throws or stops itself while being told", async () => {
      const [a, b] = await open();
      const after = heard();
      a.subscribe("c-1", () => {
        throw new Error("this session is gone");
      });
      let stopSelf: () => void = () => {};
      let selfCalls = 0;
      stopSelf = a.subscribe("c-1", () => {
        selfCalls += 1;
        stopSelf();
      });
      a.subscribe("c-1", after.listener);
      await b.publish("c-1");
      await after.until(1);
      await a.publish("c-1");
      await after.until(2);
      expect(selfCalls).toBe(1);
    });
  });
}
