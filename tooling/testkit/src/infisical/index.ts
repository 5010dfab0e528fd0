export {
  type InfisicalIdentity,
  type InfisicalLoopback,
  startInfisicalLoopback,
} from "./infisical-server.ts";
