import {
  add,
  div,
  type Engine,
  matmul,
  msDeformAttnSample,
  type ParamLoader,
  softmax,
  type Tensor,
} from "@fcclip/tensor-core";

export interface MSDeformAttnParams {
  samplingOffsetsWeight: Tensor;
  samplingOffsetsBias: Tensor;
  attentionWeightsWeight: Tensor;
  attentionWeightsBias: Tensor;
  valueProjWeight: Tensor;
  valueProjBias: Tensor;
  outputProjWeight: Tensor;
  outputProjBias: Tensor;
}

export async function loadMSDeformAttn(load: ParamLoader, prefix: string): Promise<MSDeformAttnParams> {
  const names = [
    "sampling_offsets.weight",
    "sampling_offsets.bias",
    "attention_weights.weight",
    "attention_weights.bias",
    "value_proj.weight",
    "value_proj.bias",
    "output_proj.weight",
    "output_proj.bias",
  ];
  const t = await Promise.all(names.map((n) => load(`${prefix}${n}`)));
  return {
    samplingOffsetsWeight: t[0]!,
    samplingOffsetsBias: t[1]!,
    attentionWeightsWeight: t[2]!,
    attentionWeightsBias: t[3]!,
    valueProjWeight: t[4]!,
    valueProjBias: t[5]!,
    outputProjWeight: t[6]!,
    outputProjBias: t[7]!,
  };
}

export interface LevelGeometry {
  shapes: [number, number][];
  /** [1, Lq, 1, 1, 1, 2] reference points (x, y) in [0, 1], the same for every level. */
  referencePoints: Tensor;
  /** [1, 1, 1, L, 1, 2] (W_l, H_l): offsets are in pixels of the sampled level. */
  offsetNormalizer: Tensor;
}

/** Reference points of every token and the per-level offset normaliser (FCCLIP-SPEC §4.4, §4.6). */
export function levelGeometry(engine: Engine, shapes: [number, number][]): LevelGeometry {
  const f = Math.fround;
  const tokens = shapes.reduce((s, [h, w]) => s + h * w, 0);
  const ref = new Float32Array(tokens * 2);
  let t = 0;
  for (const [H, W] of shapes) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++, t++) {
        ref[2 * t] = f(f(j + 0.5) / W);
        ref[2 * t + 1] = f(f(i + 0.5) / H);
      }
    }
  }
  const norm = Float32Array.from(shapes.flatMap(([h, w]) => [w, h]));
  return {
    shapes,
    referencePoints: engine.tensor(ref, [1, tokens, 1, 1, 1, 2]),
    offsetNormalizer: engine.tensor(norm, [1, 1, 1, shapes.length, 1, 2]),
  };
}

/**
 * MSDeformAttn.forward: values from `input` (no position embedding), offsets and softmaxed attention weights from
 * `query`, bilinear sampling at ref + offset/(W_l, H_l), then output_proj. query/input: [1, S, C].
 */
export function msDeformAttn(
  query: Tensor,
  input: Tensor,
  p: MSDeformAttnParams,
  geo: LevelGeometry,
  heads: number,
  points: number,
): Tensor {
  const [N, S, C] = input.shape as [number, number, number];
  const Lq = query.shape[1]!;
  const L = geo.shapes.length;
  return query.engine.scope(() => {
    const value = matmul(input.reshape([N * S, C]), p.valueProjWeight, { transB: true, bias: p.valueProjBias }).reshape(
      [N, S, heads, C / heads],
    );
    const q = query.reshape([N * Lq, C]);
    const offsets = matmul(q, p.samplingOffsetsWeight, { transB: true, bias: p.samplingOffsetsBias }).reshape([
      N,
      Lq,
      heads,
      L,
      points,
      2,
    ]);
    const logits = matmul(q, p.attentionWeightsWeight, { transB: true, bias: p.attentionWeightsBias }).reshape([
      N * Lq * heads,
      L * points,
    ]);
    const weights = softmax(logits).reshape([N, Lq, heads, L, points]);
    const locations = add(geo.referencePoints, div(offsets, geo.offsetNormalizer));
    const sampled = msDeformAttnSample(value, geo.shapes, locations, weights).reshape([N * Lq, C]);
    return matmul(sampled, p.outputProjWeight, { transB: true, bias: p.outputProjBias }).reshape([N, Lq, C]);
  });
}
