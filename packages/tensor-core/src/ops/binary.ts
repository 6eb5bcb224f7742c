import { DTYPE_BYTES, type DType } from "../dtype.js";
import { DTypeError } from "../errors.js";
import { enableF16, FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import { broadcastShapes, broadcastStrides, type Shape, sizeOf } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { checkInput, load, offsetAlignElements, sameShape, store } from "./util.js";

export type BinaryOp = "add" | "sub" | "mul" | "div" | "max" | "min" | "pow";

const EXPR: Record<BinaryOp, (a: string, b: string) => string> = {
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  div: (a, b) => `${a} / ${b}`,
  max: (a, b) => `max(${a}, ${b})`,
  min: (a, b) => `min(${a}, ${b})`,
  pow: (a, b) => `pow(${a}, ${b})`,
};

/**
 * Merges adjacent dimensions that both operands walk contiguously (or both broadcast), so most broadcasts run as
 * rank 1–3 index arithmetic.
 */
export function coalesce(shape: Shape, stridesList: number[][]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = stridesList.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && stridesList.every((s, k) => outStrides[k]![last] === s[d]! * n)) {
      outShape[last] = outShape[last]! * n;
      stridesList.forEach((s, k) => {
        outStrides[k]![last] = s[d]!;
      });
      continue;
    }
    outShape.push(n);
    stridesList.forEach((s, k) => {
      outStrides[k]!.push(s[d]!);
    });
  }
  return { shape: outShape, strides: outStrides };
}

/** WGSL that decomposes flat index `i` over `shape` (uniforms p.s0..) into offsets for each operand (p.<name>0..). */
export function stridedOffsets(rank: number, names: readonly string[]): string {
  let s = `  var rem = i;\n${names.map((n) => `  var o_${n} = 0u;`).join("\n")}\n`;
  for (let d = rank - 1; d >= 0; d--) {
    s += `  { let c = rem % p.s${d}; rem = rem / p.s${d};${names.map((n) => ` o_${n} += c * p.${n}${d};`).join("")} }\n`;
  }
  return s;
}

export function shapeParams(shape: Shape, strides: number[][], names: readonly string[]): Param[] {
  const params: Param[] = shape.map((n, d) => [`s${d}`, "u32", n] as Param);
  names.forEach((name, k) => {
    shape.forEach((_, d) => {
      params.push([`${name}${d}`, "u32", strides[k]![d]!]);
    });
  });
  return params;
}

/** Elementwise a ∘ b with NumPy broadcasting. f16 operands are computed in f32; the result is f16 only if both are. */
export function binary(a: Tensor, b: Tensor, op: BinaryOp): Tensor {
  checkInput(op, "a", a);
  checkInput(op, "b", b);
  const e = a.engine;
  if (b.engine !== e) throw new DTypeError(`${op}: operands belong to different engines`);
  const outShape = broadcastShapes(op, a.shape, b.shape);
  const outDtype: DType = a.dtype === "f16" && b.dtype === "f16" ? "f16" : "f32";
  const out = e.empty(outShape, outDtype);
  const n = sizeOf(outShape);
  if (n === 0) return out;
  const f16 = enableF16([a.dtype, b.dtype, outDtype]);
  const body = (ia: string, ib: string) =>
    `y[i] = ${store(outDtype, EXPR[op](load(a.dtype, "a", ia), load(b.dtype, "b", ib)))};`;
  const decls = storageDecls(
    [
      ["a", a.dtype],
      ["b", b.dtype],
    ],
    [["y", outDtype]],
  );

  if (sameShape(a.shape, b.shape) && a.dtype === b.dtype && a.dtype === outDtype) {
    // Same shape: a flat loop, split into binding-sized windows for tensors over the limit.
    const bytes = DTYPE_BYTES[outDtype];
    const align = offsetAlignElements(e.limits, bytes);
    const chunk = Math.max(align, Math.floor(e.maxBindingBytes / bytes / align) * align);
    for (let start = 0; start < n; start += chunk) {
      const m = Math.min(chunk, n - start);
      const params: Param[] = [["n", "u32", m]];
      e.run({
        name: `binary_${op}`,
        key: `flat|${a.dtype}`,
        params,
        inputs: [a.binding(start * bytes, m * bytes), b.binding(start * bytes, m * bytes)],
        outputs: [out.binding(start * bytes, m * bytes)],
        workgroups: grid(Math.ceil(m / WG1D)),
        wgsl: () => `${f16}${paramsStruct(params)}${decls}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.n) { return; }
  ${body("i", "i")}
}`,
      });
    }
    return out;
  }

  const { shape, strides } = coalesce(outShape, [
    broadcastStrides(a.shape, outShape),
    broadcastStrides(b.shape, outShape),
  ]);
  const params: Param[] = [["n", "u32", n], ...shapeParams(shape, strides, ["a", "b"])];
  e.run({
    name: `binary_${op}`,
    key: `bcast${shape.length}|${a.dtype}|${b.dtype}`,
    params,
    inputs: [a.binding(), b.binding()],
    outputs: [out.binding()],
    workgroups: grid(Math.ceil(n / WG1D)),
    wgsl: () => `${f16}${paramsStruct(params)}${decls}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.n) { return; }
${stridedOffsets(shape.length, ["a", "b"])}
  ${body("o_a", "o_b")}
}`,
  });
  return out;
}

export const add = (a: Tensor, b: Tensor) => binary(a, b, "add");
export const sub = (a: Tensor, b: Tensor) => binary(a, b, "sub");
export const mul = (a: Tensor, b: Tensor) => binary(a, b, "mul");
export const div = (a: Tensor, b: Tensor) => binary(a, b, "div");
export const maximum = (a: Tensor, b: Tensor) => binary(a, b, "max");
export const minimum = (a: Tensor, b: Tensor) => binary(a, b, "min");
export const pow = (a: Tensor, b: Tensor) => binary(a, b, "pow");
