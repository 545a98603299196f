/** The durable-write helpers of src/util/fsync.ts. */
import { constants, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendLineDurably, fsyncDirectory, fsyncFile, openForDurableAppends, replaceFileDurably, startFileReplacement } from '../../src/util/fsync.js';

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

  it('replaces a file in two steps: the chunks in order first, then the rest, and leaves it alone when abandoned', async () => {
    const path = join(root, 'growing');
    await writeFile(path, 'old\n');
    const chunks = ['é1\n', '🚀2\n'.repeat(1000), '', '3\n'];
    const replacement = await startFileReplacement(path, chunks, `${path}.compact`);
    // Until it is finished, the file is as it was and the new content waits beside it.
    expect(await readFile(path, 'utf8')).toBe('old\n');
    expect(await readFile(`${path}.compact`, 'utf8')).toBe(chunks.join(''));
    await replacement.finish(Buffer.from('tail\n'));
    expect(await readFile(path, 'utf8')).toBe(`${chunks.join('')}tail\n`);
    expect(existsSync(`${path}.compact`)).toBe(false);

    const abandoned = await startFileReplacement(path, ['never\n'], `${path}.compact`);
    await abandoned.abandon();
    expect(await readFile(path, 'utf8')).toBe(`${chunks.join('')}tail\n`);
  });

  it('replaces a file with content of many MiB, flushed as it is written, byte for byte', async () => {
    const path = join(root, 'large');
    await writeFile(path, 'old\n');
    // 12 MiB in chunks of 1.5 MiB: the content is flushed several times before the end.
    const chunks = Array.from({ length: 8 }, (_, i) => `${String(i).repeat(1023)}\n`.repeat(1536));
    const replacement = await startFileReplacement(path, chunks, `${path}.compact`);
    await replacement.finish('tail\n');
    const written = await readFile(path, 'utf8');
    expect(written.length).toBe(8 * 1536 * 1024 + 5);
    expect(written).toBe(`${chunks.join('')}tail\n`);
  });

  it('appends durably, and syncs files and directories', async () => {
    const path = join(root, 'log');
    const handle = await openForDurableAppends(path);
    try {
      // Every write is synchronous I/O (the kernel's open flags, octal in fdinfo): no fdatasync needed.
      const flags = Number.parseInt(/^flags:\s+([0-7]+)$/m.exec(await readFile(`/proc/self/fdinfo/${handle.fd}`, 'utf8'))?.[1] ?? '0', 8);
      expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC);
      expect(flags & constants.O_APPEND).toBe(constants.O_APPEND);
      await appendLineDurably(handle, 'a\n');
      await appendLineDurably(handle, 'b\n', false);
    } finally {
      await handle.close();
    }
    expect(await readFile(path, 'utf8')).toBe('a\nb\n');
    // Opened again, the file keeps its content and takes appends at its end.
    const again = await openForDurableAppends(path);
    await appendLineDurably(again, 'c\n');
    await again.close();
    expect(await readFile(path, 'utf8')).toBe('a\nb\nc\n');
    await fsyncFile(path);
    await fsyncDirectory(root);
    await expect(fsyncFile(join(root, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('appends a line on a line of its own, after a fragment left by a write cut short', async () => {
    const path = join(root, 'lines');
    await writeFile(path, 'one\ntw');
    const handle = await openForDurableAppends(path);
    try {
      await appendLineDurably(handle, 'three\n');
      await appendLineDurably(handle, 'four\n');
    } finally {
      await handle.close();
    }
    expect(await readFile(path, 'utf8')).toBe('one\ntw\nthree\nfour\n');
    const empty = join(root, 'empty');
    const fresh = await openForDurableAppends(empty);
    await appendLineDurably(fresh, 'first\n');
    await fresh.close();
    expect(await readFile(empty, 'utf8')).toBe('first\n');
  });
});
