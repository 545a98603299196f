/**
 * poolConfigFromEnv: the guide's section 5 table, environment overrides, validation and TLS.
 * (That the settings reach the server is checked in postgres-connection.test.ts.)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { poolConfigFromEnv } from '../src/storage/backends/postgres/pool-config.js';
import { recordingLogger } from './support/logger.js';

describe('poolConfigFromEnv', () => {
  const quiet = recordingLogger().logger;

  it('follows the guide table by NODE_ENV', () => {
    for (const env of ['development', 'test', undefined]) {
      expect(poolConfigFromEnv({ NODE_ENV: env }, {}, quiet)).toMatchObject({ max: 5, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000, ssl: false });
    }
    expect(poolConfigFromEnv({ NODE_ENV: 'production' }, {}, quiet)).toMatchObject({
      max: 20,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 5_000,
      ssl: { rejectUnauthorized: true },
      statement_timeout: 30_000,
      lock_timeout: 2_000,
      idle_in_transaction_session_timeout: 60_000,
      application_name: 'asset-leasing-store',
    });
  });

  it('turns JIT off for its sessions unless PG_JIT=on, and refuses any other value', () => {
    expect(poolConfigFromEnv({}, {}, quiet).options).toBe('-c jit=off');
    expect(poolConfigFromEnv({ PG_JIT: 'on' }, {}, quiet).options).toBe('-c jit=on');
    expect(() => poolConfigFromEnv({ PG_JIT: 'yes' }, {}, quiet)).toThrow(expect.objectContaining({ code: 'VALIDATION', field: 'PG_JIT' }));
  });

  it('takes overrides from the environment, then from the caller', () => {
    const env = {
      PGPOOL_MAX: '7',
      PGPOOL_IDLE_TIMEOUT_MS: '1000',
      PGPOOL_CONNECT_TIMEOUT_MS: '2000',
      PG_STATEMENT_TIMEOUT_MS: '0',
      PG_IDLE_IN_TX_TIMEOUT_MS: '3000',
      PG_APPLICATION_NAME: 'worker',
      DATABASE_URL: 'postgres://h/db',
    };
    expect(poolConfigFromEnv({ PG_LOCK_TIMEOUT_MS: '250' }, {}, quiet)).toMatchObject({ lock_timeout: 250 });
    // 0 means no lock timeout: pg then sends none and the server default (none) applies.
    expect(poolConfigFromEnv({ PG_LOCK_TIMEOUT_MS: '0' }, {}, quiet)).not.toHaveProperty('lock_timeout');
    expect(poolConfigFromEnv(env, { max: 9 }, quiet)).toMatchObject({
      max: 9,
      idleTimeoutMillis: 1000,
      connectionTimeoutMillis: 2000,
      statement_timeout: false,
      idle_in_transaction_session_timeout: 3000,
      application_name: 'worker',
      connectionString: 'postgres://h/db',
    });
  });

  it('rejects invalid values naming the variable', () => {
    for (const [name, value] of [['PGPOOL_MAX', 'abc'], ['PGPOOL_MAX', '0'], ['PG_STATEMENT_TIMEOUT_MS', '1e3'], ['PG_LOCK_TIMEOUT_MS', '0x10'], ['PGSSLMODE', 'prefer'], ['PG_TLS_ALLOW_UNVERIFIED', 'yes']] as const) {
      let caught: unknown;
      try {
        poolConfigFromEnv({ [name]: value }, {}, quiet);
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: 'VALIDATION', field: name });
    }
  });

  it('verifies the server certificate in production; unverified TLS only by opt-in, with a warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ca-'));
    try {
      await writeFile(join(dir, 'root.crt'), 'CA PEM');
      expect(poolConfigFromEnv({ NODE_ENV: 'production', PGSSLROOTCERT: join(dir, 'root.crt') }, {}, quiet).ssl).toEqual({ rejectUnauthorized: true, ca: 'CA PEM' });
    } finally {
      await rm(dir, { recursive: true });
    }
    const log = recordingLogger();
    expect(poolConfigFromEnv({ NODE_ENV: 'production', PG_TLS_ALLOW_UNVERIFIED: 'true' }, {}, log.logger).ssl).toEqual({ rejectUnauthorized: false });
    expect(log.entries.map((e) => e.level)).toEqual(['warn']);
    expect(log.entries[0]?.msg).toContain('NOT verified');
    const off = recordingLogger();
    expect(poolConfigFromEnv({ NODE_ENV: 'production', PGSSLMODE: 'disable' }, {}, off.logger).ssl).toBe(false);
    expect(off.entries).toHaveLength(1);
    expect(poolConfigFromEnv({ PGSSLMODE: 'require' }, {}, quiet).ssl).toEqual({ rejectUnauthorized: true });
  });
});
