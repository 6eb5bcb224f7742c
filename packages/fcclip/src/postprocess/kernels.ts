import {
  EXP_WGSL,
  FLAT_ID,
  grid,
  MAIN_1D,
  type Param,
  paramsStruct,
  storageDecls,
  type Tensor,
  WG1D,
} from "@fcclip/tensor-core";

// The thresholds compare sigmoid(x) with 0.5 as PyTorch does (x ≥ 0 is not the same in float32 near 0), and the
// sigmoid is PyTorch's to 2 ulps: panoptic assignment compares score·sigmoid across queries.
const SIGMOID = `${EXP_WGSL}fn sig(x: f32) -> f32 { return sigmoid_f32(x); }`;

/**
 * Panoptic assignment over a pixel chunk: for each pixel, the kept query (index into `kept`) with the highest
 * score·sigmoid(logit) (first on ties), and whether that query's own mask is ≥ 0.5 there. logits: [Q, P].
 */
export function panopticAssign(logits: Tensor, kept: Tensor, scores: Tensor): { id: Tensor; flag: Tensor } {
  const e = logits.engine;
  const P = logits.shape[1]!;
  const id = e.empty([P], "i32");
  const flag = e.empty([P], "i32");
  const params: Param[] = [
    ["P", "u32", P],
    ["k", "u32", kept.size],
  ];
  e.run({
    name: "panoptic_assign",
    kind: "post-processing",
    key: "f32",
    params,
    inputs: [logits.binding(), kept.binding(), scores.binding()],
    outputs: [id.binding(), flag.binding()],
    workgroups: grid(Math.ceil(P / WG1D)),
    wgsl: () => `${paramsStruct(params)}${storageDecls(
      [
        ["m", "f32"],
        ["kept", "u32"],
        ["score", "f32"],
      ],
      [
        ["id", "i32"],
        ["flag", "i32"],
      ],
    )}${FLAT_ID}${SIGMOID}
${MAIN_1D} {
  let px = flat_id(wid, lid, nwg);
  if (px >= p.P) { return; }
  var best = -1.0;
  var at = -1;
  var own = 0.0;
  for (var j = 0u; j < p.k; j++) {
    let s = sig(m[kept[j] * p.P + px]);
    let v = score[j] * s;
    if (at < 0 || v > best) { best = v; at = i32(j); own = s; }
  }
  id[px] = at;
  flag[px] = select(0, 1, at >= 0 && own >= 0.5);
}`,
  });
  return { id, flag };
}

/**
 * Per-query sums over the first `valid` pixels of a chunk: [#(sigmoid ≥ 0.5), Σ sigmoid·1[x > 0], #(x > 0)] → [Q, 3].
 * The first feeds panoptic overlap ratios, the others instance mask scores.
 */
export function queryStatistics(logits: Tensor, valid: number): Tensor {
  const e = logits.engine;
  const [Q, P] = logits.shape as [number, number];
  const out = e.empty([Q, 3]);
  const params: Param[] = [
    ["Q", "u32", Q],
    ["P", "u32", P],
    ["valid", "u32", valid],
  ];
  e.run({
    name: "query_statistics",
    kind: "post-processing",
    key: "f32",
    params,
    inputs: [logits.binding()],
    outputs: [out.binding()],
    workgroups: grid(Math.ceil(Q / WG1D)),
    wgsl: () => `${paramsStruct(params)}${storageDecls([["m", "f32"]], [["y", "f32"]])}${FLAT_ID}${SIGMOID}
${MAIN_1D} {
  let q = flat_id(wid, lid, nwg);
  if (q >= p.Q) { return; }
  var half = 0.0;
  var sum = 0.0;
  var pos = 0.0;
  for (var i = 0u; i < p.valid; i++) {
    let x = m[q * p.P + i];
    let s = sig(x);
    half += select(0.0, 1.0, s >= 0.5);
    if (x > 0.0) { sum += s; pos += 1.0; }
  }
  y[q * 3u] = half;
  y[q * 3u + 1u] = sum;
  y[q * 3u + 2u] = pos;
}`,
  });
  return out;
}

/** 1[x > 0] of the listed queries as bits, 32 pixels per u32 word (P must be a multiple of 32) → [n, P/32]. */
export function packPositive(logits: Tensor, queries: Tensor): Tensor {
  const e = logits.engine;
  const P = logits.shape[1]!;
  const words = P / 32;
  const n = queries.size;
  const out = e.empty([n, words], "u32");
  const params: Param[] = [
    ["P", "u32", P],
    ["words", "u32", words],
    ["total", "u32", n * words],
  ];
  e.run({
    name: "pack_positive",
    kind: "post-processing",
    key: "f32",
    params,
    inputs: [logits.binding(), queries.binding()],
    outputs: [out.binding()],
    workgroups: grid(Math.ceil((n * words) / WG1D)),
    wgsl: () => `${paramsStruct(params)}${storageDecls(
      [
        ["m", "f32"],
        ["qs", "u32"],
      ],
      [["y", "u32"]],
    )}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.total) { return; }
  let row = qs[i / p.words] * p.P + (i % p.words) * 32u;
  var bits = 0u;
  for (var b = 0u; b < 32u; b++) { if (m[row + b] > 0.0) { bits |= 1u << b; } }
  y[i] = bits;
}`,
  });
  return out;
}
