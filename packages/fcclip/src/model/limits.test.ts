import { expect, test } from "vitest";
import type { FcclipArchitecture } from "../weights/architecture.js";
import { DEFAULT_CONFIG } from "./fcclip-config.js";
import { AdapterLimitsError, bufferNeeds, checkAdapterLimits } from "./limits.js";

const convnextL = { clip: { dims: [192, 384, 768, 1536] } } as FcclipArchitecture;

test("ConvNeXt-L at the official 800×1333 needs a 4·192×200×336 float buffer, and says so when the adapter is short", () => {
  const need = bufferNeeds(convnextL, DEFAULT_CONFIG);
  // 800 and 1333 padded to 32: 800×1344, a quarter of which is 200×336.
  expect(need).toEqual({ maxBufferSize: 4 * 192 * 200 * 336 * 4, maxStorageBufferBindingSize: 192 * 200 * 336 * 4 });
  const webgpuDefaults = { maxBufferSize: 256 * 2 ** 20, maxStorageBufferBindingSize: 128 * 2 ** 20 };
  expect(() => checkAdapterLimits(webgpuDefaults, convnextL, DEFAULT_CONFIG)).not.toThrow();
  const small = { maxBufferSize: 128 * 2 ** 20, maxStorageBufferBindingSize: 32 * 2 ** 20 };
  expect(() => checkAdapterLimits(small, convnextL, DEFAULT_CONFIG)).toThrow(AdapterLimitsError);
  expect(() => checkAdapterLimits(small, convnextL, DEFAULT_CONFIG)).toThrow(
    /maxBufferSize is 128 MiB, 197 MiB is needed; maxStorageBufferBindingSize is 32 MiB, 49 MiB is needed/,
  );
  expect(() => checkAdapterLimits(small, convnextL, { ...DEFAULT_CONFIG, minSize: 512, maxSize: 704 })).not.toThrow();
});
