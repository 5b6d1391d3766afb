import { defineConfig } from 'vitest/config'

// Three projects, run one after the other (sequence.groupOrder) so that the slow ones do not compete
// with the unit tests for the CPU:
// - unit: pure tests of each floor, no process or real server started (`npm run test:unit`);
// - integration: real servers (etcd, ZooKeeper, namerd, child processes), Debian chromium driving the
//   admin UI, examples and simulator runs,
//   with timeouts sized for a loaded 2-core machine;
// - slow: the package as a user installs it (`npm pack`, install into a temp dir, plain node).
// `npm test` (bare `vitest run`) runs all three.
const integration = [
  'test/integration/**/*.test.ts',
  'test/examples/**/*.test.ts',
  'test/bench/**/*.test.ts',
  'test/browser/**/*.test.ts',
]
const slow = ['test/package/**/*.test.ts']

export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...integration, ...slow],
          testTimeout: 20_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: integration,
          testTimeout: 60_000,
          hookTimeout: 60_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'slow',
          include: slow,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
})
