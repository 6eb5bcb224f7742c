import { ShapeError } from "../errors.js";
import { FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import { fmtShape } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { EXP_WGSL } from "../wgsl/exp.js";
import { checkInput, checkRank } from "./util.js";

/**
 * Per-row sums over the first `valid` columns of mask logits x [Q, P] → f32 [Q, 3]: #(sigmoid(x) ≥ 0.5),
 * Σ sigmoid(x)·1[x > 0] and #(x > 0). MaskFormer's post-processing needs them over the whole image: the first is
 * `panoptic_inference`'s `original_area`, the others `instance_inference`'s mask score (Σ σ·binary / Σ binary), so a
 * caller streaming pixel chunks adds them up. Columns from `valid` on (a chunk's padding) are ignored. The threshold
 * compares sigmoid(x) with 0.5 as PyTorch does (x ≥ 0 is not the same in float32 near 0).
 */
export function maskStatistics(x: Tensor, valid: number): Tensor {
  const op = "maskStatistics";
  checkInput(op, "x", x, ["f32"]);
  checkRank(op, "x", x, 2);
  const [Q, P] = x.shape as [number, number];
  if (!Number.isInteger(valid) || valid < 0 || valid > P) {
    throw new ShapeError(
      `${op}: valid must be an integer in [0, ${P}] (the columns of x ${fmtShape(x.shape)}), got ${valid}`,
    );
  }
  const e = x.engine;
  if (Q === 0 || P === 0) return e.zeros([Q, 3]);
  const out = e.empty([Q, 3]);
  const params: Param[] = [
    ["Q", "u32", Q],
    ["P", "u32", P],
    ["valid", "u32", valid],
  ];
  e.run({
    name: "mask_statistics",
    key: "f32",
    params,
    inputs: [x.binding()],
    outputs: [out.binding()],
    workgroups: grid(Math.ceil(Q / WG1D)),
    wgsl: () => `${paramsStruct(params)}${storageDecls([["m", "f32"]], [["y", "f32"]])}${FLAT_ID}${EXP_WGSL}
${MAIN_1D} {
  let q = flat_id(wid, lid, nwg);
  if (q >= p.Q) { return; }
  var half = 0.0;
  var sum = 0.0;
  var pos = 0.0;
  for (var i = 0u; i < p.valid; i++) {
    let x = m[q * p.P + i];
    let s = sigmoid_f32(x);
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
