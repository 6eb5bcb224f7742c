import { DTYPE_BYTES } from "../dtype.js";
import { enableF16, FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import type { Tensor } from "../tensor.js";
import { ERF_WGSL, QUICK_GELU_WGSL } from "../wgsl/erf.js";
import { EXP_WGSL } from "../wgsl/exp.js";
import { checkInput, load, offsetAlignElements, store } from "./util.js";

export type UnaryOp =
  | "relu"
  | "gelu"
  | "quick_gelu"
  | "sigmoid"
  | "exp"
  | "log"
  | "neg"
  | "abs"
  | "sqrt"
  | "square"
  | "tanh"
  | "affine";

const EXPR: Record<UnaryOp, (v: string) => string> = {
  relu: (v) => `max(${v}, 0.0)`,
  gelu: (v) => `gelu_f32(${v})`,
  quick_gelu: (v) => `quick_gelu_f32(${v})`,
  sigmoid: (v) => `sigmoid_f32(${v})`,
  exp: (v) => `exp_f32(${v})`,
  log: (v) => `log(${v})`,
  neg: (v) => `-${v}`,
  abs: (v) => `abs(${v})`,
  sqrt: (v) => `sqrt(${v})`,
  square: (v) => `${v} * ${v}`,
  tanh: (v) => `tanh(${v})`,
  affine: (v) => `${v} * p.scale + p.shift`,
};

/**
 * Elementwise y = f(x), computed in f32 and stored in x's dtype. Tensors over the binding limit are processed in
 * windows, so a 152 MB embedding table still works. `affine` is x·scale + shift.
 */
export function unary(x: Tensor, op: UnaryOp, opts: { scale?: number; shift?: number } = {}): Tensor {
  checkInput(op, "x", x);
  const e = x.engine;
  const out = e.empty(x.shape, x.dtype);
  const bytes = DTYPE_BYTES[x.dtype];
  const align = offsetAlignElements(e.limits, bytes);
  const chunk = Math.max(align, Math.floor(e.maxBindingBytes / bytes / align) * align);
  for (let start = 0; start < x.size; start += chunk) {
    const n = Math.min(chunk, x.size - start);
    const params: Param[] = [["n", "u32", n]];
    if (op === "affine") params.push(["scale", "f32", opts.scale ?? 1], ["shift", "f32", opts.shift ?? 0]);
    e.run({
      name: `unary_${op}`,
      key: x.dtype,
      params,
      inputs: [x.binding(start * bytes, n * bytes)],
      outputs: [out.binding(start * bytes, n * bytes)],
      workgroups: grid(Math.ceil(n / WG1D)),
      wgsl: () => `${enableF16([x.dtype])}${paramsStruct(params)}${storageDecls([["x", x.dtype]], [["y", x.dtype]])}
${op === "gelu" ? ERF_WGSL : op === "quick_gelu" ? QUICK_GELU_WGSL : op === "sigmoid" || op === "exp" ? EXP_WGSL : ""}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.n) { return; }
  let v = ${load(x.dtype, "x", "i")};
  y[i] = ${store(x.dtype, EXPR[op]("v"))};
}`,
    });
  }
  return out;
}

export const relu = (x: Tensor) => unary(x, "relu");
export const gelu = (x: Tensor) => unary(x, "gelu");
export const sigmoid = (x: Tensor) => unary(x, "sigmoid");
export const affine = (x: Tensor, scale: number, shift = 0) => unary(x, "affine", { scale, shift });
