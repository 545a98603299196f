/**
 * vitest setup file: fails a test file that leaves `process.env` changed. Test files share their
 * worker's process (`isolate: false` in vitest.config.ts), so a variable one file sets and does
 * not restore would reach every file the worker runs after it.
 */
import { afterAll, beforeAll, expect } from 'vitest';

let before: Record<string, string | undefined> = {};

/** Variables vitest itself sets per file. */
const OWN = /^VITEST/;

beforeAll(() => {
  before = { ...process.env };
});

afterAll(() => {
  const names = new Set([...Object.keys(before), ...Object.keys(process.env)]);
  const changed = [...names].filter((name) => !OWN.test(name) && before[name] !== process.env[name]).sort();
  expect(changed, 'process.env variables this test file changed and did not restore').toEqual([]);
});
