export { expectBadCallsRefused } from "./refusals.ts";
