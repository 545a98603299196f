// Group commit: groups are bounded in size, a stalled slot does not hold later items forever,
// and every item settles with its own outcome.
import { describe, expect, it } from 'vitest';
import { GroupCommitter, type ItemOutcome } from '../src/storage/backends/sql/group-commit.js';

describe('GroupCommitter', () => {
  it('gathers items submitted together into groups of at most maxSize, each settling alone', async () => {
    const groups: number[][] = [];
    const committer = new GroupCommitter<number, number>(
      async (items) => {
        groups.push(items);
        return items.map((n): ItemOutcome<number> => (n % 7 === 0 ? { ok: false, error: new Error(`bad ${n}`) } : { ok: true, value: n * 2 }));
      },
      { maxSize: 10, concurrency: 1 },
    );
    const results = await Promise.allSettled(Array.from({ length: 35 }, (_, n) => committer.submit(n)));
    expect(groups.map((g) => g.length)).toEqual([10, 10, 10, 5]);
    expect(groups.flat()).toEqual(Array.from({ length: 35 }, (_, n) => n));
    results.forEach((r, n) => {
      if (n % 7 === 0) expect(r).toMatchObject({ status: 'rejected', reason: new Error(`bad ${n}`) });
      else expect(r).toEqual({ status: 'fulfilled', value: n * 2 });
    });
  });

  it('starts an extra group when every slot is stalled past maxWaitMs', async () => {
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    const groups: string[][] = [];
    const committer = new GroupCommitter<string, string>(
      async (items) => {
        groups.push(items);
        if (items.includes('first')) await stalled;
        return items.map((value) => ({ ok: true, value }));
      },
      { concurrency: 1, maxWaitMs: 20 },
    );
    const first = committer.submit('first');
    await new Promise((resolve) => setImmediate(resolve));
    // The only slot is stalled; the second item must still be committed.
    await expect(committer.submit('second')).resolves.toBe('second');
    expect(groups).toEqual([['first'], ['second']]);
    release();
    await expect(first).resolves.toBe('first');
    await committer.drain();
  });

  it('fails every item of a group whose commit throws, and keeps working', async () => {
    let calls = 0;
    const committer = new GroupCommitter<number, number>(async (items) => {
      calls += 1;
      if (calls === 1) throw new Error('connection lost');
      return items.map((value) => ({ ok: true, value }));
    });
    const failed = await Promise.allSettled([committer.submit(1), committer.submit(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(committer.submit(3)).resolves.toBe(3);
  });
});
