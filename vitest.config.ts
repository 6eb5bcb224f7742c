import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";
import { CHROMIUM, CHROMIUM_ARGS } from "./vitest.chromium.js";

const src = (dir: string) => fileURLToPath(new URL(`./packages/${dir}/src/index.ts`, import.meta.url));

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
const browserProjects = hasChromium
  ? [
      {
        // The tensor-core op suite again, in a real browser's WebGPU (Chromium's SwiftShader adapter here).
        extends: true,
        test: {
          name: "chromium",
          include: ["packages/tensor-core/src/ops/**/*.test.ts", "packages/tensor-core/src/engine.test.ts"],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS } }),
            instances: [{ browser: "chromium" }],
          },
        },
      },
    ]
  : [];

// One Dawn device per test file is expensive on lavapipe; files run one after the other so the
// two CPU cores stay with the GPU emulation instead of competing test workers.
// Tests run against the sources of every workspace package (one module instance of Engine/Tensor, no stale dist).
export default defineConfig({
  resolve: {
    alias: {
      "@fcclip/tensor-core": src("tensor-core"),
      "@fcclip/clip": src("clip"),
      "@fcclip/text-encoder": src("text-encoder"),
      "@fcclip/mask2former": src("mask2former"),
      "@fcclip/core/node": fileURLToPath(new URL("./packages/fcclip/src/node.ts", import.meta.url)),
      "@fcclip/core": src("fcclip"),
    },
  },
  test: {
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ["default", "./vitest.summary-reporter.ts"],
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          include: ["packages/*/src/**/*.test.ts", "apps/*/src/**/*.test.ts", "apps/*/e2e/**/*.test.ts"],
        },
      },
      ...browserProjects,
    ],
  },
});
