import {
  createClient,
  createCluster,
  type RedisClientOptions,
  type RedisClientType,
  type RedisClusterType,
} from "@redis/client";

type Client = RedisClientType;

export interface ScriptCall {
  keys: string[];
  arguments: string[];
}

/** What the store needs from Redis, the same for one server and for a Cluster. */
export interface RedisConnection {
  evalSha(sha1: string, call: ScriptCall): Promise<unknown>;
  eval(source: string, call: ScriptCall): Promise<unknown>;
  /** A client per primary: where keyspace scans and health pings must go. */
  primaries(): Promise<Client[]>;
  connect(): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
  readonly isOpen: boolean;
}

export interface ConnectionOptions {
  url: string;
  cluster: boolean;
  connectTimeoutMs: number;
  reconnectDelayMs: (retries: number) => number;
  onError: (error: unknown) => void;
  onReady: () => void;
}

/**
 * Calls fail at once while disconnected (no offline queue): a store call then reports
 * SESSION_UNAVAILABLE immediately instead of replaying stale writes after a reconnect.
 */
function clientDefaults(options: ConnectionOptions): Partial<RedisClientOptions> {
  return {
    disableOfflineQueue: true,
    // The store bounds every wait itself (raceDeadline + bulkhead); node-redis's own per-command
    // timeout would add an AbortSignal.timeout to every command, a large share of a get's cost.
    commandOptions: { timeout: 0 },
    socket: { connectTimeout: options.connectTimeoutMs, reconnectStrategy: options.reconnectDelayMs },
  };
}

export function openConnection(options: ConnectionOptions): RedisConnection {
  return options.cluster ? clusterConnection(options) : singleConnection(options);
}

function singleConnection(options: ConnectionOptions): RedisConnection {
  const client: Client = createClient({ url: options.url, ...clientDefaults(options) });
  client.on("error", options.onError);
  client.on("ready", options.onReady);
  return {
    evalSha: (sha1, call) => client.evalSha(sha1, call),
    eval: (source, call) => client.eval(source, call),
    primaries: async () => [client],
    connect: async () => {
      await client.connect();
    },
    close: () => client.close(),
    destroy: () => client.destroy(),
    get isOpen() {
      return client.isOpen;
    },
  };
}

/**
 * The URL is only the seed for topology discovery; credentials and TLS must be repeated in
 * `defaults` because node-redis builds the connections to discovered nodes from those alone.
 */
function clusterConnection(options: ConnectionOptions): RedisConnection {
  const seed = new URL(options.url);
  const defaults = clientDefaults(options);
  const cluster: RedisClusterType = createCluster({
    rootNodes: [{ url: options.url }],
    defaults: {
      ...defaults,
      ...(seed.username ? { username: decodeURIComponent(seed.username) } : {}),
      ...(seed.password ? { password: decodeURIComponent(seed.password) } : {}),
      socket: { ...defaults.socket, ...(seed.protocol === "rediss:" ? { tls: true as const } : {}) },
    },
  });
  cluster.on("error", options.onError);
  cluster.on("node-error", options.onError);
  cluster.on("node-ready", options.onReady);
  return {
    evalSha: (sha1, call) => cluster.evalSha(sha1, call),
    eval: (source, call) => cluster.eval(source, call),
    primaries: () =>
      Promise.all(cluster.masters.map((node) => cluster.nodeClient(node))) as Promise<Client[]>,
    connect: async () => {
      await cluster.connect();
    },
    close: () => cluster.close(),
    destroy: () => cluster.destroy(),
    get isOpen() {
      return cluster.isOpen;
    },
  };
}
