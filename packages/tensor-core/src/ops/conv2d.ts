import { ShapeError } from "../errors.js";
import { enableF16, type Param, paramsStruct, storageDecls } from "../kernel.js";
import { fmtShape } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { type Activation, activationPrelude, activationWgsl } from "../wgsl/erf.js";
import { depthwiseConv2d } from "./conv2d-depthwise.js";
import { im2colConv2d } from "./conv2d-im2col.js";
import { matmul } from "./matmul/index.js";
import { checkInput, checkRank, load, sameShape } from "./util.js";

export interface Conv2dOptions {
  bias?: Tensor;
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
  activation?: Activation;
  /**
   * 1×1 convolutions only (they run as one matmul): added to the output, [N, Co, Ho, Wo] in f32, then
   * `residualActivation` (a ResNet Bottleneck's ReLU(BN(conv3(x)) + shortcut) in one pass).
   */
  residual?: Tensor;
  residualActivation?: "relu";
}

const pair = (v: number | [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === "number" ? [v, v] : v;

/**
 * torch.nn.functional.conv2d on NCHW input with OIHW weights (zero padding). 1×1 convolutions run as a matmul,
 * other dense ones as a matmul over im2col slices (conv2d-im2col.ts), stride-1 depthwise ones in
 * conv2d-depthwise.ts; the rest (grouped, or Ci·KH·KW not a multiple of 4) have a register-blocked direct kernel
 * (no workgroup memory: lanes walk output x, so weight loads are uniform across a workgroup).
 */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  checkInput("conv2d", "x", x);
  checkInput("conv2d", "weight", w);
  checkRank("conv2d", "x", x, 4);
  checkRank("conv2d", "weight", w, 4);
  const [N, Ci, H, W] = x.shape as [number, number, number, number];
  const [Co, Cig, KH, KW] = w.shape as [number, number, number, number];
  const groups = opts.groups ?? 1;
  const [sh, sw] = pair(opts.stride, 1);
  const [ph, pw] = pair(opts.padding, 0);
  const [dh, dw] = pair(opts.dilation, 1);
  if (!Number.isInteger(groups) || groups < 1 || Ci % groups !== 0 || Co % groups !== 0) {
    throw new ShapeError(`conv2d: groups=${groups} must divide both input channels ${Ci} and output channels ${Co}`);
  }
  if (Cig !== Ci / groups) {
    throw new ShapeError(
      `conv2d: weight ${fmtShape(w.shape)} expects ${Cig * groups} input channels, x ${fmtShape(x.shape)} has ${Ci}`,
    );
  }
  if (
    [sh, sw, dh, dw].some((v) => !Number.isInteger(v) || v < 1) ||
    [ph, pw].some((v) => !Number.isInteger(v) || v < 0)
  ) {
    throw new ShapeError("conv2d: stride and dilation must be positive integers, padding a non-negative integer");
  }
  if (opts.bias) {
    checkInput("conv2d", "bias", opts.bias);
    if (opts.bias.size !== Co) throw new ShapeError(`conv2d: bias has ${opts.bias.size} elements, expected ${Co}`);
  }
  const Ho = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const Wo = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  if (Ho < 1 || Wo < 1)
    throw new ShapeError(`conv2d: kernel ${KH}×${KW} does not fit input ${H}×${W} with padding ${ph},${pw}`);
  const e = x.engine;
  const act = opts.activation ?? "none";

  const pointwise = KH === 1 && KW === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0 && groups === 1;
  if (opts.residual || opts.residualActivation) {
    if (!pointwise) throw new ShapeError("conv2d: a fused residual is only supported for 1×1 stride-1 convolutions");
    if (opts.residual && !sameShape(opts.residual.shape, [N, Co, Ho, Wo])) {
      throw new ShapeError(
        `conv2d: residual is ${fmtShape(opts.residual.shape)}, expected the output's shape [${N}, ${Co}, ${Ho}, ${Wo}]`,
      );
    }
  }
  if (pointwise) {
    return e.scope(() => {
      const y = matmul(w.reshape([Co, Ci]), x.reshape([N, Ci, H * W]), {
        bias: opts.bias,
        biasAxis: "m",
        activation: act,
        residual: opts.residual?.reshape([N, Co, H * W]),
        residualActivation: opts.residualActivation,
      });
      return y.reshape([N, Co, Ho, Wo]);
    });
  }

  if (groups === 1 && (Ci * KH * KW) % 4 === 0) {
    return im2colConv2d(x, w, {
      bias: opts.bias,
      stride: [sh, sw],
      padding: [ph, pw],
      dilation: [dh, dw],
      activation: act,
      outSize: [Ho, Wo],
    });
  }
  const out = e.empty([N, Co, Ho, Wo], "f32");
  const depthwise = groups === Ci && Co === Ci;
  if (depthwise && sh === 1 && sw === 1 && dh === 1 && dw === 1) {
    depthwiseConv2d(x, w, out, { bias: opts.bias, padding: [ph, pw], activation: act });
    return out;
  }
  const TX = 8;
  const TCO = depthwise ? 1 : Co / groups >= 8 ? 8 : Co / groups >= 4 ? 4 : 1;
  const WG = 8;
  const params: Param[] = [
    ["N", "u32", N],
    ["Ci", "u32", Ci],
    ["H", "u32", H],
    ["W", "u32", W],
    ["Co", "u32", Co],
    ["Ho", "u32", Ho],
    ["Wo", "u32", Wo],
    ["cig", "u32", Cig],
    ["cog", "u32", Co / groups],
    ["co_blocks", "u32", Math.ceil(Co / groups / TCO) * groups],
    ["sh", "i32", sh],
    ["sw", "i32", sw],
    ["ph", "i32", ph],
    ["pw", "i32", pw],
    ["dh", "i32", dh],
    ["dw", "i32", dw],
  ];
  const inputs = [x.binding(), w.binding()];
  const decls: [string, string][] = [
    ["x", x.dtype],
    ["w", w.dtype],
  ];
  if (opts.bias) {
    inputs.push(opts.bias.binding());
    decls.push(["bias", opts.bias.dtype]);
  }
  const xs = [...Array(TX).keys()];
  const cs = [...Array(TCO).keys()];
  const biasExpr = (co: string) => (opts.bias ? ` + ${load(opts.bias.dtype, "bias", co)}` : "");
  e.run({
    name: depthwise ? "conv2d_depthwise" : "conv2d",
    key: `${KH}x${KW}|${TCO}|${x.dtype}|${w.dtype}|${opts.bias?.dtype ?? "-"}|${act}`,
    label: `${KH}×${KW} ${Ci}→${Co}${groups > 1 ? ` g${groups}` : ""} ${H}×${W}`,
    params,
    inputs,
    outputs: [out.binding()],
    workgroups: [Math.ceil(Wo / (TX * WG)), Ho, N * Math.ceil(Co / groups / TCO) * groups],
    wgsl: () => `${enableF16([x.dtype, w.dtype, opts.bias?.dtype ?? "f32"])}${paramsStruct(params)}${storageDecls(decls, [["y", "f32"]])}${activationPrelude(act)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let n = wid.z / p.co_blocks;
  let cb = wid.z % p.co_blocks;
  let blocks_per_group = p.co_blocks / (p.Co / p.cog);
  let g = cb / blocks_per_group;
  let co0 = g * p.cog + (cb % blocks_per_group) * ${TCO}u;
  let oy = wid.y;
  let ox0 = (wid.x * ${WG}u + lid.x) * ${TX}u;
  let iy0 = i32(oy) * p.sh - p.ph;
${cs.map((c) => `  let wo${c} = min(co0 + ${c}u, g * p.cog + p.cog - 1u) * p.cig * ${KH * KW}u;`).join("\n")}
${cs.flatMap((c) => xs.map((j) => `  var acc${c}_${j} = 0.0;`)).join("\n")}
  for (var ci = 0u; ci < p.cig; ci++) {
    let xplane = (n * p.Ci + g * p.cig + ci) * p.H;
    for (var ky = 0; ky < ${KH}; ky++) {
      let iy = iy0 + ky * p.dh;
      if (iy < 0 || iy >= i32(p.H)) { continue; }
      let xrow = (xplane + u32(iy)) * p.W;
      for (var kx = 0; kx < ${KW}; kx++) {
        let wk = (ci * ${KH}u + u32(ky)) * ${KW}u + u32(kx);
${cs.map((c) => `        let w${c} = ${load(w.dtype, "w", `wo${c} + wk`)};`).join("\n")}
${xs
  .map(
    (j) => `        {
          let ix = i32(ox0 + ${j}u) * p.sw - p.pw + kx * p.dw;
          let ok = ix >= 0 && ix < i32(p.W);
          let v = select(0.0, ${load(x.dtype, "x", "xrow + u32(clamp(ix, 0, i32(p.W) - 1))")}, ok);
${cs.map((c) => `          acc${c}_${j} += w${c} * v;`).join("\n")}
        }`,
  )
  .join("\n")}
      }
    }
  }
${cs
  .map(
    (c) => `  if (co0 + ${c}u < g * p.cog + p.cog) {
    let co = co0 + ${c}u;
    let orow = ((n * p.Co + co) * p.Ho + oy) * p.Wo;
${xs.map((j) => `    if (ox0 + ${j}u < p.Wo) { y[orow + ox0 + ${j}u] = ${activationWgsl(act, `(acc${c}_${j}${biasExpr("co")})`)}; }`).join("\n")}
  }`,
  )
  .join("\n")}
}`,
  });
  return out;
}
