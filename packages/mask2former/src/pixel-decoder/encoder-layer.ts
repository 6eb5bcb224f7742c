import {
  add,
  disposeParams,
  type Engine,
  layerNorm,
  loadParams,
  matmul,
  paramLoader,
  type Tensor,
  type TensorSource,
} from "@fcclip/tensor-core";
import { type LevelGeometry, loadMSDeformAttn, type MSDeformAttnParams, msDeformAttn } from "./ms-deform-attn.js";

/** The layer's own parameters besides self_attn (`...encoder.layers.{i}.*`): field → key. */
const LAYER = {
  norm1Weight: "norm1.weight",
  norm1Bias: "norm1.bias",
  linear1Weight: "linear1.weight",
  linear1Bias: "linear1.bias",
  linear2Weight: "linear2.weight",
  linear2Bias: "linear2.bias",
  norm2Weight: "norm2.weight",
  norm2Bias: "norm2.bias",
} as const;

export type EncoderLayerParams = { [K in keyof typeof LAYER]: Tensor } & { selfAttn: MSDeformAttnParams };

export async function loadEncoderLayer(
  engine: Engine,
  source: TensorSource,
  prefix: string,
): Promise<EncoderLayerParams> {
  return {
    ...(await loadParams(engine, source, prefix, LAYER)),
    selfAttn: await loadMSDeformAttn(paramLoader(engine, source, prefix), "self_attn."),
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
    const f = matmul(h, p.linear2Weight, {
      transB: true,
      bias: p.linear2Bias,
      residual: x1.reshape([N * S, C]),
    });
    return layerNorm(f, p.norm2Weight, p.norm2Bias, { eps: 1e-5 }).reshape([N, S, C]);
  });
}

export function disposeEncoderLayer(p: EncoderLayerParams): void {
  const { selfAttn, ...rest } = p;
  disposeParams(selfAttn as unknown as Record<string, Tensor>);
  disposeParams(rest);
}
