import { ShapeError } from "../errors.js";
import { FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import { fmtShape } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { checkInput, checkRank } from "./util.js";

/**
 * 1[x > 0] of the selected rows of logits x [Q, P] (`rows` [n], u32 indices into Q) as bits, 32 columns per u32 word,
 * column c in bit c % 32 of word c / 32 → u32 [n, P/32]: MaskFormer's binary instance masks (`mask_pred > 0`) at
 * 1/32 of the bytes to read back. P must be a multiple of 32. Row indices live on the GPU and are not range-checked:
 * each must be < Q.
 */
export function packPositiveBits(x: Tensor, rows: Tensor): Tensor {
  const op = "packPositiveBits";
  checkInput(op, "x", x, ["f32"]);
  checkRank(op, "x", x, 2);
  checkInput(op, "rows", rows, ["u32"]);
  checkRank(op, "rows", rows, 1);
  const P = x.shape[1]!;
  if (P % 32 !== 0) {
    throw new ShapeError(
      `${op}: x ${fmtShape(x.shape)} must have a multiple of 32 columns (32 bits per word), got ${P}`,
    );
  }
  const words = P / 32;
  const n = rows.size;
  const e = x.engine;
  const out = e.empty([n, words], "u32");
  if (out.size === 0) return out;
  const params: Param[] = [
    ["P", "u32", P],
    ["words", "u32", words],
    ["total", "u32", n * words],
  ];
  e.run({
    name: "pack_positive_bits",
    key: "f32",
    params,
    inputs: [x.binding(), rows.binding()],
    outputs: [out.binding()],
    workgroups: grid(Math.ceil((n * words) / WG1D)),
    wgsl: () => `${paramsStruct(params)}${storageDecls(
      [
        ["m", "f32"],
        ["qs", "u32"],
      ],
      [["y", "u32"]],
    )}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.total) { return; }
  let row = qs[i / p.words] * p.P + (i % p.words) * 32u;
  var bits = 0u;
  for (var b = 0u; b < 32u; b++) { if (m[row + b] > 0.0) { bits |= 1u << b; } }
  y[i] = bits;
}`,
  });
  return out;
}
