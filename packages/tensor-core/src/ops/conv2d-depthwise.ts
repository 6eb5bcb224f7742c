import { enableF16, FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import type { Tensor } from "../tensor.js";
import { type Activation, activationPrelude, activationWgsl } from "../wgsl/erf.js";
import { load } from "./util.js";

/** Output rows and columns per invocation. */
const TY = 4;
const TX = 8;

/**
 * Depthwise convolution with stride 1 and no dilation (ConvNeXt's 7×7): each invocation owns a TY×TX block of one
 * channel and slides over the TY+KH-1 input rows it needs, loading each row segment (TX+KW-1 values) once and
 * using it for every output row and tap it touches. That is ~6× fewer (divergent) loads than one load per tap,
 * which is what bounds this op on CPU adapters. Invocations run over (image·channel, row block, column block), so
 * narrow maps (stage 4 is 38 wide at 800×1216) waste no lanes. The 49 weights of a channel are held in registers.
 */
export function depthwiseConv2d(
  x: Tensor,
  w: Tensor,
  out: Tensor,
  opts: { bias?: Tensor; padding: [number, number]; activation: Activation },
): void {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [, , KH, KW] = w.shape as [number, number, number, number];
  const [, , Ho, Wo] = out.shape as [number, number, number, number];
  const [ph, pw] = opts.padding;
  const xBlocks = Math.ceil(Wo / TX);
  const yBlocks = Math.ceil(Ho / TY);
  const count = N * C * yBlocks * xBlocks;
  const params: Param[] = [
    ["C", "u32", C],
    ["H", "i32", H],
    ["W", "i32", W],
    ["Ho", "u32", Ho],
    ["Wo", "u32", Wo],
    ["ph", "i32", ph],
    ["pw", "i32", pw],
    ["xblocks", "u32", xBlocks],
    ["yblocks", "u32", yBlocks],
    ["count", "u32", count],
  ];
  const inputs = [x.binding(), w.binding()];
  const decls: [string, string][] = [
    ["x", x.dtype],
    ["w", w.dtype],
  ];
  const bias = opts.bias;
  if (bias) {
    inputs.push(bias.binding());
    decls.push(["bias", bias.dtype]);
  }
  const SEG = TX + KW - 1;
  const rows = [...Array(TY).keys()];
  const cols = [...Array(TX).keys()];
  const taps = [...Array(KH * KW).keys()];
  // Input row t (relative to the block) feeds output row r through kernel row t - r.
  const rowBody = (t: number) => {
    const uses = rows.filter((r) => t - r >= 0 && t - r < KH);
    return `  {
    let iy = y0 + ${t};
    let row_ok = iy >= 0 && iy < p.H;
    let xrow = plane + u32(clamp(iy, 0, p.H - 1)) * u32(p.W);
${[...Array(SEG).keys()]
  .map(
    (j) =>
      `    let s${j} = select(0.0, ${load(x.dtype, "x", `xrow + u32(clamp(x0 + ${j}, 0, p.W - 1))`)}, row_ok && x0 + ${j} >= 0 && x0 + ${j} < p.W);`,
  )
  .join("\n")}
${uses
  .flatMap((r) =>
    cols.map(
      (j) =>
        `    acc${r}_${j} += ${[...Array(KW).keys()].map((kx) => `w${(t - r) * KW + kx} * s${j + kx}`).join(" + ")};`,
    ),
  )
  .join("\n")}
  }`;
  };
  x.engine.run({
    name: "conv2d_depthwise",
    key: `${KH}x${KW}|${x.dtype}|${w.dtype}|${bias?.dtype ?? "-"}|${opts.activation}`,
    label: `${KH}×${KW} ${C}→${C} g${C} ${H}×${W}`,
    params,
    inputs,
    outputs: [out.binding()],
    workgroups: grid(Math.ceil(count / WG1D)),
    wgsl: () => `${enableF16([x.dtype, w.dtype, bias?.dtype ?? "f32"])}${paramsStruct(params)}${storageDecls(decls, [["y", "f32"]])}${activationPrelude(opts.activation)}${FLAT_ID}
${MAIN_1D} {
  let id = flat_id(wid, lid, nwg);
  if (id >= p.count) { return; }
  let xb = id % p.xblocks;
  let rest = id / p.xblocks;
  let yb = rest % p.yblocks;
  let nc = rest / p.yblocks;
  let c = nc % p.C;
  let ox0 = xb * ${TX}u;
  let oy0 = yb * ${TY}u;
  let y0 = i32(oy0) - p.ph;
  let x0 = i32(ox0) - p.pw;
  let plane = nc * u32(p.H) * u32(p.W);
${taps.map((i) => `  let w${i} = ${load(w.dtype, "w", `c * ${KH * KW}u + ${i}u`)};`).join("\n")}
${rows.flatMap((r) => cols.map((j) => `  var acc${r}_${j} = 0.0;`)).join("\n")}
${[...Array(TY + KH - 1).keys()].map(rowBody).join("\n")}
${bias ? `  let b = ${load(bias.dtype, "bias", "c")};` : "  let b = 0.0;"}
${rows
  .map(
    (r) => `  if (oy0 + ${r}u < p.Ho) {
    let orow = (nc * p.Ho + oy0 + ${r}u) * p.Wo + ox0;
${cols.map((j) => `    if (ox0 + ${j}u < p.Wo) { y[orow + ${j}u] = ${activationWgsl(opts.activation, `(acc${r}_${j} + b)`)}; }`).join("\n")}
  }`,
  )
  .join("\n")}
}`,
  });
}
