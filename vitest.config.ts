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
    // A worker runs its files one after another in one process, so the service's modules (fastify,
    // viem, x402, PGlite's WebAssembly) load once per worker instead of once per file: the suite
    // took 501 s with a fresh process per file and 371 s without, on the same machine. In return a
    // test file must leave no state behind: it restores what it changes in process.env and globals,
    // and closes what it opens (stores, servers, child processes, timers).
    isolate: false,
    // Holds every file to the environment half of that rule.
    setupFiles: ['test/support/leaves-no-env.ts'],
  },
});
