import { avgPool2d, conv2d, type Engine, type Tensor, type TensorSource } from "@fcclip/tensor-core";
import { type ConvBn, disposeConvBn, loadConvBn } from "./conv-bn.js";

/** One ModifiedResNet Bottleneck (`layer{i}.{b}.*`), its BatchNorms folded into the convs. */
export interface BottleneckParams {
  conv1: ConvBn;
  conv2: ConvBn;
  conv3: ConvBn;
  /** The shortcut's 1×1 conv + BN (`downsample.0`, `downsample.1`), in each layer's first block. */
  downsample: ConvBn | null;
  /** 2 in the first block of layers 2–4, else 1. */
  stride: number;
}

export async function loadBottleneck(
  engine: Engine,
  source: TensorSource,
  prefix: string,
  stride: number,
  hasDownsample: boolean,
): Promise<BottleneckParams> {
  const cb = (i: number) => loadConvBn(engine, source, `${prefix}conv${i}`, `${prefix}bn${i}`);
  return {
    conv1: await cb(1),
    conv2: await cb(2),
    conv3: await cb(3),
    downsample: hasDownsample
      ? await loadConvBn(engine, source, `${prefix}downsample.0`, `${prefix}downsample.1`)
      : null,
    stride,
  };
}

export function disposeBottleneck(p: BottleneckParams): void {
  for (const c of [p.conv1, p.conv2, p.conv3, p.downsample]) if (c) disposeConvBn(c);
}

/**
 * ReLU(BN(1×1)) → ReLU(BN(3×3)) → AvgPool(stride) → BN(1×1 ×4), plus the shortcut (AvgPool(stride) → BN(1×1) when
 * the block has one, else x), then ReLU. Strided blocks pool instead of striding their convs (anti-aliased). The
 * shortcut add and the last ReLU are conv3's epilogue, so the block's widest map is written once.
 */
export function bottleneck(x: Tensor, p: BottleneckParams): Tensor {
  return x.engine.scope(() => {
    let identity = x;
    if (p.downsample) {
      const pooled = p.stride > 1 ? avgPool2d(x, p.stride) : x;
      identity = conv2d(pooled, p.downsample.weight, { bias: p.downsample.bias });
    }
    let out = conv2d(x, p.conv1.weight, { bias: p.conv1.bias, activation: "relu" });
    out = conv2d(out, p.conv2.weight, { bias: p.conv2.bias, padding: 1, activation: "relu" });
    if (p.stride > 1) out = avgPool2d(out, p.stride);
    return conv2d(out, p.conv3.weight, { bias: p.conv3.bias, residual: identity, residualActivation: "relu" });
  });
}
