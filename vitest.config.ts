import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ first: some tests run the compiled service, CLI and package entry.
    globalSetup: ['test/support/build.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file owns its database, so files may run in parallel; two workers match the machine.
    maxWorkers: 2,
  },
});
