import {
  attention,
  disposeParams,
  type Engine,
  layerNorm,
  loadParams,
  matmul,
  permute,
  slice,
  type Tensor,
  type TensorSource,
} from "@fcclip/tensor-core";

/** The MLP activation: exact GELU (open_clip's LAION models), or quick_gelu (OpenAI's weights, e.g. the ResNet CLIPs). */
export type TextActivation = "gelu" | "quick_gelu";

/** open_clip ResidualAttentionBlock parameters (`transformer.resblocks.{i}.*`): field → key. */
const BLOCK = {
  ln1Weight: "ln_1.weight",
  ln1Bias: "ln_1.bias",
  inProjWeight: "attn.in_proj_weight",
  inProjBias: "attn.in_proj_bias",
  outProjWeight: "attn.out_proj.weight",
  outProjBias: "attn.out_proj.bias",
  ln2Weight: "ln_2.weight",
  ln2Bias: "ln_2.bias",
  fcWeight: "mlp.c_fc.weight",
  fcBias: "mlp.c_fc.bias",
  projWeight: "mlp.c_proj.weight",
  projBias: "mlp.c_proj.bias",
} as const;

export type ResidualBlockParams = { [K in keyof typeof BLOCK]: Tensor };

export function loadResidualBlock(engine: Engine, source: TensorSource, prefix: string): Promise<ResidualBlockParams> {
  return loadParams(engine, source, prefix, BLOCK);
}

export const disposeResidualBlock: (p: ResidualBlockParams) => void = disposeParams;

/**
 * Pre-LN block: x + MHA(LN1(x)) with the additive causal mask, then x + c_proj(act(c_fc(LN2(x)))). LayerNorm eps 1e-5.
 * x: [N, L, W]; mask: [L, L] additive (0 / -inf); act: exact GELU, or OpenAI's quick_gelu.
 */
export function residualBlock(
  x: Tensor,
  p: ResidualBlockParams,
  heads: number,
  mask: Tensor,
  act: TextActivation = "gelu",
): Tensor {
  const [N, L, W] = x.shape as [number, number, number];
  const d = W / heads;
  return x.engine.scope(() => {
    const h = layerNorm(x, p.ln1Weight, p.ln1Bias, { eps: 1e-5 }).reshape([N * L, W]);
    const qkv = matmul(h, p.inProjWeight, { transB: true, bias: p.inProjBias }).reshape([N, L, 3, heads, d]);
    const split = permute(qkv, [2, 0, 3, 1, 4]).reshape([3, N * heads, L, d]);
    const [q, k, v] = [0, 1, 2].map((i) => slice(split, [{ start: i, end: i + 1 }]).reshape([N * heads, L, d]));
    const a = attention(q!, k!, v!, { mask, scale: 1 / Math.sqrt(d) }).reshape([N, heads, L, d]);
    const merged = permute(a, [0, 2, 1, 3]).reshape([N * L, W]);
    // Both residual adds are the projections' epilogues.
    const x1 = matmul(merged, p.outProjWeight, {
      transB: true,
      bias: p.outProjBias,
      residual: x.reshape([N * L, W]),
    });
    const h2 = layerNorm(x1, p.ln2Weight, p.ln2Bias, { eps: 1e-5 });
    const f = matmul(h2, p.fcWeight, { transB: true, bias: p.fcBias, activation: act });
    const m = matmul(f, p.projWeight, { transB: true, bias: p.projBias, residual: x1 });
    return m.reshape([N, L, W]);
  });
}
