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

/**
 * The next layer's cross-attention mask from resized mask logits A [Q, HW]: excluded where sigmoid(A) < 0.5
 * (computed as sigmoid, not A < 0: tiny negative logits round to exactly 0.5 and stay attended), and a query whose
 * every position is excluded attends everywhere instead (FCCLIP-SPEC §5.3–5.4). Returns i32 [Q, HW], 1 = excluded.
 */
export function attentionMask(logits: Tensor): Tensor {
  const [Q, HW] = logits.shape as [number, number];
  const e = logits.engine;
  const out = e.empty([Q, HW], "i32");
  const params: Param[] = [
    ["rows", "u32", Q],
    ["n", "u32", HW],
  ];
  e.run({
    name: "attention_mask",
    kind: "softmax / attention",
    key: "f32",
    params,
    inputs: [logits.binding()],
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
