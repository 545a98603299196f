// SQL backends are single-use: once disconnected (pool closed), connect() refuses clearly.
import { expect, it } from 'vitest';
import { PgliteDatabase } from '../src/storage/backends/pglite/pglite-database.js';
import { isStorageError } from '../src/storage/contract/errors.js';

it('a disconnected SQL backend refuses to reconnect with NOT_CONNECTED', async () => {
  const db = new PgliteDatabase();
  await db.connect();
  expect((await db.migrator().up()).error).toBeUndefined();
  await db.disconnect();
  const error = await db.connect().then(() => null, (e: unknown) => e);
  expect(isStorageError(error, 'NOT_CONNECTED')).toBe(true);
  expect(db.isConnected()).toBe(false);
});
