/** The durable-write helpers of src/util/fsync.ts. */
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendDurably, appendLineDurably, fsyncDirectory, fsyncFile, replaceFileDurably } from '../../src/util/fsync.js';

describe('durable writes', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fsync-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('replaces a file through its temporary file, leaving no temporary behind', async () => {
    const path = join(root, 'state');
    await writeFile(path, 'old');
    await replaceFileDurably(path, 'new', `${path}.compact`);
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(existsSync(`${path}.compact`)).toBe(false);
    await replaceFileDurably(path, 'newer');
    expect(await readFile(path, 'utf8')).toBe('newer');
    expect(existsSync(`${path}.tmp`)).toBe(false);
  });

  it('appends, and syncs files and directories', async () => {
    const path = join(root, 'log');
    const handle = await open(path, 'a');
    try {
      await appendDurably(handle, 'a\n');
      await appendDurably(handle, 'b\n');
    } finally {
      await handle.close();
    }
    expect(await readFile(path, 'utf8')).toBe('a\nb\n');
    await fsyncFile(path);
    await fsyncDirectory(root);
    await expect(fsyncFile(join(root, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('appends a line on a line of its own, after a fragment left by a write cut short', async () => {
    const path = join(root, 'lines');
    await writeFile(path, 'one\ntw');
    const handle = await open(path, 'a+');
    try {
      await appendLineDurably(handle, 'three\n');
      await appendLineDurably(handle, 'four\n');
    } finally {
      await handle.close();
    }
    expect(await readFile(path, 'utf8')).toBe('one\ntw\nthree\nfour\n');
    const empty = join(root, 'empty');
    const fresh = await open(empty, 'a+');
    await appendLineDurably(fresh, 'first\n');
    await fresh.close();
    expect(await readFile(empty, 'utf8')).toBe('first\n');
  });
});
