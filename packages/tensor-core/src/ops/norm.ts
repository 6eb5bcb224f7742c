import { ShapeError } from "../errors.js";
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
import { fmtShape, normAxis, sizeOf } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { mainRows, ROW_WG, WORKGROUP_REDUCE } from "../wgsl/workgroup-reduce.js";
import { checkInput, load } from "./util.js";
import { type KernelSpec, kernelKey, pickVariant, type Variant } from "./variants.js";

export interface LayerNormOptions {
  eps?: number;
  /** The normalised axis: -1 (nn.LayerNorm) or 1 for channels-first NCHW maps (timm LayerNorm2d / ConvNeXt). */
  axis?: number;
}

/**
 * LayerNorm over one axis with an affine weight/bias of that axis' length. Two-pass mean and biased variance in f32
 * (the one-pass E[x²]−E[x]² loses precision on ConvNeXt's large late-stage activations).
 */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, opts: LayerNormOptions = {}): Tensor {
  checkInput("layerNorm", "x", x);
  const axis = normAxis("layerNorm", opts.axis ?? -1, x.rank);
  const C = x.shape[axis]!;
  for (const [name, t] of [
    ["weight", weight],
    ["bias", bias],
  ] as const) {
    if (!t) continue;
    checkInput("layerNorm", name, t);
    if (t.size !== C)
      throw new ShapeError(
        `layerNorm: ${name} has ${t.size} elements, expected ${C} (axis ${axis} of ${fmtShape(x.shape)})`,
      );
  }
  const outer = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis + 1));
  const e = x.engine;
  const out = e.empty(x.shape, "f32");
  const rows = outer * inner;
  if (rows === 0 || C === 0) return out;
  const params: Param[] = [
    ["rows", "u32", rows],
    ["C", "u32", C],
    ["inner", "u32", inner],
    ["eps", "f32", opts.eps ?? 1e-5],
  ];
  const dummy = x.binding(0, 4);
  const wt = weight?.dtype ?? "f32";
  const bt = bias?.dtype ?? "f32";
  const call: LayerNormCall = {
    out,
    rows,
    inner,
    params,
    inputs: [x.binding(), weight?.binding() ?? dummy, bias?.binding() ?? dummy],
    spec: { x: x.dtype, weight: weight ? wt : "-", bias: bias ? bt : "-" },
    head: `${enableF16([x.dtype, wt, bt])}${paramsStruct(params)}${storageDecls(
      [
        ["x", x.dtype],
        ["w", wt],
        ["b", bt],
      ],
      [["y", "f32"]],
    )}`,
    xAt: (i) => load(x.dtype, "x", i),
    affine: (c) => `${weight ? ` * ${load(wt, "w", c)}` : ""}${bias ? ` + ${load(bt, "b", c)}` : ""}`,
  };
  pickVariant("layerNorm", LAYER_NORM_VARIANTS, e.flavor, call).encode(call);
  return out;
}

/** One LayerNorm call as its variants see it: the uniform parameters, bindings and the WGSL pieces they share. */
export interface LayerNormCall {
  out: Tensor;
  rows: number;
  /** Elements between a row's consecutive entries: 1 for the last axis, H·W for channels-first maps. */
  inner: number;
  params: Param[];
  inputs: BufferBinding[];
  spec: KernelSpec;
  /** Enables, the parameter struct and the storage declarations. */
  head: string;
  /** WGSL reading x at an index, as f32. */
  xAt: (i: string) => string;
  /** The affine tail (` * w[c] + b[c]`) for channel c. */
  affine: (c: string) => string;
}

/**
 * A GPU wants a row's elements spread over a workgroup; channels-first maps (inner > 1) keep one invocation per row,
 * whose per-pixel rows are already read coalesced.
 */
const workgroupRows: Variant<LayerNormCall> = {
  name: "workgroup-rows",
  flavor: "gpu",
  applies: (n) => n.inner === 1,
  encode: (n) =>
    n.out.engine.run({
      name: "layer_norm_rows",
      key: kernelKey(workgroupRows.name, n.spec),
      params: n.params,
      inputs: n.inputs,
      outputs: [n.out.binding()],
      workgroups: grid(n.rows),
      wgsl: () => `${n.head}${WORKGROUP_REDUCE}
${mainRows("r", "p.rows")}
  let base = r * p.C;
  // Summing x - x0 instead of x keeps the mean exact enough when |mean| >> std.
  let x0 = ${n.xAt("base")};
  var s = 0.0;
  for (var c = l; c < p.C; c += ${ROW_WG}u) { s += ${n.xAt("base + c")} - x0; }
  let mean = x0 + reduce_sum(s, l) / f32(p.C);
  var q = 0.0;
  for (var c = l; c < p.C; c += ${ROW_WG}u) { let d = ${n.xAt("base + c")} - mean; q += d * d; }
  let rstd = 1.0 / sqrt(reduce_sum(q, l) / f32(p.C) + p.eps);
  for (var c = l; c < p.C; c += ${ROW_WG}u) { y[base + c] = (${n.xAt("base + c")} - mean) * rstd${n.affine("c")}; }
}`,
    }),
};

