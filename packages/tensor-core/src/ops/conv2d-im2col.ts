import { enableF16, FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import type { Tensor } from "../tensor.js";
import type { Activation } from "../wgsl/erf.js";
import { concat } from "./copy.js";
import { matmul } from "./matmul/index.js";
import { load } from "./util.js";

/** Largest im2col slice: the ConvNeXt-L pixel decoder's 3×3 conv at 800×1216 would need 560 MB at once. */
const SLICE_BYTES = 64 * 2 ** 20;

/**
 * A dense convolution (groups = 1) as a matrix product: the weight [Co, Ci·KH·KW] times the im2col matrix
 * [Ci·KH·KW, pixels], so it runs on matmul's fastest kernels (texture-fed on CPU adapters: the 3×3 256→256 conv
 * went from 4.3 to 11–13 GFLOP/s) with bias and activation in its epilogue. Images and pixel ranges are cut so an
 * im2col slice stays under 64 MiB; slices of one image are joined along the pixel axis. Needs Ci·KH·KW % 4 == 0.
 */
export function im2colConv2d(
  x: Tensor,
  w: Tensor,
  opts: {
    bias?: Tensor;
    stride: [number, number];
    padding: [number, number];
    dilation: [number, number];
    activation: Activation;
    outSize: [number, number];
  },
): Tensor {
  const e = x.engine;
  const [N, Ci] = x.shape as [number, number, number, number];
  const [Co, , KH, KW] = w.shape as [number, number, number, number];
  const [Ho, Wo] = opts.outSize;
  const K = Ci * KH * KW;
  const P = Ho * Wo;
  // Whole multiples of 4 pixels keep the slices' rows 16-byte aligned (vec4 loads in the matmul).
  const slice = Math.max(4, Math.min(P, Math.floor(Math.min(SLICE_BYTES, e.maxBindingBytes) / (K * 16)) * 4));
  return e.scope(() => {
    // On CPU adapters matmul reads the weight from its texture, packed on first use and kept with the weight.
    const w2 = w.reshape([Co, K]);
    const images: Tensor[] = [];
    for (let n = 0; n < N; n++) {
      const parts: Tensor[] = [];
      for (let p0 = 0; p0 < P; p0 += slice) {
        const cols = im2col(x, n, p0, Math.min(slice, P - p0), [KH, KW], opts);
        parts.push(matmul(w2, cols, { bias: opts.bias, biasAxis: "m", activation: opts.activation }));
      }
      images.push(parts.length === 1 ? parts[0]! : concat(parts, 1));
    }
    const y =
      images.length === 1
        ? images[0]!
        : concat(
            images.map((t) => t.reshape([1, Co, P])),
            0,
          );
    return y.reshape([N, Co, Ho, Wo]);
  });
}

/**
 * Columns p0..p0+pc of image n's im2col matrix [Ci·KH·KW, Ho·Wo]: row (ci, ky, kx), zero outside the image. One
 * invocation per (ci, pixel) writes that pixel's KH·KW taps, so the pixel's divisions are paid once per KH·KW elements
 * and neighbouring invocations (lavapipe runs them as SIMD lanes) read and write neighbouring addresses. One
 * invocation per element, with four integer divisions each, copied ~20 M elements/s and took a third of a ResNet-50's
 * backbone time; one per run of pixels made lanes scatter.
 */
function im2col(
  x: Tensor,
  n: number,
  p0: number,
  pc: number,
  [KH, KW]: [number, number],
  o: { stride: [number, number]; padding: [number, number]; dilation: [number, number]; outSize: [number, number] },
): Tensor {
  const e = x.engine;
  const [, Ci, H, W] = x.shape as [number, number, number, number];
  const K = Ci * KH * KW;
  const out = e.empty([K, pc], "f32");
  const params: Param[] = [
    ["count", "u32", Ci * pc],
    ["pc", "u32", pc],
    ["p0", "u32", p0],
    ["Wo", "u32", o.outSize[1]],
    ["H", "i32", H],
    ["W", "i32", W],
    ["x_base", "u32", n * Ci * H * W],
    ["sh", "i32", o.stride[0]],
    ["sw", "i32", o.stride[1]],
    ["ph", "i32", o.padding[0]],
    ["pw", "i32", o.padding[1]],
    ["dh", "i32", o.dilation[0]],
    ["dw", "i32", o.dilation[1]],
  ];
  const taps: string[] = [];
  for (let ky = 0; ky < KH; ky++) {
    for (let kx = 0; kx < KW; kx++) {
      taps.push(`  {
    let iy = y0 + ${ky} * p.dh;
    let ix = x0 + ${kx} * p.dw;
    let inside = iy >= 0 && iy < p.H && ix >= 0 && ix < p.W;
    let at = plane + u32(clamp(iy, 0, p.H - 1)) * u32(p.W) + u32(clamp(ix, 0, p.W - 1));
    col[row + ${ky * KW + kx}u * p.pc] = select(0.0, ${load(x.dtype, "x", "at")}, inside);
  }`);
    }
  }
  e.run({
    name: "im2col",
    kind: "copies / permutes",
    key: `${KH}x${KW}|${x.dtype}`,
    label: `${KH}×${KW} ${Ci}×${H}×${W} [${p0}, +${pc})`,
    params,
    inputs: [x.binding()],
    outputs: [out.binding()],
    workgroups: grid(Math.ceil((Ci * pc) / WG1D)),
    wgsl: () => `${enableF16([x.dtype])}${paramsStruct(params)}${storageDecls([["x", x.dtype]], [["col", "f32"]])}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.count) { return; }
  let ci = i / p.pc;
  let q = i % p.pc;
  let pix = p.p0 + q;
  let y0 = i32(pix / p.Wo) * p.sh - p.ph;
  let x0 = i32(pix % p.Wo) * p.sw - p.pw;
  let plane = p.x_base + ci * u32(p.H) * u32(p.W);
  let row = ci * ${KH * KW}u * p.pc + q;
${taps.join("\n")}
}`,
  });
  return out;
}
