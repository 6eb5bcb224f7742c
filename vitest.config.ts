import { defineConfig } from "vitest/config";

// One Dawn device per test file is expensive on lavapipe; files run one after the other so the
// two CPU cores stay with the GPU emulation instead of competing test workers.
export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "apps/*/src/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ["default", "./vitest.summary-reporter.ts"],
  },
});
