import { ShapeError } from "../errors.js";
import { enableF16, FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import { normAxis, sizeOf } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { checkInput, load } from "./util.js";

export type ReduceOp = "sum" | "mean" | "max" | "min" | "argmax";

/**
 * Reduces one axis, or several adjacent axes (e.g. [-2, -1] for a spatial sum). argmax returns i32 indices and breaks
 * ties towards the lowest index, like PyTorch.
 */
export function reduce(x: Tensor, op: ReduceOp, axes: number | readonly number[], keepDims = false): Tensor {
  checkInput(op, "x", x);
  const list = (typeof axes === "number" ? [axes] : [...axes])
    .map((a) => normAxis(op, a, x.rank))
    .sort((a, b) => a - b);
  if (list.length === 0 || list.some((a, i) => i > 0 && a !== list[i - 1]! + 1)) {
    throw new ShapeError(`${op}: axes [${list.join(", ")}] must be one axis or adjacent axes`);
  }
  const first = list[0]!;
  const last = list[list.length - 1]!;
  const R = sizeOf(x.shape.slice(first, last + 1));
  if (R === 0 && (op === "max" || op === "min" || op === "argmax"))
    throw new ShapeError(`${op}: cannot reduce an empty axis`);
  const outer = sizeOf(x.shape.slice(0, first));
  const inner = sizeOf(x.shape.slice(last + 1));
  const shape = keepDims
    ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d))
    : [...x.shape.slice(0, first), ...x.shape.slice(last + 1)];
  const e = x.engine;
  const outDtype = op === "argmax" ? "i32" : "f32";
  const out = e.empty(shape, outDtype);
  const n = outer * inner;
  if (n === 0) return out;
  const params: Param[] = [
    ["n", "u32", n],
    ["R", "u32", R],
    ["inner", "u32", inner],
  ];
  const v = load(x.dtype, "x", "base + r * p.inner");
  const body: Record<ReduceOp, string> = {
    sum: `var acc = 0.0;\n  for (var r = 0u; r < p.R; r++) { acc += ${v}; }\n  y[i] = acc;`,
    mean: `var acc = 0.0;\n  for (var r = 0u; r < p.R; r++) { acc += ${v}; }\n  y[i] = acc / f32(p.R);`,
    max: `var acc = ${load(x.dtype, "x", "base")};\n  for (var r = 1u; r < p.R; r++) { acc = max(acc, ${v}); }\n  y[i] = acc;`,
    min: `var acc = ${load(x.dtype, "x", "base")};\n  for (var r = 1u; r < p.R; r++) { acc = min(acc, ${v}); }\n  y[i] = acc;`,
    argmax: `var best = ${load(x.dtype, "x", "base")};\n  var at = 0u;\n  for (var r = 1u; r < p.R; r++) { let c = ${v}; if (c > best) { best = c; at = r; } }\n  y[i] = i32(at);`,
  };
  e.run({
    name: `reduce_${op}`,
    key: x.dtype,
    params,
    inputs: [x.binding()],
    outputs: [out.binding()],
    workgroups: grid(Math.ceil(n / WG1D)),
    wgsl: () => `${enableF16([x.dtype])}${paramsStruct(params)}${storageDecls([["x", x.dtype]], [["y", outDtype]])}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.n) { return; }
  let base = (i / p.inner) * p.R * p.inner + i % p.inner;
  ${body[op]}
}`,
  });
  return out;
}

export const sum = (x: Tensor, axes: number | number[], keepDims = false) => reduce(x, "sum", axes, keepDims);
export const mean = (x: Tensor, axes: number | number[], keepDims = false) => reduce(x, "mean", axes, keepDims);
export const max = (x: Tensor, axes: number | number[], keepDims = false) => reduce(x, "max", axes, keepDims);
export const argmax = (x: Tensor, axis: number, keepDims = false) => reduce(x, "argmax", axis, keepDims);

/**
 * The k largest entries of the last axis, sorted descending; equal values keep ascending index order.
 * Returns values (f32) and indices (i32).
 */
export function topk(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  checkInput("topk", "x", x);
  if (x.rank < 1) throw new ShapeError("topk: x must have rank >= 1");
  const C = x.shape[x.rank - 1]!;
  if (!Number.isInteger(k) || k < 0 || k > C) throw new ShapeError(`topk: k=${k} must be an integer in [0, ${C}]`);
  const e = x.engine;
  const shape = [...x.shape.slice(0, -1), k];
  const values = e.empty(shape, "f32");
  const indices = e.empty(shape, "i32");
  const rows = sizeOf(x.shape.slice(0, -1));
  if (rows === 0 || k === 0) return { values, indices };
  const params: Param[] = [
    ["rows", "u32", rows],
    ["C", "u32", C],
    ["k", "u32", k],
  ];
  const X = load(x.dtype, "x", "base + c");
  e.run({
    name: "topk",
    key: x.dtype,
    params,
    inputs: [x.binding()],
    outputs: [values.binding(), indices.binding()],
    workgroups: grid(Math.ceil(rows / WG1D)),
    wgsl: () => `${enableF16([x.dtype])}${paramsStruct(params)}${storageDecls(
      [["x", x.dtype]],
      [
        ["vals", "f32"],
        ["idxs", "i32"],
      ],
    )}${FLAT_ID}
${MAIN_1D} {
  let row = flat_id(wid, lid, nwg);
  if (row >= p.rows) { return; }
  let base = row * p.C;
  // Selection by the total order (value desc, index asc): each round takes the best entry after the previous one.
  var pv = 0.0;
  var pi = -1;
  for (var j = 0u; j < p.k; j++) {
    var bv = 0.0;
    var bi = -1;
    for (var c = 0u; c < p.C; c++) {
      let v = ${X};
      let ci = i32(c);
      let after = pi < 0 || v < pv || (v == pv && ci > pi);
      if (after && (bi < 0 || v > bv)) { bv = v; bi = ci; }
    }
    vals[row * p.k + j] = bv;
    idxs[row * p.k + j] = bi;
    pv = bv;
    pi = bi;
  }
}`,
  });
  return { values, indices };
}
