/**
 * `pg` Pool settings from the environment (guide section 5, with verified TLS in production).
 */
import { readFileSync } from 'node:fs';
import type { PoolConfig } from 'pg';
import { StorageError } from '../../contract/errors.js';
import { defaultStorageLogger, type StorageLogger } from '../sql/logger.js';

/** Variables read by {@link poolConfigFromEnv}; any other key is ignored. */
export type PoolEnv = Readonly<Record<string, string | undefined>>;

const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
// A payment waits this long for a row or table lock, then fails with a retryable TIMEOUT
// (lock_timeout) instead of holding its pooled connection until the statement timeout.
const DEFAULT_LOCK_TIMEOUT_MS = 2_000;
const DEFAULT_IDLE_IN_TX_TIMEOUT_MS = 60_000;
const DEFAULT_APPLICATION_NAME = 'asset-leasing-store';

function intFromEnv(env: PoolEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  // Plain digits only: Number() would accept " 5", "1e3" and "0x10", which hide typos.
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new StorageError('VALIDATION', `${name} must be an integer >= ${min}, got "${raw}"`, {
      field: name,
      details: { variable: name },
    });
  }
  return value;
}

function sslModeOfUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).searchParams.get('sslmode') ?? undefined;
  } catch {
    return undefined;
  }
}

function readRootCert(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new StorageError('VALIDATION', `PGSSLROOTCERT: cannot read "${path}"`, {
      field: 'PGSSLROOTCERT',
      cause: error,
      details: { variable: 'PGSSLROOTCERT' },
    });
  }
}

function tlsConfig(env: PoolEnv, production: boolean, url: string | undefined, logger: StorageLogger): PoolConfig['ssl'] {
  const urlMode = sslModeOfUrl(url);
  if (production && (urlMode === 'disable' || urlMode === 'no-verify')) {
    logger.warn({ sslmode: urlMode }, 'DATABASE_URL weakens TLS in production (sslmode=' + urlMode + ')');
  }
  const mode = env.PGSSLMODE;
  if (mode !== undefined && mode !== '' && !['disable', 'require', 'verify-full'].includes(mode)) {
    throw new StorageError('VALIDATION', `PGSSLMODE must be disable, require or verify-full, got "${mode}"`, {
      field: 'PGSSLMODE',
      details: { variable: 'PGSSLMODE' },
    });
  }
  const unverified = env.PG_TLS_ALLOW_UNVERIFIED;
  if (unverified !== undefined && unverified !== '' && unverified !== 'true' && unverified !== 'false') {
    throw new StorageError('VALIDATION', `PG_TLS_ALLOW_UNVERIFIED must be true or false, got "${unverified}"`, {
      field: 'PG_TLS_ALLOW_UNVERIFIED',
      details: { variable: 'PG_TLS_ALLOW_UNVERIFIED' },
    });
  }
  if (mode === 'disable') {
    if (production) logger.warn({ PGSSLMODE: mode }, 'TLS to PostgreSQL is disabled in production (PGSSLMODE=disable)');
    return false;
  }
  if (!production && mode !== 'require' && mode !== 'verify-full') return false;
  if (unverified === 'true') {
    logger.warn(
      { PG_TLS_ALLOW_UNVERIFIED: 'true' },
      'PostgreSQL server certificate is NOT verified (PG_TLS_ALLOW_UNVERIFIED=true): the connection is open to man-in-the-middle attacks',
    );
    return { rejectUnauthorized: false };
  }
  const rootCert = env.PGSSLROOTCERT;
  return rootCert === undefined || rootCert === ''
    ? { rejectUnauthorized: true }
    : { rejectUnauthorized: true, ca: readRootCert(rootCert) };
}

/** `PG_JIT`: `on` or `off` (default off). */
function jitSetting(env: PoolEnv): 'on' | 'off' {
  const raw = env.PG_JIT;
  if (raw === undefined || raw === '' || raw === 'off') return 'off';
  if (raw === 'on') return 'on';
  throw new StorageError('VALIDATION', `PG_JIT must be "on" or "off", got ${JSON.stringify(raw)}`, { field: 'PG_JIT' });
}

