export { expectBadCallsRefused } from "./refusals.ts";
export { taskClient } from "./tasks.ts";