/** One invocation per row, any axis: what CPU adapters want, and correct on any. */
const invocationRows: Variant<LayerNormCall> = {
  name: "invocation-rows",
  flavor: "any",
  applies: () => true,
  encode: (n) =>
    n.out.engine.run({
      name: "layer_norm",
      key: kernelKey(invocationRows.name, n.spec),
      params: n.params,
      inputs: n.inputs,
      outputs: [n.out.binding()],
      workgroups: grid(Math.ceil(n.rows / WG1D)),
      wgsl: () => `${n.head}${FLAT_ID}
${MAIN_1D} {
  let r = flat_id(wid, lid, nwg);
  if (r >= p.rows) { return; }
  let base = (r / p.inner) * p.C * p.inner + r % p.inner;
  // Summing x - x0 instead of x keeps the mean exact enough when |mean| >> std (a plain f32 sum of 1000 ± 0.1 does not).
  let x0 = ${n.xAt("base")};
  var sum = 0.0;
  for (var c = 0u; c < p.C; c++) { sum += ${n.xAt("base + c * p.inner")} - x0; }
  let mean = x0 + sum / f32(p.C);
  var sq = 0.0;
  for (var c = 0u; c < p.C; c++) { let d = ${n.xAt("base + c * p.inner")} - mean; sq += d * d; }
  let rstd = 1.0 / sqrt(sq / f32(p.C) + p.eps);
  for (var c = 0u; c < p.C; c++) {
    let v = (${n.xAt("base + c * p.inner")} - mean) * rstd;
    y[base + c * p.inner] = v${n.affine("c")};
  }
}`,
    }),
};

/** layerNorm's variants in order of preference. */
export const LAYER_NORM_VARIANTS: readonly Variant<LayerNormCall>[] = [workgroupRows, invocationRows];

/**
 * GroupNorm over [N, C, ...] with G groups (torch.nn.GroupNorm): one workgroup per (n, group) reduces with
 * workgroup memory, two passes (mean, then centred variance).
 */
export function groupNorm(x: Tensor, groups: number, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  checkInput("groupNorm", "x", x);
  if (x.rank < 2) throw new ShapeError(`groupNorm: x must be [N, C, ...], got ${fmtShape(x.shape)}`);
  const [N, C] = x.shape as [number, number];
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0) {
    throw new ShapeError(`groupNorm: ${groups} groups do not divide ${C} channels`);
  }
  for (const [name, t] of [
    ["weight", weight],
    ["bias", bias],
  ] as const) {
    if (!t) continue;
    checkInput("groupNorm", name, t);
    if (t.size !== C) throw new ShapeError(`groupNorm: ${name} has ${t.size} elements, expected ${C}`);
  }
  const spatial = sizeOf(x.shape.slice(2));
  const e = x.engine;
  const out = e.empty(x.shape, "f32");
  if (out.size === 0) return out;
  const params: Param[] = [
    ["groups_total", "u32", N * groups],
    ["G", "u32", groups],
    ["cpg", "u32", C / groups],
    ["spatial", "u32", spatial],
    ["eps", "f32", eps],
  ];
  const dummy = x.binding(0, 4);
  const wt = weight?.dtype ?? "f32";
  const bt = bias?.dtype ?? "f32";
  const WG = ROW_WG;
  e.run({
    name: "group_norm",
    key: `${x.dtype}|${weight ? wt : "-"}|${bias ? bt : "-"}`,
    params,
    inputs: [x.binding(), weight?.binding() ?? dummy, bias?.binding() ?? dummy],
    outputs: [out.binding()],
    workgroups: grid(N * groups),
    wgsl: () => `${enableF16([x.dtype, wt, bt])}${paramsStruct(params)}${storageDecls(
      [
        ["x", x.dtype],
        ["w", wt],
        ["b", bt],
      ],
      [["y", "f32"]],
    )}
${WORKGROUP_REDUCE}
${mainRows("grp", "p.groups_total")}
  let count = p.cpg * p.spatial;
  let base = grp * count;
  let x0 = ${load(x.dtype, "x", "base")};
  var s = 0.0;
  for (var i = l; i < count; i += ${WG}u) { s += ${load(x.dtype, "x", "base + i")} - x0; }
  let mean = x0 + reduce_sum(s, l) / f32(count);
  var q = 0.0;
  for (var i = l; i < count; i += ${WG}u) { let d = ${load(x.dtype, "x", "base + i")} - mean; q += d * d; }
  let rstd = 1.0 / sqrt(reduce_sum(q, l) / f32(count) + p.eps);
  let c0 = (grp % p.G) * p.cpg;
  for (var i = l; i < count; i += ${WG}u) {
    let c = c0 + i / p.spatial;
    y[base + i] = (${load(x.dtype, "x", "base + i")} - mean) * rstd${weight ? ` * ${load(wt, "w", "c")}` : ""}${bias ? ` + ${load(bt, "b", "c")}` : ""};
  }
}`,
  });
  return out;
}
