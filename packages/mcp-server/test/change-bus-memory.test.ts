import { createInProcessChangeBus } from "../src/index.ts";
import { runChangeBusContract } from "./change-bus-contract.ts";

runChangeBusContract("in-process", async () => {
  // One process: both "instances" are the same bus.
  const bus = createInProcessChangeBus();
  return { buses: [bus, bus], close: async () => {} };
});