/**
 * Builds the `pg` PoolConfig from the environment. Defaults follow the guide's section 5 table;
 * every value can be overridden by a variable, and `overrides` win over both.
 *
 * | Variable                    | Default                                   | Meaning |
 * |-----------------------------|-------------------------------------------|---------|
 * | `NODE_ENV`                  | (unset = development)                     | `production` selects `max` 20 and verified TLS; anything else `max` 5 and no TLS |
 * | `DATABASE_URL`              | (none)                                    | connection string; if it has `sslmode`/`sslrootcert`/`ssl` parameters, pg uses only those for TLS (it parses the URL last), so the TLS variables below are then ignored: put `sslrootcert` in the URL too |
 * | `PGPOOL_MAX`                | 20 production, 5 otherwise                | maximum pool size (>= 1) |
 * | `PGPOOL_IDLE_TIMEOUT_MS`    | 30000                                     | close a connection idle this long (0 = never) |
 * | `PGPOOL_CONNECT_TIMEOUT_MS` | 5000                                      | bounded wait for a connection: a new connect, or a free one of a full pool (then TIMEOUT `pool_exhausted`); 0 = wait forever |
 * | `PG_STATEMENT_TIMEOUT_MS`   | 30000                                     | server `statement_timeout` (0 = none); long migrations may need 0 |
 * | `PG_LOCK_TIMEOUT_MS`        | 2000                                      | server `lock_timeout`: a statement waiting longer for a lock fails with TIMEOUT `lock_timeout` (0 = wait up to the statement timeout) |
 * | `PG_IDLE_IN_TX_TIMEOUT_MS`  | 60000                                     | server `idle_in_transaction_session_timeout` (0 = none) |
 * | `PG_APPLICATION_NAME`       | `asset-leasing-store`                     | `application_name`, shown in `pg_stat_activity` |
 * | `PG_JIT`                    | `off`                                     | server `jit` for the pool's sessions (`on` or `off`) |
 * | `PGSSLMODE`                 | (unset)                                   | `disable`: no TLS even in production (logs a warning there); `require`/`verify-full`: verified TLS outside production too |
 * | `PGSSLROOTCERT`             | (unset = Node's CA store)                 | path of the CA certificate that signs the server certificate |
 * | `PG_TLS_ALLOW_UNVERIFIED`   | (unset)                                   | `true`: TLS without certificate verification (the guide's `rejectUnauthorized: false`); logs a warning |
 *
 * Invalid numbers (anything but plain digits, or below the minimum) and unknown `PGSSLMODE`
 * values throw a `VALIDATION` {@link StorageError} whose `field` names the variable.
 */
export function poolConfigFromEnv(
  env: PoolEnv = process.env,
  overrides: PoolConfig = {},
  logger: StorageLogger = defaultStorageLogger(),
): PoolConfig {
  const production = env.NODE_ENV === 'production';
  const connectionString = overrides.connectionString ?? (env.DATABASE_URL === '' ? undefined : env.DATABASE_URL);
  const statementTimeout = intFromEnv(env, 'PG_STATEMENT_TIMEOUT_MS', DEFAULT_STATEMENT_TIMEOUT_MS, 0);
  const lockTimeout = intFromEnv(env, 'PG_LOCK_TIMEOUT_MS', DEFAULT_LOCK_TIMEOUT_MS, 0);
  const config: PoolConfig = {
    max: intFromEnv(env, 'PGPOOL_MAX', production ? 20 : 5, 1),
    idleTimeoutMillis: intFromEnv(env, 'PGPOOL_IDLE_TIMEOUT_MS', 30_000, 0),
    connectionTimeoutMillis: intFromEnv(env, 'PGPOOL_CONNECT_TIMEOUT_MS', 5_000, 0),
    // 0 means "no limit" to the server; pg omits falsy values, which leaves the server default (0).
    statement_timeout: statementTimeout === 0 ? false : statementTimeout,
    idle_in_transaction_session_timeout: intFromEnv(env, 'PG_IDLE_IN_TX_TIMEOUT_MS', DEFAULT_IDLE_IN_TX_TIMEOUT_MS, 0),
    application_name: env.PG_APPLICATION_NAME === undefined || env.PG_APPLICATION_NAME === '' ? DEFAULT_APPLICATION_NAME : env.PG_APPLICATION_NAME,
    // TCP keepalive notices a silently dropped connection (NAT, failover) before a query hangs on it.
    keepAlive: true,
    ssl: tlsConfig(env, production, connectionString, logger),
  };
  // pg sends lock_timeout only when set; 0 leaves the server default (no lock timeout).
  if (lockTimeout > 0) config.lock_timeout = lockTimeout;
  // JIT compiles a plan whose estimated cost passes jit_above_cost: on short OLTP statements
  // over freshly written tables (no statistics yet, so inflated estimates) that compile took
  // ~30 ms of a 5 ms statement (the chain batch's lookups, bench/events.ts). Nothing here runs
  // long analytical queries that would repay it.
  config.options = `-c jit=${jitSetting(env)}`;
  if (connectionString !== undefined) config.connectionString = connectionString;
  return { ...config, ...overrides };
}
