import { FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import type { Tensor } from "../tensor.js";
import { EXP_WGSL } from "../wgsl/exp.js";
import { checkInput, checkRank } from "./util.js";

/**
 * A masked-attention mask from mask logits x [Q, HW] (Mask2Former's `forward_prediction_heads`:
 * `attn_mask = attn_mask.sigmoid() < 0.5`, then rows whose every position is excluded are cleared). Position j of
 * query q is excluded where sigmoid(x) < 0.5, computed as a sigmoid rather than x < 0: tiny negative logits round
 * to exactly 0.5 and stay attended, as in PyTorch. A query with every position excluded attends everywhere instead.
 * Returns i32 [Q, HW], 1 = excluded (softmax's boolean mask convention).
 */
export function attentionMaskFromLogits(x: Tensor): Tensor {
  const op = "attentionMaskFromLogits";
  checkInput(op, "x", x, ["f32"]);
  checkRank(op, "x", x, 2);
  const [Q, HW] = x.shape as [number, number];
  const e = x.engine;
  const out = e.empty([Q, HW], "i32");
  if (out.size === 0) return out;
  const params: Param[] = [
    ["rows", "u32", Q],
    ["n", "u32", HW],
  ];
  e.run({
    name: "attention_mask_from_logits",
    key: "f32",
    params,
    inputs: [x.binding()],
    outputs: [out.binding()],
    workgroups: grid(Math.ceil(Q / WG1D)),
    wgsl: () => `${paramsStruct(params)}${storageDecls([["a", "f32"]], [["m", "i32"]])}${EXP_WGSL}${FLAT_ID}
fn excluded(x: f32) -> bool { return sigmoid_f32(x) < 0.5; }
${MAIN_1D} {
  let r = flat_id(wid, lid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.n;
  var all = true;
  for (var j = 0u; j < p.n; j++) { if (!excluded(a[base + j])) { all = false; break; } }
  for (var j = 0u; j < p.n; j++) { m[base + j] = select(i32(excluded(a[base + j])), 0, all); }
}`,
  });
  return out;
}
