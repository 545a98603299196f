/** ReadCoalescer: the reads of one event-loop turn go as one statement, each caller gets its own answer. */
import { describe, expect, it } from 'vitest';
import { ReadCoalescer } from '../src/storage/backends/sql/read-coalescer.js';

/** A coalescer over squares that records every statement it sends. */
function squares(maxKeys?: number, fail?: (keys: readonly number[]) => boolean) {
  const sent: string[] = [];
  const coalescer = new ReadCoalescer<number, number>({
    one: async (key) => {
      sent.push(`one ${key}`);
      return key * key;
    },
    many: async (keys) => {
      sent.push(`many ${keys.join(',')}`);
      if (fail?.(keys)) throw new Error(`refused ${keys.join(',')}`);
      return keys.map((k) => k * k);
    },
    ...(maxKeys === undefined ? {} : { maxKeys }),
  });
  return { coalescer, sent };
}

describe('ReadCoalescer', () => {
  it('sends the reads of one turn as one statement, a lone read by the one-key statement', async () => {
    const { coalescer, sent } = squares();
    expect(await Promise.all([1, 2, 3, 2].map((k) => coalescer.get(k)))).toEqual([1, 4, 9, 4]);
    expect(await coalescer.get(5)).toBe(25);
    expect(sent).toEqual(['many 1,2,3,2', 'one 5']);
  });

  it('splits a turn larger than maxKeys into statements of at most that many keys', async () => {
    const { coalescer, sent } = squares(2);
    expect(await Promise.all([1, 2, 3, 4, 5].map((k) => coalescer.get(k)))).toEqual([1, 4, 9, 16, 25]);
    expect(sent).toEqual(['many 1,2', 'many 3,4', 'one 5']);
  });

  it('a failed statement fails only its own callers', async () => {
    const { coalescer } = squares(2, (keys) => keys.includes(3));
    const answers = await Promise.allSettled([1, 2, 3, 4].map((k) => coalescer.get(k)));
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect(answers[2]).toMatchObject({ reason: { message: 'refused 3,4' } });
  });

  it('refuses an answer that does not have one value per key', async () => {
    const coalescer = new ReadCoalescer<number, number>({ one: async (k) => k, many: async (keys) => keys.slice(1) });
    const answers = await Promise.allSettled([1, 2].map((k) => coalescer.get(k)));
    expect(answers).toMatchObject([
      { status: 'rejected', reason: { message: 'a coalesced read answered 1 of 2 keys' } },
      { status: 'rejected', reason: { message: 'a coalesced read answered 1 of 2 keys' } },
    ]);
  });
});
