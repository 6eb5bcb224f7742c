import { ShapeError } from "../errors.js";
import { FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import { fmtShape } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { matmul } from "./matmul/index.js";
import { checkInput, checkRank, load } from "./util.js";

/**
 * FC-CLIP's MaskPooling: binarise mask logits (> 0), normalise each mask by its area + 1e-8, then
 * einsum("bchw,bqhw->bqc"). x [B, C, H, W], masks [B, Q, H, W] (same H, W) → [B, Q, C]. An empty mask pools to 0.
 */
export function maskPooling(x: Tensor, masks: Tensor): Tensor {
  checkInput("maskPooling", "x", x);
  checkInput("maskPooling", "masks", masks);
  checkRank("maskPooling", "x", x, 4);
  checkRank("maskPooling", "masks", masks, 4);
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const [B2, Q, H2, W2] = masks.shape as [number, number, number, number];
  if (B2 !== B || H2 !== H || W2 !== W) {
    throw new ShapeError(
      `maskPooling: masks ${fmtShape(masks.shape)} must be [${B}, Q, ${H}, ${W}] to match x ${fmtShape(x.shape)}`,
    );
  }
  const e = x.engine;
  return e.scope(() => {
    const norm = e.empty([B, Q, H * W], "f32");
    const rows = B * Q;
    const params: Param[] = [
      ["rows", "u32", rows],
      ["hw", "u32", H * W],
    ];
    if (rows > 0) {
      e.run({
        name: "mask_pooling_normalise",
        key: masks.dtype,
        params,
        inputs: [masks.binding()],
        outputs: [norm.binding()],
        workgroups: grid(Math.ceil(rows / WG1D)),
        wgsl: () => `${masks.dtype === "f16" ? "enable f16;\n" : ""}${paramsStruct(params)}${storageDecls([["m", masks.dtype]], [["y", "f32"]])}${FLAT_ID}
${MAIN_1D} {
  let r = flat_id(wid, lid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.hw;
  var area = 0.0;
  for (var j = 0u; j < p.hw; j++) { area += select(0.0, 1.0, ${load(masks.dtype, "m", "base + j")} > 0.0); }
  let denom = area + 1e-8;
  for (var j = 0u; j < p.hw; j++) { y[base + j] = select(0.0, 1.0, ${load(masks.dtype, "m", "base + j")} > 0.0) / denom; }
}`,
      });
    }
    return matmul(norm, x.reshape([B, C, H * W]), { transB: true });
  });
}
