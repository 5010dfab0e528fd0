export {
  ACCOUNTS,
  APP_CLIENT,
  makeRsaJwk,
  type OidcTestServer,
  SERVICE_CLIENT,
  startOidcServer,
} from "./oidc-server.ts";
