import type { Tensor } from "../../tensor.js";
import type { Activation } from "../../wgsl/erf.js";
import type { MatrixTexture } from "../matrix-texture.js";

export interface MatmulOptions {
  /** a is stored [..., K, M] (use its transpose). */
  transA?: boolean;
  /** b is stored [..., N, K], like a PyTorch Linear weight. */
  transB?: boolean;
  /** Added after scaling by alpha: shape [N] (biasAxis "n", the default) or [M] (biasAxis "m", e.g. conv channels). */
  bias?: Tensor;
  biasAxis?: "n" | "m";
  /** C = post(residual + scale ⊙ act(alpha · A·B + bias)), post = residualActivation. */
  alpha?: number;
  activation?: Activation;
  /** Multiplies after the activation, along the bias axis: [N] or [M] (e.g. ConvNeXt's layer scale γ). */
  scale?: Tensor;
  /** Added last, with the result's shape (a residual connection), in f32. */
  residual?: Tensor;
  /** A ReLU after the residual add (a ResNet Bottleneck's ReLU(conv3 + shortcut)). */
  residualActivation?: "relu";
  /** Override the adapter's kernel family (tests run both). */
  flavor?: "cpu" | "gpu";
  /** `a` (a constant [M, K] weight) also as a texture: the CPU flavor reads it from there when shapes allow. */
  aTexture?: MatrixTexture | null;
  /** `b` stored [N, K] (a Linear weight, with transB) also as a texture, likewise. */
  bTexture?: MatrixTexture | null;
  /**
   * CPU flavor: pack the operand that varies across lanes into a texture for this call when no prepared one is given
   * (default true; the packing pass costs ~M·K against the product's M·N·K). False keeps the storage-buffer kernel.
   */
  stageTextures?: boolean;
  /** Texture-fed kernels: the depth of one K slice (default 1024); deeper products accumulate slice by slice. */
  kBlock?: number;
}
