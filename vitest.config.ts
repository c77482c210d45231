import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/redis-server.ts'],
    // Generous bounds: many tests start real processes (gateways, CLIs) on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Integration files start gateways and agents; two at a time matches this 2-core machine.
    maxWorkers: 2,
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
