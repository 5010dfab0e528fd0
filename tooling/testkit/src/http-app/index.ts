export { type ConnectOptions, connect, login } from "./client.ts";
export { type SpawnedApp, spawnHttpApp } from "./spawn.ts";
