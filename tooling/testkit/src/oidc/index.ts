export {
  ACCOUNTS,
  APP_CLIENT,
  makeRsaJwk,
  type OidcTestServer,
  type OidcTestServerOptions,
  type RevocationSeen,
  SERVICE_CLIENT,
  startOidcServer,
} from "./oidc-server.ts";
