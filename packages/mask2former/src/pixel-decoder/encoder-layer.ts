import {
  add,
  type Engine,
  layerNorm,
  loadWeightWithTexture,
  type MatrixTexture,
  matmul,
  paramLoader,
  type Tensor,
  type TensorSource,
} from "@fcclip/tensor-core";
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
  /** FFN weights as textures on CPU adapters (matmul's bTexture); null elsewhere. */
  linear1Texture: MatrixTexture | null;
  linear2Texture: MatrixTexture | null;
}

export async function loadEncoderLayer(
  engine: Engine,
  source: TensorSource,
  prefix: string,
): Promise<EncoderLayerParams> {
  const load = paramLoader(engine, source, prefix);
  const [norm1Weight, norm1Bias, linear1Bias, linear2Bias, norm2Weight, norm2Bias] = await Promise.all(
    ["norm1.weight", "norm1.bias", "linear1.bias", "linear2.bias", "norm2.weight", "norm2.bias"].map((n) => load(n)),
  );
  const linear1 = await loadWeightWithTexture(engine, source, `${prefix}linear1.weight`);
  const linear2 = await loadWeightWithTexture(engine, source, `${prefix}linear2.weight`);
  return {
    selfAttn: await loadMSDeformAttn(load, "self_attn."),
    norm1Weight: norm1Weight!,
    norm1Bias: norm1Bias!,
    linear1Weight: linear1.tensor,
    linear1Bias: linear1Bias!,
    linear2Weight: linear2.tensor,
    linear2Bias: linear2Bias!,
    norm2Weight: norm2Weight!,
    norm2Bias: norm2Bias!,
    linear1Texture: linear1.texture,
    linear2Texture: linear2.texture,
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
      bTexture: p.linear1Texture,
      activation: "relu",
    });
    const f = matmul(h, p.linear2Weight, {
      transB: true,
      bias: p.linear2Bias,
      residual: x1.reshape([N * S, C]),
      bTexture: p.linear2Texture,
    });
    return layerNorm(f, p.norm2Weight, p.norm2Bias, { eps: 1e-5 }).reshape([N, S, C]);
  });
}

export function disposeEncoderLayer(p: EncoderLayerParams): void {
  const { selfAttn, linear1Texture, linear2Texture, ...rest } = p;
  linear1Texture?.dispose();
  linear2Texture?.dispose();
  for (const t of [...Object.values(selfAttn), ...Object.values(rest)]) t.dispose();
}
