/** DueQueue: values come out in time order, only those due before the time asked. */
import { describe, expect, it } from 'vitest';
import { DueQueue } from '../../src/util/due-queue.js';

describe('DueQueue', () => {
  it('takes out exactly the values due before now, earliest first, over random pushes and takes', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const queue = new DueQueue<number>();
    let reference: { at: number; id: number }[] = [];
    let id = 0;
    for (let round = 0; round < 200; round++) {
      for (let k = 0; k < 1 + Math.floor(random() * 20); k++) {
        const at = Math.floor(random() * 1_000);
        queue.push(at, id);
        reference.push({ at, id: id++ });
      }
      const now = Math.floor(random() * 1_000);
      const taken = [...queue.takeDueBefore(now)];
      const due = reference.filter((r) => r.at < now);
      reference = reference.filter((r) => r.at >= now);
      expect(taken.sort((a, b) => a - b)).toEqual(due.map((r) => r.id).sort((a, b) => a - b));
      expect(queue.size).toBe(reference.length);
    }
  });

  it('yields in time order', () => {
    const queue = new DueQueue<string>();
    for (const [at, v] of [[5, 'e'], [1, 'a'], [3, 'c'], [2, 'b'], [4, 'd']] as const) queue.push(at, v);
    expect([...queue.takeDueBefore(4)]).toEqual(['a', 'b', 'c']);
    expect([...queue.takeDueBefore(100)]).toEqual(['d', 'e']);
  });

  it('refuses a time that is not a finite number', () => {
    const queue = new DueQueue<string>();
    expect(() => queue.push(Number.NaN, 'x')).toThrow(RangeError);
    expect(queue.size).toBe(0);
  });
});
