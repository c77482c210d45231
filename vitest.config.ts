import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/redis-server.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration files start gateways and agents; two at a time matches this 2-core machine.
    maxWorkers: 2,
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
