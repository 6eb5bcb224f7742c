import { DTypeError, ShapeError } from "../errors.js";
import {
  type BufferBinding,
  enableF16,
  FLAT_ID,
  grid,
  MAIN_1D,
  type Param,
  paramsStruct,
  storageDecls,
  WG1D,
} from "../kernel.js";
import { broadcastStrides, fmtShape, sizeOf } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { mainRows, ROW_WG, WORKGROUP_REDUCE } from "../wgsl/workgroup-reduce.js";
import { coalesce, shapeParams, stridedOffsets } from "./binary.js";
import { matmul } from "./matmul/index.js";
import { checkInput, load } from "./util.js";
import { type KernelSpec, kernelKey, pickVariant, type Variant } from "./variants.js";

export interface SoftmaxOptions {
  /**
   * Broadcastable to x. f32/f16: added to the logits (use -Infinity to exclude). i32/u32: boolean, nonzero = excluded
   * (PyTorch's bool attn_mask convention). A row with every entry excluded gives NaN, as in PyTorch.
   */
  mask?: Tensor;
}

/** Softmax over the last axis, exp(x − max) / Σ, in f32. */
export function softmax(x: Tensor, opts: SoftmaxOptions = {}): Tensor {
  checkInput("softmax", "x", x);
  if (x.rank < 1) throw new ShapeError("softmax: x must have rank >= 1");
  const mask = opts.mask;
  const C = x.shape[x.rank - 1]!;
  const rows = sizeOf(x.shape.slice(0, -1));
  const e = x.engine;
  const out = e.empty(x.shape, "f32");
  if (rows === 0 || C === 0) return out;
  let maskShape: number[] = [];
  let maskStrides: number[][] = [[]];
  let maskCol = 0;
  let maskKind: "none" | "add" | "bool" = "none";
  if (mask) {
    checkInput("softmax", "mask", mask, ["f32", "f16", "i32", "u32"]);
    maskKind = mask.dtype === "i32" || mask.dtype === "u32" ? "bool" : "add";
    if (mask.rank > x.rank || mask.shape.some((d, i) => d !== 1 && d !== x.shape[x.rank - mask.rank + i])) {
      throw new ShapeError(`softmax: mask ${fmtShape(mask.shape)} does not broadcast to x ${fmtShape(x.shape)}`);
    }
    const strides = broadcastStrides(mask.shape, x.shape);
    maskCol = strides[x.rank - 1]!;
    const c = coalesce(x.shape.slice(0, -1), [strides.slice(0, -1)]);
    maskShape = c.shape;
    maskStrides = c.strides;
  }
  const params: Param[] = [
    ["n", "u32", rows],
    ["C", "u32", C],
    ["mcol", "u32", maskCol],
    ...shapeParams(maskShape, maskStrides, ["m"]),
  ];
  const md = mask?.dtype ?? "f32";
  const logit = (c: string) => {
    const v = load(x.dtype, "x", `base + ${c}`);
    if (maskKind === "add") return `(${v} + ${load(md, "mk", `o_m + ${c} * p.mcol`)})`;
    return v;
  };
  const excluded = (c: string) => (maskKind === "bool" ? `mk[o_m + ${c} * p.mcol] != 0` : "false");
  const head = `${enableF16([x.dtype, md])}${paramsStruct(params)}${storageDecls(
    [
      ["x", x.dtype],
      ["mk", md],
    ],
    [["y", "f32"]],
  )}`;
  // -inf logits (additive masks) count as excluded; exp of them must not be evaluated as inf - inf.
  const keepMax = (c: string, seen: string) =>
    `if (!(${excluded(c)})) { let v = ${logit(c)}; if (v >= -3.402823466e+38) { mx = max(mx, v); ${seen} } }`;
  const expTerm = (c: string) =>
    `var ev = 0.0; if (!(${excluded(c)})) { let v = ${logit(c)}; if (v >= -3.402823466e+38) { ev = exp(v - mx); } } y[base + ${c}] = ev; sum += ev;`;
  const call: SoftmaxCall = {
    out,
    rows,
    params,
    inputs: [x.binding(), mask?.binding() ?? x.binding(0, 4)],
    spec: { x: x.dtype, mask: maskKind, maskDType: md, maskDims: maskShape.length },
    head,
    maskOffsets: stridedOffsets(maskShape.length, ["m"]),
    keepMax,
    expTerm,
  };
  pickVariant("softmax", SOFTMAX_VARIANTS, e.flavor, call).encode(call);
  return out;
}

