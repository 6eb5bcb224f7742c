import {
  f32ToF16Bits,
  type HostTensor,
  type SafetensorsWriteEntry,
  type StoredDType,
  safetensorsChunks,
  toFloat32,
} from "@fcclip/tensor-core";
import type { FcclipArchitecture } from "./architecture.js";
import type { FcclipWeights } from "./load.js";

/** The small JSON written beside a bundle's safetensors; what the browser demo and `segment` read. */
export interface BundleConfig {
  format: "fcclip-bundle";
  version: 1;
  weights: string;
  /** f16: CLIP tensors with two or more dimensions are stored as float16; the heads, vectors and scalars stay float32. */
  storage: "f32" | "f16";
  architecture: FcclipArchitecture;
  sources: string[];
}

export interface BundleOptions {
  f16?: boolean;
  onProgress?: (done: number, total: number, key: string) => void;
}

const FLOAT: ReadonlySet<StoredDType> = new Set(["F32", "F16", "BF16", "F64"]);

function storedAs(name: string, dtype: StoredDType, shape: number[], f16: boolean): StoredDType {
  if (!FLOAT.has(dtype)) return dtype;
  // Norm weights, biases and logit scales stay f32: they are tiny, and exp(logit_scale) would amplify f16 rounding.
  // So do the trained heads (4 % of the weights): their nine decoder layers amplify rounding the most.
  return f16 && shape.length >= 2 && name.startsWith("backbone.") ? "F16" : "F32";
}

function encode(t: HostTensor, to: StoredDType): Uint8Array {
  if (t.dtype === to) return t.bytes;
  const values = toFloat32(t);
  if (to === "F32") return new Uint8Array(values.buffer);
  const half = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) half[i] = f32ToF16Bits(values[i]!);
  return new Uint8Array(half.buffer);
}

/** The bundle's safetensors bytes, produced one tensor at a time (a full ConvNeXt-L model never sits in memory). */
export function bundleChunks(
  weights: FcclipWeights,
  config: BundleConfig,
  opts: BundleOptions = {},
): AsyncGenerator<Uint8Array> {
  const keys = weights.keys();
  let done = 0;
  const entries: SafetensorsWriteEntry[] = keys.map((name) => {
    const { dtype, shape } = weights.info(name);
    const to = storedAs(name, dtype, shape, config.storage === "f16");
    return {
      name,
      dtype: to,
      shape,
      bytes: async () => {
        const bytes = encode(await weights.read(name), to);
        opts.onProgress?.(++done, keys.length, name);
        return bytes;
      },
    };
  });
  return safetensorsChunks(entries, { format: "fcclip-bundle", architecture: JSON.stringify(config.architecture) });
}

export function bundleConfig(weights: FcclipWeights, weightsFile: string, opts: BundleOptions = {}): BundleConfig {
  return {
    format: "fcclip-bundle",
    version: 1,
    weights: weightsFile,
    storage: opts.f16 ? "f16" : "f32",
    architecture: weights.architecture,
    sources: weights.files.map((f) => f.name.split(/[\\/]/).pop()!),
  };
}
