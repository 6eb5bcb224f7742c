import type { ParamLoader } from "@fcclip/tensor-core";
import { add, conv2d, layerNorm, matmul, mul, type Tensor } from "@fcclip/tensor-core";

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
}

export async function loadBlock(load: ParamLoader, prefix: string): Promise<ConvNeXtBlockParams> {
  const [dwWeight, dwBias, normWeight, normBias, fc1Weight, fc1Bias, fc2Weight, fc2Bias, gamma] = await Promise.all(
    [
      "conv_dw.weight",
      "conv_dw.bias",
      "norm.weight",
      "norm.bias",
      "mlp.fc1.weight",
      "mlp.fc1.bias",
      "mlp.fc2.weight",
      "mlp.fc2.bias",
      "gamma",
    ].map((n) => load(`${prefix}${n}`)),
  );
  return {
    dwWeight: dwWeight!,
    dwBias: dwBias!,
    normWeight: normWeight!,
    normBias: normBias!,
    fc1Weight: fc1Weight!,
    fc1Bias: fc1Bias!,
    fc2Weight: fc2Weight!,
    fc2Bias: fc2Bias!,
    gamma: gamma!,
  };
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
    const h = matmul(p.fc1Weight, n, { bias: p.fc1Bias, biasAxis: "m", activation: "gelu" });
    const o = matmul(p.fc2Weight, h, { bias: p.fc2Bias, biasAxis: "m" });
    return add(x, mul(o, p.gamma.reshape([C, 1])).reshape([N, C, H, W]));
  });
}
