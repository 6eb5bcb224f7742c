import { load } from "../util.js";
import { kernelKey, type Variant } from "../variants.js";
import { shapeLabel, type TileCall } from "./geometry.js";
import { storageProgram } from "./storage-program.js";

/** The GPU flavor: a 64×64 output tile per 16×16 workgroup, 4×4 per thread, K in steps of 16 through workgroup memory. */
export const gpuTiled: Variant<TileCall> = {
  name: "gpu-tiled",
  flavor: "gpu",
  applies: () => true,
  encode: encodeTiled,
};

function encodeTiled(call: TileCall): void {
  const { a, b, g, t } = call;
  const { K } = g;
  const { params, inputs, header, spec, batchCode, batch, ep } = storageProgram(call);
  const A = (idx: string) => load(a.dtype, "a", idx);
  const B = (idx: string) => load(b.dtype, "b", idx);
  const TS = 64;
  const KT = 16;
  a.engine.run({
    name: "matmul",
    label: shapeLabel(batch, t.mc, t.kc ?? K, t.nc),
    key: kernelKey(gpuTiled.name, spec),
    params,
    inputs,
    outputs: [t.cw.binding],
    workgroups: [Math.ceil(t.nc / TS), Math.ceil(t.mc / TS), batch],
    wgsl: () => `${header}
var<workgroup> As: array<array<f32, ${TS}>, ${KT}>;
var<workgroup> Bs: array<array<f32, ${TS}>, ${KT}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wid.z;
${batchCode}
  let tm = wid.y * ${TS}u;
  let tn = wid.x * ${TS}u;
  let tid = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += ${KT}u) {
    for (var l = tid; l < ${TS * KT}u; l += 256u) {
      let kk = l / ${TS}u;
      let mm = l % ${TS}u;
      let gk = k0 + kk;
      let gm = tm + mm;
      let gn = tn + mm;
      var av = 0.0;
      var bv = 0.0;
      if (gk < p.K && gm < p.M) { av = ${A("oa + gm * p.sam + gk * p.sak")}; }
      if (gk < p.K && gn < p.N) { bv = ${B("ob + gk * p.sbk + gn * p.sbn")}; }
      As[kk][mm] = av;
      Bs[kk][mm] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${KT}u; kk++) {
      var ar: array<f32, 4>;
      var br: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { ar[i] = As[kk][lid.y + 16u * i]; br[i] = Bs[kk][lid.x + 16u * i]; }
      for (var i = 0u; i < 4u; i++) { for (var j = 0u; j < 4u; j++) { acc[i][j] += ar[i] * br[j]; } }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = tm + lid.y + 16u * i;
    if (m >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let n = tn + lid.x + 16u * j;
      if (n < p.N) { c[oc + m * p.ldc + n] = ${ep.scalar("acc[i][j]", "m", "n", "oc + m * p.ldc + n")}; }
    }
  }
}`,
  });
}
