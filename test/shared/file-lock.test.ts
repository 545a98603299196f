/**
 * The owner-file lock of src/shared/file-lock.ts (the PGlite data directory and the pending
 * payments file take it; their own tests check the CONFLICT each reports).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireFileLock, FileLockError } from '../../src/shared/file-lock.js';

describe('acquireFileLock', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'file-lock-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('writes the owner pid, refuses a second taker naming the owner, and releases', async () => {
    const path = join(root, 'held');
    const release = await acquireFileLock(path);
    expect(await readFile(`${path}.lock`, 'utf8')).toBe(`${process.pid}\n`);
    const refused = await acquireFileLock(path).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(FileLockError);
    expect((refused as FileLockError).conflict).toMatchObject({ path, lockPath: `${path}.lock`, details: { ownerPid: process.pid } });
    expect((refused as FileLockError).conflict.describe('thing')).toBe(`thing ${path} is in use by process ${process.pid} (lock file ${path}.lock)`);
    await release();
    expect(existsSync(`${path}.lock`)).toBe(false);
    await (await acquireFileLock(path))();
  });

  it('refuses with the error the caller builds', async () => {
    const path = join(root, 'custom');
    const release = await acquireFileLock(path);
    await expect(acquireFileLock(path, (c) => new RangeError(c.describe('custom thing')))).rejects.toThrow(RangeError);
    await release();
  });

  it('takes over the lock of a process that no longer exists', async () => {
    const path = join(root, 'stale');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(`${path}.lock`, `${dead}\n`);
    const release = await acquireFileLock(path);
    expect(await readFile(`${path}.lock`, 'utf8')).toBe(`${process.pid}\n`);
    await release();
  });
});
