import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (dir: string) => fileURLToPath(new URL(`./packages/${dir}/src/index.ts`, import.meta.url));

// One Dawn device per test file is expensive on lavapipe; files run one after the other so the
// two CPU cores stay with the GPU emulation instead of competing test workers.
// Tests run against the sources of every workspace package (one module instance of Engine/Tensor, no stale dist).
export default defineConfig({
  resolve: {
    alias: {
      "@fcclip/tensor-core": src("tensor-core"),
      "@fcclip/clip-convnext": src("clip-convnext"),
      "@fcclip/text-encoder": src("text-encoder"),
      "@fcclip/mask2former": src("mask2former"),
      "@fcclip/core/node": fileURLToPath(new URL("./packages/fcclip/src/node.ts", import.meta.url)),
      "@fcclip/core": src("fcclip"),
    },
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "apps/*/src/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ["default", "./vitest.summary-reporter.ts"],
  },
});
