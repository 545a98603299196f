import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file owns its database, so files may run in parallel; two workers match the machine.
    maxWorkers: 2,
  },
});
