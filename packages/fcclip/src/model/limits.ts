import { type BufferNeeds, trunkBufferNeeds } from "@fcclip/clip";
import { FcclipError } from "../errors.js";
import type { FcclipArchitecture } from "../weights/architecture.js";
import type { FcclipConfig } from "./fcclip-config.js";

/** The adapter cannot hold the buffers FC-CLIP needs at the configured input size. */
export class AdapterLimitsError extends FcclipError {
  override name = "AdapterLimitsError";
}

/**
 * What the largest input allowed by the config (short side MIN_SIZE_TEST, long side MAX_SIZE_TEST) needs: the CLIP
 * trunk's largest maps (ConvNeXt: the stage-1 MLP hidden map and the stage-1 map its depthwise conv binds whole).
 */
export function bufferNeeds(a: FcclipArchitecture, cfg: FcclipConfig): BufferNeeds {
  const pad = (n: number) => Math.ceil(n / cfg.sizeDivisibility) * cfg.sizeDivisibility;
  const shape = {
    family: a.clip.family ?? "convnext",
    dims: a.clip.dims,
    depths: a.clip.depths,
    embedDim: a.clip.embedDim,
  };
  return trunkBufferNeeds(shape, pad(cfg.minSize), pad(cfg.maxSize));
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
