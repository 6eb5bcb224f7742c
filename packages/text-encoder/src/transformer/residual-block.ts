import {
  attention,
  type Engine,
  layerNorm,
  loadWeightWithTexture,
  type MatrixTexture,
  matmul,
  paramLoader,
  permute,
  slice,
  type Tensor,
  type TensorSource,
} from "@fcclip/tensor-core";

/** open_clip ResidualAttentionBlock parameters (`transformer.resblocks.{i}.*`). */
export interface ResidualBlockParams {
  ln1Weight: Tensor;
  ln1Bias: Tensor;
  inProjWeight: Tensor;
  inProjBias: Tensor;
  outProjWeight: Tensor;
  outProjBias: Tensor;
  ln2Weight: Tensor;
  ln2Bias: Tensor;
  fcWeight: Tensor;
  fcBias: Tensor;
  projWeight: Tensor;
  projBias: Tensor;
  /** The Linear weights as textures on CPU adapters (null elsewhere), read by matmul's bTexture. */
  textures: {
    inProj: MatrixTexture | null;
    outProj: MatrixTexture | null;
    fc: MatrixTexture | null;
    proj: MatrixTexture | null;
  };
}

const VECTORS = {
  ln1Weight: "ln_1.weight",
  ln1Bias: "ln_1.bias",
  inProjBias: "attn.in_proj_bias",
  outProjBias: "attn.out_proj.bias",
  ln2Weight: "ln_2.weight",
  ln2Bias: "ln_2.bias",
  fcBias: "mlp.c_fc.bias",
  projBias: "mlp.c_proj.bias",
} as const;

export async function loadResidualBlock(
  engine: Engine,
  source: TensorSource,
  prefix: string,
): Promise<ResidualBlockParams> {
  const load = paramLoader(engine, source, prefix);
  const vectors = Object.fromEntries(
    await Promise.all(Object.entries(VECTORS).map(async ([k, n]) => [k, await load(n)] as const)),
  );
  const weight = (n: string) => loadWeightWithTexture(engine, source, `${prefix}${n}`);
  const [inProj, outProj, fc, proj] = [
    await weight("attn.in_proj_weight"),
    await weight("attn.out_proj.weight"),
    await weight("mlp.c_fc.weight"),
    await weight("mlp.c_proj.weight"),
  ];
  return {
    ...(vectors as Pick<ResidualBlockParams, keyof typeof VECTORS>),
    inProjWeight: inProj.tensor,
    outProjWeight: outProj.tensor,
    fcWeight: fc.tensor,
    projWeight: proj.tensor,
    textures: { inProj: inProj.texture, outProj: outProj.texture, fc: fc.texture, proj: proj.texture },
  };
}

export function disposeResidualBlock(p: ResidualBlockParams): void {
  const { textures, ...tensors } = p;
  for (const t of Object.values(textures)) t?.dispose();
  for (const t of Object.values(tensors)) t.dispose();
}

/**
 * Pre-LN block: x + MHA(LN1(x)) with the additive causal mask, then x + c_proj(GELU(c_fc(LN2(x)))). LayerNorm eps 1e-5.
 * x: [N, L, W]; mask: [L, L] additive (0 / -inf).
 */
export function residualBlock(x: Tensor, p: ResidualBlockParams, heads: number, mask: Tensor): Tensor {
  const [N, L, W] = x.shape as [number, number, number];
  const d = W / heads;
  return x.engine.scope(() => {
    const h = layerNorm(x, p.ln1Weight, p.ln1Bias, { eps: 1e-5 }).reshape([N * L, W]);
    const qkv = matmul(h, p.inProjWeight, { transB: true, bias: p.inProjBias, bTexture: p.textures.inProj }).reshape([
      N,
      L,
      3,
      heads,
      d,
    ]);
    const split = permute(qkv, [2, 0, 3, 1, 4]).reshape([3, N * heads, L, d]);
    const [q, k, v] = [0, 1, 2].map((i) => slice(split, [{ start: i, end: i + 1 }]).reshape([N * heads, L, d]));
    const a = attention(q!, k!, v!, { mask, scale: 1 / Math.sqrt(d) }).reshape([N, heads, L, d]);
    const merged = permute(a, [0, 2, 1, 3]).reshape([N * L, W]);
    // Both residual adds are the projections' epilogues.
    const x1 = matmul(merged, p.outProjWeight, {
      transB: true,
      bias: p.outProjBias,
      residual: x.reshape([N * L, W]),
      bTexture: p.textures.outProj,
    });
    const h2 = layerNorm(x1, p.ln2Weight, p.ln2Bias, { eps: 1e-5 });
    const f = matmul(h2, p.fcWeight, { transB: true, bias: p.fcBias, activation: "gelu", bTexture: p.textures.fc });
    const m = matmul(f, p.projWeight, { transB: true, bias: p.projBias, residual: x1, bTexture: p.textures.proj });
    return m.reshape([N, L, W]);
  });
}
