import { ShapeError } from "../errors.js";
import { enableF16, FLAT_ID, grid, MAIN_1D, type Param, paramsStruct, storageDecls, WG1D } from "../kernel.js";
import { fmtShape } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { checkInput, checkRank, load } from "./util.js";

/**
 * The sampling core of multi-scale deformable attention, as the official pure-PyTorch fallback
 * (ms_deform_attn_core_pytorch) computes it: per head, bilinear grid_sample (align_corners=False, zero padding) of
 * each level's values at the given locations, weighted by the attention weights and summed over levels and points.
 *
 * value [N, S, M, D] (S = Σ H_l·W_l, levels concatenated in `spatialShapes` order), samplingLocations
 * [N, Lq, M, L, P, 2] normalised to [0, 1] (x, y), attentionWeights [N, Lq, M, L, P] → [N, Lq, M·D].
 */
export function msDeformAttnSample(
  value: Tensor,
  spatialShapes: readonly (readonly [number, number])[],
  samplingLocations: Tensor,
  attentionWeights: Tensor,
): Tensor {
  checkInput("msDeformAttn", "value", value);
  checkInput("msDeformAttn", "samplingLocations", samplingLocations);
  checkInput("msDeformAttn", "attentionWeights", attentionWeights);
  checkRank("msDeformAttn", "value", value, 4);
  checkRank("msDeformAttn", "samplingLocations", samplingLocations, 6);
  checkRank("msDeformAttn", "attentionWeights", attentionWeights, 5);
  const [N, S, M, D] = value.shape as [number, number, number, number];
  const [N2, Lq, M2, L, P, two] = samplingLocations.shape as [number, number, number, number, number, number];
  const total = spatialShapes.reduce((s, [h, w]) => s + h * w, 0);
  if (total !== S) {
    throw new ShapeError(`msDeformAttn: spatial shapes cover ${total} positions, value has ${S}`);
  }
  if (N2 !== N || M2 !== M || L !== spatialShapes.length || two !== 2) {
    throw new ShapeError(
      `msDeformAttn: samplingLocations ${fmtShape(samplingLocations.shape)} must be [${N}, Lq, ${M}, ${spatialShapes.length}, P, 2]`,
    );
  }
  const aw = attentionWeights.shape;
  if (aw[0] !== N || aw[1] !== Lq || aw[2] !== M || aw[3] !== L || aw[4] !== P) {
    throw new ShapeError(`msDeformAttn: attentionWeights ${fmtShape(aw)} must be [${N}, ${Lq}, ${M}, ${L}, ${P}]`);
  }
  const e = value.engine;
  const out = e.empty([N, Lq, M * D], "f32");
  if (out.size === 0) return out;
  const levels = spatialShapes.map(([h, w], l) => ({
    h,
    w,
    start: spatialShapes.slice(0, l).reduce((s, [a, b]) => s + a * b, 0),
  }));
  const params: Param[] = [
    ["n", "u32", out.size],
    ["Lq", "u32", Lq],
    ["S", "u32", S],
    ["M", "u32", M],
    ["D", "u32", D],
    ["P", "u32", P],
    ...levels.flatMap(({ h, w, start }, l): Param[] => [
      [`h${l}`, "i32", h],
      [`w${l}`, "i32", w],
      [`st${l}`, "u32", start],
    ]),
  ];
  const vt = value.dtype;
  const V = (idx: string) => load(vt, "v", idx);
  const level = (l: number) => `
  for (var pt = 0u; pt < p.P; pt++) {
    let k = ((nqm * ${L}u + ${l}u) * p.P + pt);
    let lx = ${load(samplingLocations.dtype, "loc", "2u * k")};
    let ly = ${load(samplingLocations.dtype, "loc", "2u * k + 1u")};
    let a = ${load(attentionWeights.dtype, "aw", "k")};
    let u = lx * f32(p.w${l}) - 0.5;
    let t = ly * f32(p.h${l}) - 0.5;
    let u0f = floor(u);
    let t0f = floor(t);
    let fu = u - u0f;
    let ft = t - t0f;
    let u0 = i32(u0f);
    let t0 = i32(t0f);
    var s = 0.0;
    for (var dy = 0; dy < 2; dy++) {
      let yy = t0 + dy;
      if (yy < 0 || yy >= p.h${l}) { continue; }
      let wy = select(1.0 - ft, ft, dy == 1);
      for (var dx = 0; dx < 2; dx++) {
        let xx = u0 + dx;
        if (xx < 0 || xx >= p.w${l}) { continue; }
        let wx = select(1.0 - fu, fu, dx == 1);
        let pos = p.st${l} + u32(yy) * u32(p.w${l}) + u32(xx);
        s += wy * wx * ${V("((nb * p.S + pos) * p.M + m) * p.D + d")};
      }
    }
    acc += a * s;
  }`;
  e.run({
    name: "ms_deform_attn",
    key: `${L}|${vt}|${samplingLocations.dtype}|${attentionWeights.dtype}`,
    params,
    inputs: [value.binding(), samplingLocations.binding(), attentionWeights.binding()],
    outputs: [out.binding()],
    workgroups: grid(Math.ceil(out.size / WG1D)),
    wgsl: () => `${enableF16([vt, samplingLocations.dtype, attentionWeights.dtype])}${paramsStruct(params)}${storageDecls(
      [
        ["v", vt],
        ["loc", samplingLocations.dtype],
        ["aw", attentionWeights.dtype],
      ],
      [["y", "f32"]],
    )}${FLAT_ID}
${MAIN_1D} {
  let i = flat_id(wid, lid, nwg);
  if (i >= p.n) { return; }
  let d = i % p.D;
  let nqm = i / p.D;
  let m = nqm % p.M;
  let nb = nqm / (p.M * p.Lq);
  var acc = 0.0;
${levels.map((_, l) => level(l)).join("\n")}
  y[i] = acc;
}`,
  });
  return out;
}
