import { defineConfig } from 'vitest/config';

const shared = {
  globalSetup: ['test/setup/redis-server.ts'],
  // Generous bounds: many tests start real processes (gateways, CLIs) on a 2-core machine.
  testTimeout: 120_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    // Integration files start gateways and agents; two at a time matches this 2-core machine.
    maxWorkers: 2,
    dangerouslyIgnoreUnhandledErrors: false,
    projects: [
      { test: { ...shared, name: 'unit-and-integration', include: ['test/**/*.test.ts'], exclude: ['test/bench/**'], sequence: { groupOrder: 0 } } },
      // The bench harness saturates both cores with its own fleet of processes: it runs alone,
      // after everything else, so that it neither slows other tests past their bounds nor is slowed.
      { test: { ...shared, name: 'bench-harness', include: ['test/bench/**/*.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
});
