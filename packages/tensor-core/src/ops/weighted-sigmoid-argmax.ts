import { ShapeError } from "../errors.js";
import { FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import { fmtShape } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { EXP_WGSL } from "../wgsl/exp.js";
import { checkInput, checkRank } from "./util.js";

/**
 * For each column p of logits [Q, P], the argmax over the selected rows j (`rows` [k], u32 indices into Q) of
 * weights[j]·sigmoid(logits[rows[j], p]), first j on ties, and whether the winner's own sigmoid is ≥ 0.5 there:
 * MaskFormer's panoptic assignment (`panoptic_inference`: `cur_prob_masks.argmax(0)` and `cur_masks[k] >= 0.5`).
 * Returns `id` (i32 [P], the position j in `rows`) and `flag` (i32 [P], 1 or 0). The sigmoid is PyTorch's to 2 ulps
 * (wgsl/exp.ts), since the products of strongly negative logits are compared across rows. Row indices live on the
 * GPU and are not range-checked: each must be < Q.
 */
export function weightedSigmoidArgmax(logits: Tensor, rows: Tensor, weights: Tensor): { id: Tensor; flag: Tensor } {
  const op = "weightedSigmoidArgmax";
  checkInput(op, "logits", logits, ["f32"]);
  checkRank(op, "logits", logits, 2);
  checkInput(op, "rows", rows, ["u32"]);
  checkRank(op, "rows", rows, 1);
  checkInput(op, "weights", weights, ["f32"]);
  checkRank(op, "weights", weights, 1);
  if (weights.size !== rows.size) {
    throw new ShapeError(
      `${op}: weights ${fmtShape(weights.shape)} must have one weight per row index, rows is ${fmtShape(rows.shape)}`,
    );
  }
  if (rows.size === 0) throw new ShapeError(`${op}: rows is empty; select at least one row of logits`);
  const e = logits.engine;
  const P = logits.shape[1]!;
  const id = e.empty([P], "i32");
  const flag = e.empty([P], "i32");
  if (P === 0) return { id, flag };
  const params: Param[] = [
    ["P", "u32", P],
    ["k", "u32", rows.size],
  ];
  e.run({
    name: "weighted_sigmoid_argmax",
    key: "f32",
    params,
    inputs: [logits.binding(), rows.binding(), weights.binding()],
    outputs: [id.binding(), flag.binding()],
    workgroups: grid(Math.ceil(P / WG1D)),
    wgsl: () => `${paramsStruct(params)}${storageDecls(
      [
        ["m", "f32"],
        ["rows", "u32"],
        ["weight", "f32"],
      ],
      [
        ["id", "i32"],
        ["flag", "i32"],
      ],
    )}${FLAT_ID}${EXP_WGSL}
${MAIN_1D} {
  let px = flat_id(wid, lid, nwg);
  if (px >= p.P) { return; }
  var best = -1.0;
  var at = -1;
  var own = 0.0;
  for (var j = 0u; j < p.k; j++) {
    let s = sigmoid_f32(m[rows[j] * p.P + px]);
    let v = weight[j] * s;
    if (at < 0 || v > best) { best = v; at = i32(j); own = s; }
  }
  id[px] = at;
  flag[px] = select(0, 1, at >= 0 && own >= 0.5);
}`,
  });
  return { id, flag };
}
