import { DTypeError, ShapeError } from "../errors.js";
import { enableF16, FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import { contiguousStrides, fmtShape, normAxis, type Shape, sizeOf } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { coalesce, shapeParams, stridedOffsets } from "./binary.js";
import { checkInput } from "./util.js";

const ANY = ["f32", "f16", "i32", "u32"] as const;

/**
 * The one data-movement kernel: for every index c of `shape`, dst[dstBase + c·dstStrides] = src[srcBase + c·srcStrides].
 * permute, slice, concat and pad are all this with different strides.
 */
export function copyStrided(
  src: Tensor,
  srcBase: number,
  srcStrides: readonly number[],
  dst: Tensor,
  dstBase: number,
  dstStrides: readonly number[],
  shape: Shape,
): void {
  if (src.dtype !== dst.dtype) throw new DTypeError(`copy: ${src.dtype} source into a ${dst.dtype} destination`);
  const n = sizeOf(shape);
  if (n === 0) return;
  const c = coalesce(shape, [[...srcStrides], [...dstStrides]]);
  const params: Param[] = [
    ["n", "u32", n],
    ["src_base", "u32", srcBase],
    ["dst_base", "u32", dstBase],
    ...shapeParams(c.shape, c.strides, ["i", "o"]),
  ];
  const t = src.dtype;
  src.engine.run({
    name: "copy_strided",
    key: `${c.shape.length}|${t}`,
    params,
    inputs: [src.binding()],
    outputs: [dst.binding()],
    workgroups: grid(Math.ceil(n / WG1D)),
    wgsl: () => `${enableF16([t])}${paramsStruct(params)}${storageDecls([["x", t]], [["y", t]])}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.n) { return; }
${stridedOffsets(c.shape.length, ["i", "o"])}
  y[p.dst_base + o_o] = x[p.src_base + o_i];
}`,
  });
}

/** Reorders dimensions: out.shape[d] = x.shape[perm[d]] (torch.permute). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  checkInput("permute", "x", x, ANY);
  if (perm.length !== x.rank || new Set(perm.map((p) => normAxis("permute", p, x.rank))).size !== x.rank) {
    throw new ShapeError(`permute: [${perm.join(", ")}] is not a permutation of ${x.rank} dimensions`);
  }
  const axes = perm.map((p) => normAxis("permute", p, x.rank));
  const inStrides = contiguousStrides(x.shape);
  const shape = axes.map((a) => x.shape[a]!);
  const out = x.engine.empty(shape, x.dtype);
  copyStrided(
    x,
    0,
    axes.map((a) => inStrides[a]!),
    out,
    0,
    contiguousStrides(shape),
    shape,
  );
  return out;
}

export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const perm = x.shape.map((_, i) => i);
  const a = normAxis("transpose", dim0, x.rank);
  const b = normAxis("transpose", dim1, x.rank);
  [perm[a], perm[b]] = [perm[b]!, perm[a]!];
  return permute(x, perm);
}

export interface SliceSpec {
  start?: number;
  end?: number;
  step?: number;
}

/** Python-style slicing per dimension (negative indices count from the end; missing dims are taken whole). */
export function slice(x: Tensor, specs: readonly (SliceSpec | undefined)[]): Tensor {
  checkInput("slice", "x", x, ANY);
  if (specs.length > x.rank) throw new ShapeError(`slice: ${specs.length} slice specs for a rank-${x.rank} tensor`);
  const strides = contiguousStrides(x.shape);
  let base = 0;
  const shape: number[] = [];
  const srcStrides: number[] = [];
  x.shape.forEach((dim, d) => {
    const s = specs[d] ?? {};
    const step = s.step ?? 1;
    if (!Number.isInteger(step) || step < 1)
      throw new ShapeError(`slice: step must be a positive integer, got ${step}`);
    const clampIdx = (v: number) => Math.min(dim, Math.max(0, v < 0 ? v + dim : v));
    const start = clampIdx(s.start ?? 0);
    const end = clampIdx(s.end ?? dim);
    shape.push(Math.max(0, Math.ceil((end - start) / step)));
    srcStrides.push(strides[d]! * step);
    base += start * strides[d]!;
  });
  const out = x.engine.empty(shape, x.dtype);
  copyStrided(x, base, srcStrides, out, 0, contiguousStrides(shape), shape);
  return out;
}

/** Joins tensors along an existing axis (torch.cat). */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0];
  if (!first) throw new ShapeError("concat: needs at least one tensor");
  const ax = normAxis("concat", axis, first.rank);
  for (const [i, t] of xs.entries()) {
    checkInput("concat", `input ${i}`, t, ANY);
    if (t.dtype !== first.dtype) throw new DTypeError(`concat: input ${i} is ${t.dtype}, input 0 is ${first.dtype}`);
    if (t.rank !== first.rank || t.shape.some((d, k) => k !== ax && d !== first.shape[k])) {
      throw new ShapeError(
        `concat: input ${i} has shape ${fmtShape(t.shape)}, incompatible with ${fmtShape(first.shape)} on axis ${ax}`,
      );
    }
  }
  const shape = [...first.shape];
  shape[ax] = xs.reduce((s, t) => s + t.shape[ax]!, 0);
  const out = first.engine.empty(shape, first.dtype);
  const outStrides = contiguousStrides(shape);
  let offset = 0;
  for (const t of xs) {
    copyStrided(t, 0, contiguousStrides(t.shape), out, offset * outStrides[ax]!, outStrides, t.shape);
    offset += t.shape[ax]!;
  }
  return out;
}

