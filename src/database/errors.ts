/** True when a write failed on a unique index, on MySQL/MariaDB or SQLite. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number; driverError?: { code?: string; errno?: number }; message?: string };
  const code = e?.driverError?.code ?? e?.code;
  return code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || /UNIQUE constraint failed|Duplicate entry/.test(e?.message ?? '');
}

/** True when MySQL/MariaDB chose this transaction as a deadlock victim (or gave up waiting for a lock): it may simply run again. */
export function isLockConflict(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  const code = e?.driverError?.code ?? e?.code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}

/** Error codes of a database that cannot be reached or cannot serve now (mysql2 and Node's network errors; SQLite's busy). */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'SQLITE_BUSY',
]);

/**
 * True when a query failed because the database is unavailable (down, unreachable, restarting, out of connections),
 * not because of the query: TypeORM wraps driver errors (`driverError`), so both levels are looked at.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { name?: string; code?: string; fatal?: boolean; driverError?: unknown; cause?: unknown } | null, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    if (e.code && UNAVAILABLE_CODES.has(e.code)) return true;
    // mysql2 marks connection-level failures fatal; TypeORM refuses queries on a data source that is not connected.
    if (e.fatal === true) return true;
    if (e.name === 'CannotExecuteNotConnectedError' || e.name === 'ConnectionIsNotSetError') return true;
    e = (e.driverError ?? e.cause) as typeof e;
  }
  return false;
}
