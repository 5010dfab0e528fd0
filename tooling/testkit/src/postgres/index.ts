export { OwnPostgresServer, requirePostgresBinaries } from "./postgres-server.ts";
