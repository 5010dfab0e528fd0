export { expectBadCallsRefused } from "./refusals.ts";
export { taskClient } from "./tasks.ts";
export {
  startUpstreamHttpServer,
  UPSTREAM_STDIO_SCRIPT,
  type UpstreamCall,
  type UpstreamHttpServer,
} from "./upstream-http.ts";
