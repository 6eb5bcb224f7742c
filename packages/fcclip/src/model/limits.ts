import { TensorCoreError } from "@fcclip/tensor-core";
import type { FcclipArchitecture } from "../weights/architecture.js";
import type { FcclipConfig } from "./fcclip-model.js";

/** The adapter cannot hold the buffers FC-CLIP needs at the configured input size. */
export class AdapterLimitsError extends TensorCoreError {
  override name = "AdapterLimitsError";
}

export interface BufferNeeds {
  /** The largest buffer: ConvNeXt's stage-1 MLP hidden map (4·C0 channels at 1/4 of the padded input). */
  maxBufferSize: number;
  /** The largest buffer bound whole: a stage-1 feature map (depthwise conv and LayerNorm do not split bindings). */
  maxStorageBufferBindingSize: number;
}

/** What the largest input allowed by the config (short side MIN_SIZE_TEST, long side MAX_SIZE_TEST) needs. */
export function bufferNeeds(a: FcclipArchitecture, cfg: FcclipConfig): BufferNeeds {
  const pad = (n: number) => Math.ceil(n / cfg.sizeDivisibility) * cfg.sizeDivisibility;
  const quarter = Math.ceil(pad(cfg.minSize) / 4) * Math.ceil(pad(cfg.maxSize) / 4);
  const c0 = a.clip.dims[0]!;
  return { maxBufferSize: 4 * c0 * quarter * 4, maxStorageBufferBindingSize: c0 * quarter * 4 };
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

/** Throws an AdapterLimitsError naming each limit that is too small, what is needed, and what to change. */
export function checkAdapterLimits(
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number },
  a: FcclipArchitecture,
  cfg: FcclipConfig,
): void {
  const need = bufferNeeds(a, cfg);
  const short = (["maxBufferSize", "maxStorageBufferBindingSize"] as const).filter((k) => limits[k] < need[k]);
  if (short.length === 0) return;
  throw new AdapterLimitsError(
    `this WebGPU adapter is too small for FC-CLIP at input sizes up to ${cfg.minSize}×${cfg.maxSize}: ${short
      .map((k) => `${k} is ${mib(limits[k])}, ${mib(need[k])} is needed`)
      .join("; ")}. Use a GPU (or browser) with larger limits, or lower INPUT.MIN_SIZE_TEST / INPUT.MAX_SIZE_TEST.`,
  );
}
