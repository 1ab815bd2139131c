import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Docker-backed and fake-server suites bind ports and build images; keep parallelism modest on 2 cores.
    maxWorkers: 2,
  },
});
