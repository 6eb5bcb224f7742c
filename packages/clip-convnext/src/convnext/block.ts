import {
  conv2d,
  type Engine,
  layerNorm,
  loadWeightWithTexture,
  type MatrixTexture,
  matmul,
  paramLoader,
  type Tensor,
  type TensorSource,
} from "@fcclip/tensor-core";

/** timm ConvNeXtBlock parameters (`stages.{s}.blocks.{b}.*`). */
export interface ConvNeXtBlockParams {
  dwWeight: Tensor;
  dwBias: Tensor;
  normWeight: Tensor;
  normBias: Tensor;
  fc1Weight: Tensor;
  fc1Bias: Tensor;
  fc2Weight: Tensor;
  fc2Bias: Tensor;
  gamma: Tensor;
  /** The MLP weights as textures, on CPU adapters (faster reads there); null elsewhere or when shapes do not fit. */
  fc1Texture: MatrixTexture | null;
  fc2Texture: MatrixTexture | null;
}

/** Loads `<prefix>*` of one block; the MLP weights also become textures on CPU adapters (one host read each). */
export async function loadBlock(engine: Engine, source: TensorSource, prefix: string): Promise<ConvNeXtBlockParams> {
  const load = paramLoader(engine, source, prefix);
  const [dwWeight, dwBias, normWeight, normBias, fc1Bias, fc2Bias, gamma] = await Promise.all(
    ["conv_dw.weight", "conv_dw.bias", "norm.weight", "norm.bias", "mlp.fc1.bias", "mlp.fc2.bias", "gamma"].map((n) =>
      load(n),
    ),
  );
  const fc1 = await loadWeightWithTexture(engine, source, `${prefix}mlp.fc1.weight`);
  const fc2 = await loadWeightWithTexture(engine, source, `${prefix}mlp.fc2.weight`);
  return {
    dwWeight: dwWeight!,
    dwBias: dwBias!,
    normWeight: normWeight!,
    normBias: normBias!,
    fc1Weight: fc1.tensor,
    fc1Bias: fc1Bias!,
    fc2Weight: fc2.tensor,
    fc2Bias: fc2Bias!,
    gamma: gamma!,
    fc1Texture: fc1.texture,
    fc2Texture: fc2.texture,
  };
}

export function disposeBlock(p: ConvNeXtBlockParams): void {
  const { fc1Texture, fc2Texture, ...tensors } = p;
  fc1Texture?.dispose();
  fc2Texture?.dispose();
  for (const t of Object.values(tensors)) t.dispose();
}

/**
 * x + γ·fc2(GELU(fc1(LN(dwconv7×7(x))))). timm permutes to NHWC for the LayerNorm and the Linear layers; the same
 * math stays in NCHW here: LayerNorm over the channel axis, and the Linear layers as W·x over [C, H·W].
 */
export function convnextBlock(x: Tensor, p: ConvNeXtBlockParams): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  return x.engine.scope(() => {
    const y = conv2d(x, p.dwWeight, { bias: p.dwBias, padding: 3, groups: C });
    const n = layerNorm(y, p.normWeight, p.normBias, { axis: 1, eps: 1e-6 }).reshape([N, C, H * W]);
    const h = matmul(p.fc1Weight, n, { bias: p.fc1Bias, biasAxis: "m", activation: "gelu", aTexture: p.fc1Texture });
    // γ and the shortcut are fc2's epilogue: x + γ·(W·h + b) in one pass over the output.
    const o = matmul(p.fc2Weight, h, {
      bias: p.fc2Bias,
      biasAxis: "m",
      scale: p.gamma,
      residual: x.reshape([N, C, H * W]),
      aTexture: p.fc2Texture,
    });
    return o.reshape([N, C, H, W]);
  });
}
