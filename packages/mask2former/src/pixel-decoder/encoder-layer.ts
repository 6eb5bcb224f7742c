import { add, layerNorm, matmul, type ParamLoader, type Tensor } from "@fcclip/tensor-core";
import { type LevelGeometry, loadMSDeformAttn, type MSDeformAttnParams, msDeformAttn } from "./ms-deform-attn.js";

export interface EncoderLayerParams {
  selfAttn: MSDeformAttnParams;
  norm1Weight: Tensor;
  norm1Bias: Tensor;
  linear1Weight: Tensor;
  linear1Bias: Tensor;
  linear2Weight: Tensor;
  linear2Bias: Tensor;
  norm2Weight: Tensor;
  norm2Bias: Tensor;
}

export async function loadEncoderLayer(load: ParamLoader, prefix: string): Promise<EncoderLayerParams> {
  const t = await Promise.all(
    [
      "norm1.weight",
      "norm1.bias",
      "linear1.weight",
      "linear1.bias",
      "linear2.weight",
      "linear2.bias",
      "norm2.weight",
      "norm2.bias",
    ].map((n) => load(`${prefix}${n}`)),
  );
  return {
    selfAttn: await loadMSDeformAttn(load, `${prefix}self_attn.`),
    norm1Weight: t[0]!,
    norm1Bias: t[1]!,
    linear1Weight: t[2]!,
    linear1Bias: t[3]!,
    linear2Weight: t[4]!,
    linear2Bias: t[5]!,
    norm2Weight: t[6]!,
    norm2Bias: t[7]!,
  };
}

/** Post-norm deformable encoder layer (FCCLIP-SPEC §4.5): x = LN1(x + MSDA(x + pos, x)); x = LN2(x + FFN(x)). */
export function encoderLayer(
  x: Tensor,
  pos: Tensor,
  p: EncoderLayerParams,
  geo: LevelGeometry,
  heads: number,
  points: number,
): Tensor {
  const [N, S, C] = x.shape as [number, number, number];
  return x.engine.scope(() => {
    const attn = msDeformAttn(add(x, pos), x, p.selfAttn, geo, heads, points);
    const x1 = layerNorm(add(x, attn), p.norm1Weight, p.norm1Bias, { eps: 1e-5 });
    const h = matmul(x1.reshape([N * S, C]), p.linear1Weight, {
      transB: true,
      bias: p.linear1Bias,
      activation: "relu",
    });
    const f = matmul(h, p.linear2Weight, { transB: true, bias: p.linear2Bias }).reshape([N, S, C]);
    return layerNorm(add(x1, f), p.norm2Weight, p.norm2Bias, { eps: 1e-5 });
  });
}

export function disposeEncoderLayer(p: EncoderLayerParams): void {
  const { selfAttn, ...rest } = p;
  for (const t of [...Object.values(selfAttn), ...Object.values(rest)]) t.dispose();
}
