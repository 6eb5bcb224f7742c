import { ShapeError } from "../errors.js";
import { FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import { fmtShape } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { EXP_WGSL } from "../wgsl/exp.js";
import { axisTable } from "./interpolate.js";
import { checkInput, checkRank } from "./util.js";

/**
 * The sizes (rows, columns) of resizeCropResize's steps: the input grid `low` → bilinear to `padded` → crop the
 * top-left `cropped` → bilinear to `original`. Named after FC-CLIP's mask logits (FCCLIP-SPEC §6.6, §7.1–7.2; its
 * `MaskGeometry`): 1/4-resolution logits, the padded network input, the resized image inside it, the original image.
 */
export interface ResizeCropGeometry {
  low: [number, number];
  padded: [number, number];
  cropped: [number, number];
  original: [number, number];
}

/** Per-axis tables: for each final index, two taps into the padded grid, each with two taps into the low grid. */
function composite(
  nLow: number,
  nPadded: number,
  nCropped: number,
  nOut: number,
): { idx: Uint32Array; lam: Float32Array } {
  const second = axisTable(nCropped, nOut, "bilinear", false);
  const first = axisTable(nLow, nPadded, "bilinear", false);
  const idx = new Uint32Array(nOut * 6);
  const lam = new Float32Array(nOut * 3);
  for (let o = 0; o < nOut; o++) {
    const a = second.i0[o]!;
    const b = second.i1[o]!;
    idx.set([first.i0[a]!, first.i1[a]!, first.i0[b]!, first.i1[b]!, a, b], o * 6);
    lam.set([second.lam[o]!, first.lam[a]!, first.lam[b]!], o * 3);
  }
  return { idx, lam };
}

function checkGeometry(op: string, geo: ResizeCropGeometry): void {
  for (const step of ["low", "padded", "cropped", "original"] as const) {
    const size = geo[step];
    if (size?.length !== 2 || !size.every((d) => Number.isInteger(d) && d > 0)) {
      throw new ShapeError(`${op}: geometry.${step} must be two positive integers (rows, columns), got ${size}`);
    }
  }
  if (geo.cropped[0] > geo.padded[0] || geo.cropped[1] > geo.padded[1]) {
    throw new ShapeError(`${op}: the crop ${fmtShape(geo.cropped)} must fit in the resized ${fmtShape(geo.padded)}`);
  }
}

/**
 * F.interpolate(bilinear, align_corners=False) of every channel of x [C, h, w] to `padded`, cropped to the top-left
 * `cropped`, and interpolated again to `original`, for the output pixels [p0, p0 + count) in row-major order
 * → [C, count]. Computed on the fly in the same float32 order as the two F.interpolate calls, so no [C, H, W] map is
 * materialised (FC-CLIP's final mask logits at 800×1216 with 250 queries would be ~1 GB). Pixels past the last one
 * (a chunk padded to a multiple of 32) repeat it.
 *
 * `sigmoidBetween` applies a sigmoid at the `padded` resolution, before the crop and second resize. For FC-CLIP's
 * semantic path when the maps are resized after inference (SEM_SEG_POSTPROCESSING_BEFORE_INFERENCE False): resizing
 * is linear, so Σ_q p_q·resize(σ(m_q)) = resize(Σ_q p_q·σ(m_q)), and the class map is resized without ever
 * materialising [K, H, W].
 */
export function resizeCropResize(
  x: Tensor,
  geo: ResizeCropGeometry,
  p0: number,
  count: number,
  sigmoidBetween = false,
): Tensor {
  const op = "resizeCropResize";
  checkInput(op, "x", x, ["f32"]);
  checkRank(op, "x", x, 3);
  checkGeometry(op, geo);
  const [C, h4, w4] = x.shape as [number, number, number];
  if (h4 !== geo.low[0] || w4 !== geo.low[1]) {
    throw new ShapeError(`${op}: x ${fmtShape(x.shape)} must be [C, ${geo.low.join(", ")}] (geometry.low)`);
  }
  const [Ho, Wo] = geo.original;
  if (!Number.isInteger(p0) || p0 < 0 || p0 >= Ho * Wo) {
    throw new ShapeError(`${op}: p0 must be an output pixel index in [0, ${Ho * Wo}) (${Ho}×${Wo}), got ${p0}`);
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new ShapeError(`${op}: count must be a non-negative integer, got ${count}`);
  }
  const e = x.engine;
  if (C === 0 || count === 0) return e.empty([C, count]);
  const ty = composite(geo.low[0], geo.padded[0], geo.cropped[0], Ho);
  const tx = composite(geo.low[1], geo.padded[1], geo.cropped[1], Wo);
  const act = (v: string) => (sigmoidBetween ? `sigmoid_f32(${v})` : v);
  return e.scope(() => {
    const idx = e.tensor(Uint32Array.from([...ty.idx, ...tx.idx]), [ty.idx.length + tx.idx.length], "u32");
    const lam = e.tensor(Float32Array.from([...ty.lam, ...tx.lam]), [ty.lam.length + tx.lam.length]);
    const out = e.empty([C, count]);
    const params: Param[] = [
      ["n", "u32", C * count],
      ["count", "u32", count],
      ["p0", "u32", p0],
      ["Wo", "u32", Wo],
      ["Ho", "u32", Ho],
      ["h4", "u32", h4],
      ["w4", "u32", w4],
    ];
    e.run({
      name: "resize_crop_resize",
      key: sigmoidBetween ? "sigmoid-between" : "linear",
      params,
      inputs: [x.binding(), idx.binding(), lam.binding()],
      outputs: [out.binding()],
      workgroups: grid(Math.ceil((C * count) / WG1D)),
      wgsl: () => `${paramsStruct(params)}${storageDecls(
        [
          ["m", "f32"],
          ["idx", "u32"],
          ["lam", "f32"],
        ],
        [["y", "f32"]],
      )}${sigmoidBetween ? EXP_WGSL : ""}${FLAT_ID}
// First resize (low → padded) at padded row r (taps r0, r1, weight lr) and column c (c0, c1, lc).
fn first(plane: u32, r0: u32, r1: u32, lr: f32, c0: u32, c1: u32, lc: f32) -> f32 {
  let h1 = lr; let h0 = 1.0 - lr; let w1 = lc; let w0 = 1.0 - lc;
  return h0 * (w0 * m[plane + r0 * p.w4 + c0] + w1 * m[plane + r0 * p.w4 + c1]) + h1 * (w0 * m[plane + r1 * p.w4 + c0] + w1 * m[plane + r1 * p.w4 + c1]);
}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.n) { return; }
  let q = i / p.count;
  let pix = min(p.p0 + i % p.count, p.Ho * p.Wo - 1u);
  let oy = pix / p.Wo;
  let ox = pix % p.Wo;
  let plane = q * p.h4 * p.w4;
  let ybase = oy * 6u;
  let xbase = p.Ho * 6u + ox * 6u;
  let lyb = oy * 3u;
  let lxb = p.Ho * 3u + ox * 3u;
  let ly = lam[lyb]; let lx = lam[lxb];
  // Second resize (cropped → original) over values of the first resize at padded rows a, b and columns a, b.
  let vaa = first(plane, idx[ybase], idx[ybase + 1u], lam[lyb + 1u], idx[xbase], idx[xbase + 1u], lam[lxb + 1u]);
  let vab = first(plane, idx[ybase], idx[ybase + 1u], lam[lyb + 1u], idx[xbase + 2u], idx[xbase + 3u], lam[lxb + 2u]);
  let vba = first(plane, idx[ybase + 2u], idx[ybase + 3u], lam[lyb + 2u], idx[xbase], idx[xbase + 1u], lam[lxb + 1u]);
  let vbb = first(plane, idx[ybase + 2u], idx[ybase + 3u], lam[lyb + 2u], idx[xbase + 2u], idx[xbase + 3u], lam[lxb + 2u]);
  let h1 = ly; let h0 = 1.0 - ly; let w1 = lx; let w0 = 1.0 - lx;
  y[i] = h0 * (w0 * ${act("vaa")} + w1 * ${act("vab")}) + h1 * (w0 * ${act("vba")} + w1 * ${act("vbb")});
}`,
    });
    return out;
  });
}
