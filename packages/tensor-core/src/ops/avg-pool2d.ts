import { DTYPE_BYTES } from "../dtype.js";
import { ShapeError } from "../errors.js";
import { enableF16, FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import { fmtShape } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { checkInput, checkRank, elementWindow, load, store } from "./util.js";

/**
 * torch.nn.AvgPool2d(k) on NCHW input: kernel = stride = k, no padding, floor mode, so trailing rows and columns
 * that do not fill a window are dropped. The sum runs in f32 in row-major window order and is divided by k², as
 * PyTorch's CPU kernel does. Maps over the binding limit are pooled in windows of whole channel planes.
 */
export function avgPool2d(x: Tensor, kernel: number): Tensor {
  checkInput("avgPool2d", "x", x);
  checkRank("avgPool2d", "x", x, 4);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (!Number.isInteger(kernel) || kernel < 1) {
    throw new ShapeError(`avgPool2d: kernel must be a positive integer, got ${kernel}`);
  }
  const Ho = Math.floor(H / kernel);
  const Wo = Math.floor(W / kernel);
  if (Ho < 1 || Wo < 1) {
    throw new ShapeError(`avgPool2d: x ${fmtShape(x.shape)} is smaller than the ${kernel}×${kernel} window`);
  }
  const e = x.engine;
  const out = e.empty([N, C, Ho, Wo], x.dtype);
  const bytes = DTYPE_BYTES[x.dtype];
  const planes = N * C;
  const inPlane = H * W;
  const outPlane = Ho * Wo;
  const alignBytes = e.limits.minStorageBufferOffsetAlignment;
  // A window's bindings start at the aligned offsets below its first planes; base_x and base_y skip the gap.
  const perWindow = Math.floor((e.maxBindingBytes - alignBytes) / (inPlane * bytes));
  if (perWindow < 1) {
    throw new ShapeError(`avgPool2d: one ${H}×${W} plane is over the ${e.maxBindingBytes}-byte binding limit`);
  }
  for (let p0 = 0; p0 < planes; p0 += perWindow) {
    const count = Math.min(perWindow, planes - p0);
    const n = count * outPlane;
    const xin = elementWindow(x, p0 * inPlane, count * inPlane);
    const yout = elementWindow(out, p0 * outPlane, n);
    const params: Param[] = [
      ["n", "u32", n],
      ["h", "u32", H],
      ["w", "u32", W],
      ["wo", "u32", Wo],
      ["k", "u32", kernel],
      ["out_plane", "u32", outPlane],
      ["base_x", "u32", xin.base],
      ["base_y", "u32", yout.base],
    ];
    e.run({
      name: "avg_pool2d",
      key: x.dtype,
      params,
      inputs: [xin.binding],
      outputs: [yout.binding],
      workgroups: grid(Math.ceil(n / WG1D)),
      wgsl: () => `${enableF16([x.dtype])}${paramsStruct(params)}${storageDecls([["x", x.dtype]], [["y", x.dtype]])}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.n) { return; }
  let plane = i / p.out_plane;
  let r = i % p.out_plane;
  let oy = r / p.wo;
  let ox = r % p.wo;
  var acc = 0.0;
  for (var dy = 0u; dy < p.k; dy++) {
    let row = p.base_x + plane * p.h * p.w + (oy * p.k + dy) * p.w + ox * p.k;
    for (var dx = 0u; dx < p.k; dx++) { acc += ${load(x.dtype, "x", "row + dx")}; }
  }
  y[p.base_y + i] = ${store(x.dtype, "acc / f32(p.k * p.k)")};
}`,
    });
  }
  return out;
}
