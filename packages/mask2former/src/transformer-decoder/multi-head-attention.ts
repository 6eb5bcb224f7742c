import { attention, matmul, type ParamLoader, permute, slice, type Tensor } from "@fcclip/tensor-core";

/** nn.MultiheadAttention weights, with the packed in_proj split into q, k, v at load time. */
export interface MultiHeadAttentionParams {
  q: { weight: Tensor; bias: Tensor };
  k: { weight: Tensor; bias: Tensor };
  v: { weight: Tensor; bias: Tensor };
  out: { weight: Tensor; bias: Tensor };
}

export async function loadMultiHeadAttention(load: ParamLoader, prefix: string): Promise<MultiHeadAttentionParams> {
  const w = await load(`${prefix}in_proj_weight`);
  const b = await load(`${prefix}in_proj_bias`);
  const D = w.shape[1]!;
  const part = (i: number) => ({
    weight: slice(w, [{ start: i * D, end: (i + 1) * D }]),
    bias: slice(b, [{ start: i * D, end: (i + 1) * D }]),
  });
  const result = {
    q: part(0),
    k: part(1),
    v: part(2),
    out: { weight: await load(`${prefix}out_proj.weight`), bias: await load(`${prefix}out_proj.bias`) },
  };
  w.dispose();
  b.dispose();
  return result;
}

export function disposeMultiHeadAttention(p: MultiHeadAttentionParams): void {
  for (const x of [p.q, p.k, p.v, p.out]) {
    x.weight.dispose();
    x.bias.dispose();
  }
}

/**
 * nn.MultiheadAttention (batch 1, sequence-first inputs flattened to [L, D]): per-head softmax(q·kᵀ/√d + mask)·v,
 * then out_proj. mask: [Lq, Lk] boolean (nonzero = excluded), shared by all heads.
 */
export function multiHeadAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  p: MultiHeadAttentionParams,
  heads: number,
  mask?: Tensor,
): Tensor {
  const [Lq, D] = q.shape as [number, number];
  const Lk = k.shape[0]!;
  const d = D / heads;
  return q.engine.scope(() => {
    const split = (x: Tensor, L: number, w: { weight: Tensor; bias: Tensor }) =>
      permute(matmul(x, w.weight, { transB: true, bias: w.bias }).reshape([L, heads, d]), [1, 0, 2]);
    const o = attention(split(q, Lq, p.q), split(k, Lk, p.k), split(v, Lk, p.v), { mask, scale: 1 / Math.sqrt(d) });
    const merged = permute(o, [1, 0, 2]).reshape([Lq, D]);
    return matmul(merged, p.out.weight, { transB: true, bias: p.out.bias });
  });
}
