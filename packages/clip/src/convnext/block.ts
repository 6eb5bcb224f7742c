import {
  conv2d,
  disposeParams,
  type Engine,
  layerNorm,
  loadParams,
  matmul,
  type Tensor,
  type TensorSource,
} from "@fcclip/tensor-core";

/** timm ConvNeXtBlock parameters (`stages.{s}.blocks.{b}.*`): field → key. */
const BLOCK = {
  dwWeight: "conv_dw.weight",
  dwBias: "conv_dw.bias",
  normWeight: "norm.weight",
  normBias: "norm.bias",
  fc1Weight: "mlp.fc1.weight",
  fc1Bias: "mlp.fc1.bias",
  fc2Weight: "mlp.fc2.weight",
  fc2Bias: "mlp.fc2.bias",
  gamma: "gamma",
} as const;

export type ConvNeXtBlockParams = { [K in keyof typeof BLOCK]: Tensor };

/** Loads `<prefix>*` of one block. */
export function loadBlock(engine: Engine, source: TensorSource, prefix: string): Promise<ConvNeXtBlockParams> {
  return loadParams(engine, source, prefix, BLOCK);
}

export const disposeBlock: (p: ConvNeXtBlockParams) => void = disposeParams;

/**
 * x + γ·fc2(GELU(fc1(LN(dwconv7×7(x))))). timm permutes to NHWC for the LayerNorm and the Linear layers; the same
 * math stays in NCHW here: LayerNorm over the channel axis, and the Linear layers as W·x over [C, H·W].
 */
export function convnextBlock(x: Tensor, p: ConvNeXtBlockParams): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  return x.engine.scope(() => {
    const y = conv2d(x, p.dwWeight, { bias: p.dwBias, padding: 3, groups: C });
    const n = layerNorm(y, p.normWeight, p.normBias, { axis: 1, eps: 1e-6 }).reshape([N, C, H * W]);
    // On CPU adapters matmul reads the weights from their textures (packed on first use, kept with the weights).
    const h = matmul(p.fc1Weight, n, { bias: p.fc1Bias, biasAxis: "m", activation: "gelu" });
    // γ and the shortcut are fc2's epilogue: x + γ·(W·h + b) in one pass over the output.
    const o = matmul(p.fc2Weight, h, {
      bias: p.fc2Bias,
      biasAxis: "m",
      scale: p.gamma,
      residual: x.reshape([N, C, H * W]),
    });
    return o.reshape([N, C, H, W]);
  });
}
