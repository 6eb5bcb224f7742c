import type { DType } from "../../dtype.js";
import { enableF16, type Param, paramsStruct, storageDecls } from "../../kernel.js";
import { sizeOf } from "../../shape.js";
import { MatmulEpilogue } from "./epilogue.js";
import type { TileCall } from "./geometry.js";

/**
 * What the storage-buffer kernels (CPU registers, GPU tiles) share: the uniform parameters (tile, strides, windows,
 * batch strides), the bindings, the WGSL header (with `a` and `b` as vec4 arrays when `vec4`), the batch offsets
 * `oa`, `ob`, `oc`, the epilogue, and the compile-time inputs all of that depends on (`spec`, for the cache key).
 */
export function storageProgram({ a, b, o, g, t }: TileCall, vec4 = false) {
  const { K, N, M } = g;
  const [bShape, sa, sb, sc] = g.batchStrides as [number[], number[], number[], number[]];
  const ep = new MatmulEpilogue(o, t.biasAxis, t.rw?.binding, !!t.accumulate, t.last !== false);
  // Element strides of A(m, k) and B(k, n) in their storage.
  const [sam, sak] = o.transA ? [1, M] : [K, 1];
  const [sbk, sbn] = o.transB ? [1, K] : [N, 1];
  const batch = sizeOf(bShape);
  const params: Param[] = [
    ["M", "u32", t.mc],
    ["N", "u32", t.nc],
    ["K", "u32", t.kc ?? K],
    ["sam", "u32", sam],
    ["sak", "u32", sak],
    ["sbk", "u32", sbk],
    ["sbn", "u32", sbn],
    ["ldc", "u32", N],
    ["a_base", "u32", t.aw.base],
    ["b_base", "u32", t.bw.base],
    ["c_base", "u32", t.cw.base],
    ["bias_base", "u32", t.biasAxis === "n" ? t.n0 : t.m0],
    ["alpha", "f32", o.alpha ?? 1],
    ...bShape.flatMap((n, d): Param[] => [
      [`bs${d}`, "u32", n],
      [`ba${d}`, "u32", sa[d]!],
      [`bb${d}`, "u32", sb[d]!],
      [`bc${d}`, "u32", sc[d]!],
    ]),
  ];
  const inputs = [t.aw.binding, t.bw.binding, ...ep.bindings.map((x) => x.binding)];
  const decls: [string, string][] = [
    ["a", vec4 ? `vec4<${a.dtype}>` : a.dtype],
    ["b", vec4 ? `vec4<${b.dtype}>` : b.dtype],
    ...ep.bindings.map((x): [string, string] => [x.name, x.type]),
  ];
  let batchCode = "  var rem = batch;\n  var oa = p.a_base;\n  var ob = p.b_base;\n  var oc = p.c_base;\n";
  for (let d = bShape.length - 1; d >= 0; d--) {
    batchCode += `  { let c = rem % p.bs${d}; rem = rem / p.bs${d}; oa += c * p.ba${d}; ob += c * p.bb${d}; oc += c * p.bc${d}; }\n`;
  }
  const header = `${enableF16([a.dtype, b.dtype, ...(ep.dtypes as DType[])])}${paramsStruct(params)}${storageDecls(decls, [["c", "f32"]])}${ep.prelude}`;
  const spec = { a: a.dtype, b: b.dtype, epilogue: ep.key, batchDims: bShape.length };
  return { params, inputs, header, spec, batchCode, batch, ep };
}
