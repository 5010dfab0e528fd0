/**
 * The slices of a node-postgres `Pool` and `Client` this helper touches. Structural, so core
 * takes no `pg` dependency and any package owning a pool (checkpointer, tuple store) can use it.
 */
export interface PgClientEvents {
  on(event: "error", listener: (error: Error) => void): unknown;
}
export interface PgPoolEvents<Client extends PgClientEvents = PgClientEvents> {
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "connect", listener: (client: Client) => void): unknown;
}

/**
 * Makes a pg pool survive its server going away. node-postgres emits `error` in two places:
 * on the pool for an idle client, and on the client itself for one checked out of the pool
 * (pg-pool removes its own listener on checkout). Either one unhandled is an uncaught
 * exception that kills the process; the second is what happens when Postgres stops during
 * traffic. The query in flight on that client is rejected with the same error anyway (the
 * caller maps it to its typed *_UNAVAILABLE code), and pg-pool discards a broken client on
 * release, so new connections are opened once the server is back: nothing else to do here.
 *
 * `onIdleError` sees idle-client failures only (a checked-out client's failure already
 * reaches its caller); use it to log, never to rethrow.
 */
export function handlePgPoolErrors<Client extends PgClientEvents>(
  pool: PgPoolEvents<Client>,
  onIdleError: (error: Error) => void = () => {},
): void {
  pool.on("error", onIdleError);
  pool.on("connect", (client) => {
    client.on("error", ignoreCheckedOutClientError);
  });
}

/** The rejected query reports it; this listener only stops the emitter from throwing. */
function ignoreCheckedOutClientError(): void {}
