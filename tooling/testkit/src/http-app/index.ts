export { type ConnectOptions, connect, login, roundRobinFetch } from "./client.ts";
export { type SpawnedApp, spawnHttpApp } from "./spawn.ts";
