/**
 * True when a Redis command failed because Redis cannot be reached or cannot serve now (down, restarting, failing
 * over), as ioredis reports it: not a bug in the command. Request-path connections fail fast (no offline queue,
 * one retry, a command timeout), so these reach the caller within about two seconds.
 */
export function isRedisUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  const message = e.message ?? '';
  return (
    /enableOfflineQueue options is false|^Connection is closed|^Command timed out|max retries per request/i.test(message) ||
    // Replies of a Redis that is loading its data, or a replica during a failover.
    /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/.test(message)
  );
}