/** Constant padding: pads[d] = [before, after] for each leading... dimension (missing dims unpadded). */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  checkInput("pad", "x", x, ANY);
  if (pads.length > x.rank) throw new ShapeError(`pad: ${pads.length} pad pairs for a rank-${x.rank} tensor`);
  const pp = x.shape.map((_, d) => pads[d] ?? ([0, 0] as const));
  if (pp.some(([a, b]) => !Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0)) {
    throw new ShapeError("pad: padding amounts must be non-negative integers");
  }
  const shape = x.shape.map((d, i) => d + pp[i]![0] + pp[i]![1]);
  const out = fill(x.engine, shape, value, x.dtype);
  const outStrides = contiguousStrides(shape);
  const base = pp.reduce((s, [before], d) => s + before * outStrides[d]!, 0);
  copyStrided(x, 0, contiguousStrides(x.shape), out, base, outStrides, x.shape);
  return out;
}

/** A tensor filled with one value. */
export function fill(engine: Tensor["engine"], shape: Shape, value: number, dtype: Tensor["dtype"] = "f32"): Tensor {
  if (value === 0) return engine.zeros(shape, dtype);
  const out = engine.empty(shape, dtype);
  const n = sizeOf(shape);
  if (n === 0) return out;
  const vtype = dtype === "i32" ? "i32" : dtype === "u32" ? "u32" : "f32";
  const params: Param[] = [
    ["n", "u32", n],
    ["v", vtype, value],
  ];
  engine.run({
    name: "fill",
    key: dtype,
    params,
    inputs: [],
    outputs: [out.binding()],
    workgroups: grid(Math.ceil(n / WG1D)),
    wgsl: () => `${enableF16([dtype])}${paramsStruct(params)}${storageDecls([], [["y", dtype]])}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.n) { return; }
  y[i] = ${dtype}(p.v);
}`,
  });
  return out;
}

/** Converts between dtypes (f32 ↔ f16, integers → f32, f32 → i32 truncating like torch). */
export function cast(x: Tensor, dtype: Tensor["dtype"]): Tensor {
  checkInput("cast", "x", x, ANY);
  const e = x.engine;
  const out = e.empty(x.shape, dtype);
  if (x.size === 0) return out;
  const params: Param[] = [["n", "u32", x.size]];
  e.run({
    name: "cast",
    key: `${x.dtype}>${dtype}`,
    params,
    inputs: [x.binding()],
    outputs: [out.binding()],
    workgroups: grid(Math.ceil(x.size / WG1D)),
    wgsl: () => `${enableF16([x.dtype, dtype])}${paramsStruct(params)}${storageDecls([["x", x.dtype]], [["y", dtype]])}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.n) { return; }
  y[i] = ${dtype}(x[i]);
}`,
  });
  return out;
}
