import { ShapeError } from "../errors.js";
import { enableF16, FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import type { Tensor } from "../tensor.js";
import { checkInput, checkRank, load } from "./util.js";

export interface InterpolateOptions {
  size: [number, number];
  mode?: "bilinear" | "nearest";
  alignCorners?: boolean;
}

const f = Math.fround;

/**
 * Per-axis source indices and weights, computed on the CPU in float32 exactly as PyTorch's CPU kernels do (WGSL
 * division is not correctly rounded, and an off-by-one-ulp source coordinate moves samples).
 */
export function axisTable(nIn: number, nOut: number, mode: "bilinear" | "nearest", alignCorners: boolean) {
  const i0 = new Uint32Array(nOut);
  const i1 = new Uint32Array(nOut);
  const lam = new Float32Array(nOut);
  if (mode === "nearest") {
    const scale = f(nIn / nOut);
    for (let o = 0; o < nOut; o++) {
      i0[o] = Math.min(Math.floor(f(o * scale)), nIn - 1);
      i1[o] = i0[o]!;
    }
    return { i0, i1, lam };
  }
  const scale = alignCorners ? (nOut > 1 ? f((nIn - 1) / (nOut - 1)) : 0) : f(nIn / nOut);
  for (let o = 0; o < nOut; o++) {
    let src = alignCorners ? f(scale * o) : f(f(scale * f(o + 0.5)) - 0.5);
    if (src < 0) src = 0;
    const lo = Math.floor(src);
    i0[o] = lo;
    i1[o] = lo < nIn - 1 ? lo + 1 : lo;
    lam[o] = f(src - lo);
  }
  return { i0, i1, lam };
}

/** F.interpolate on NCHW maps: bilinear (align_corners false or true, no antialias) or legacy nearest. */
export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  checkInput("interpolate", "x", x);
  checkRank("interpolate", "x", x, 4);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [Ho, Wo] = opts.size;
  if (![Ho, Wo].every((v) => Number.isInteger(v) && v > 0)) {
    throw new ShapeError(`interpolate: output size must be positive integers, got ${Ho}×${Wo}`);
  }
  const mode = opts.mode ?? "bilinear";
  const ac = opts.alignCorners ?? false;
  if (mode === "nearest" && opts.alignCorners !== undefined) {
    throw new ShapeError("interpolate: alignCorners only applies to bilinear mode (as in PyTorch)");
  }
  const e = x.engine;
  const out = e.empty([N, C, Ho, Wo], "f32");
  const th = axisTable(H, Ho, mode, ac);
  const tw = axisTable(W, Wo, mode, ac);
  e.scope(() => {
    const idx = e.tensor(Uint32Array.from([...th.i0, ...th.i1, ...tw.i0, ...tw.i1]), [2 * Ho + 2 * Wo], "u32");
    const lam = e.tensor(Float32Array.from([...th.lam, ...tw.lam]), [Ho + Wo], "f32");
    const params: Param[] = [
      ["n", "u32", out.size],
      ["H", "u32", H],
      ["W", "u32", W],
      ["Ho", "u32", Ho],
      ["Wo", "u32", Wo],
    ];
    const X = (yy: string, xx: string) => load(x.dtype, "x", `plane + ${yy} * p.W + ${xx}`);
    e.run({
      name: "interpolate",
      key: `${mode}|${x.dtype}`,
      params,
      inputs: [x.binding(), idx.binding(), lam.binding()],
      outputs: [out.binding()],
      workgroups: grid(Math.ceil(out.size / WG1D)),
      wgsl: () => `${enableF16([x.dtype])}${paramsStruct(params)}${storageDecls(
        [
          ["x", x.dtype],
          ["idx", "u32"],
          ["lam", "f32"],
        ],
        [["y", "f32"]],
      )}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.n) { return; }
  let ox = i % p.Wo;
  let oy = (i / p.Wo) % p.Ho;
  let plane = (i / (p.Wo * p.Ho)) * p.H * p.W;
  let y0 = idx[oy];
  let x0 = idx[2u * p.Ho + ox];
${
  mode === "nearest"
    ? `  y[i] = ${X("y0", "x0")};`
    : `  let y1 = idx[p.Ho + oy];
  let x1 = idx[2u * p.Ho + p.Wo + ox];
  let h1l = lam[oy];
  let w1l = lam[p.Ho + ox];
  let h0l = 1.0 - h1l;
  let w0l = 1.0 - w1l;
  y[i] = h0l * (w0l * ${X("y0", "x0")} + w1l * ${X("y0", "x1")}) + h1l * (w0l * ${X("y1", "x0")} + w1l * ${X("y1", "x1")});`
}
}`,
    });
  });
  return out;
}