/** One softmax call as its variants see it: the uniform parameters, bindings and the WGSL pieces they share. */
export interface SoftmaxCall {
  out: Tensor;
  rows: number;
  params: Param[];
  inputs: BufferBinding[];
  spec: KernelSpec;
  /** Enables, the parameter struct and the storage declarations. */
  head: string;
  /** WGSL computing `o_m`, row i's offset into the mask. */
  maskOffsets: string;
  /** The statement folding column c into the running max `mx` (running `seen` when c is not excluded). */
  keepMax: (c: string, seen: string) => string;
  /** The statement writing exp(logit − mx) of column c (0 when excluded) to y and adding it to `sum`. */
  expTerm: (c: string) => string;
}

// A row with nothing left is NaN, written explicitly: WGSL does not promise NaN for 0 / 0.
const NAN = "bitcast<f32>(0x7fc00000u + p.n * 0u)";

/** A GPU spreads each row over a workgroup (one invocation per row leaves it idle). */
const workgroupRows: Variant<SoftmaxCall> = {
  name: "workgroup-rows",
  flavor: "gpu",
  applies: () => true,
  encode: (s) =>
    s.out.engine.run({
      name: "softmax_rows",
      key: kernelKey(workgroupRows.name, s.spec),
      params: s.params,
      inputs: s.inputs,
      outputs: [s.out.binding()],
      workgroups: grid(s.rows),
      wgsl: () => `${s.head}${WORKGROUP_REDUCE}
${mainRows("i", "p.n")}
${s.maskOffsets}
  let base = i * p.C;
  var mx = -3.402823466e+38;
  var found = 0.0;
  for (var c = l; c < p.C; c += ${ROW_WG}u) { ${s.keepMax("c", "found = 1.0;")} }
  mx = reduce_max(mx, l);
  let any = reduce_max(found, l) > 0.0;
  var sum = 0.0;
  for (var c = l; c < p.C; c += ${ROW_WG}u) { ${s.expTerm("c")} }
  sum = reduce_sum(sum, l);
  for (var c = l; c < p.C; c += ${ROW_WG}u) { y[base + c] = select(${NAN}, y[base + c] / sum, any); }
}`,
    }),
};

/** One invocation per row: what CPU adapters want, and correct on any. */
const invocationRows: Variant<SoftmaxCall> = {
  name: "invocation-rows",
  flavor: "any",
  applies: () => true,
  encode: (s) =>
    s.out.engine.run({
      name: "softmax",
      key: kernelKey(invocationRows.name, s.spec),
      params: s.params,
      inputs: s.inputs,
      outputs: [s.out.binding()],
      workgroups: grid(Math.ceil(s.rows / WG1D)),
      wgsl: () => `${s.head}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.n) { return; }
${s.maskOffsets}
  let base = i * p.C;
  var mx = -3.402823466e+38;
  var any = false;
  for (var c = 0u; c < p.C; c++) { ${s.keepMax("c", "any = true;")} }
  if (!any) {
    for (var c = 0u; c < p.C; c++) { y[base + c] = ${NAN}; }
    return;
  }
  var sum = 0.0;
  for (var c = 0u; c < p.C; c++) { ${s.expTerm("c")} }
  for (var c = 0u; c < p.C; c++) { y[base + c] = y[base + c] / sum; }
}`,
    }),
};

/** softmax's variants in order of preference. */
export const SOFTMAX_VARIANTS: readonly Variant<SoftmaxCall>[] = [workgroupRows, invocationRows];

export interface AttentionOptions {
  /** Same conventions as softmax's mask, broadcast to [..., Lq, Lk]. */
  mask?: Tensor;
  /** Logit scale; defaults to 1/√d. */
  scale?: number;
}

/** softmax(q·kᵀ·scale + mask)·v for q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv] (batch dims broadcast). */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  for (const [n, t] of [
    ["q", q],
    ["k", k],
    ["v", v],
  ] as const) {
    checkInput("attention", n, t);
    if (t.rank < 2) throw new ShapeError(`attention: ${n} must have rank >= 2, got ${fmtShape(t.shape)}`);
  }
  const d = q.shape[q.rank - 1]!;
  if (k.shape[k.rank - 1] !== d) throw new ShapeError(`attention: q has head dim ${d}, k has ${k.shape[k.rank - 1]}`);
  if (k.shape[k.rank - 2] !== v.shape[v.rank - 2]) {
    throw new ShapeError(`attention: k has ${k.shape[k.rank - 2]} keys, v has ${v.shape[v.rank - 2]} values`);
  }
  if (opts.mask && opts.mask.engine !== q.engine) throw new DTypeError("attention: mask belongs to another engine");
  return q.engine.scope(() => {
    const scores = matmul(q, k, { transB: true, alpha: opts.scale ?? 1 / Math.sqrt(d) });
    const probs = softmax(scores, { mask: opts.mask });
    return matmul(probs, v);
  });
}
