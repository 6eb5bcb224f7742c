import type { DType } from "../../dtype.js";
import { load } from "../util.js";
import { kernelKey, type Variant } from "../variants.js";
import { shapeLabel, type TileCall } from "./geometry.js";
import { storageProgram } from "./storage-program.js";
import { storeBlock } from "./store-block.js";

/**
 * The CPU flavor's storage-buffer kernel. Register blocking without workgroup memory (fastest on lavapipe/SwiftShader,
 * see shared/perf/REPORT.md §2.4): each invocation owns a TM×TN block; the 8 lanes of a workgroup take neighbouring
 * column blocks, so A's addresses are uniform across the subgroup (one scalar load + broadcast) and only B's loads
 * diverge. It takes any layout, so it runs every CPU tile without a texture operand.
 */
export const cpuRegister: Variant<TileCall> = {
  name: "cpu-register",
  flavor: "cpu",
  applies: () => true,
  encode: encodeRegister,
};

function encodeRegister(call: TileCall): void {
  const { a, b, o, g, t } = call;
  const { K, N } = g;
  const TM = t.mc >= 8 ? 8 : t.mc >= 4 ? 4 : 1;
  const TN = t.nc >= 64 ? 8 : 4;
  const WG = 8;
  const rows = [...Array(TM).keys()];
  const cols = [...Array(TN).keys()];
  const vecs = [...Array(TN / 4).keys()];
  // vec4 loads along K (and along N for a row-major B) are ~25 % faster on lavapipe; they need K % 4 == 0.
  const vec4 = !o.transA && K % 4 === 0 && t.aw.base % 4 === 0 && t.bw.base % 4 === 0 && (o.transB || N % 4 === 0);
  const { params, inputs, header, spec, batchCode, batch, ep } = storageProgram(call, vec4);
  const mainLoop = vec4
    ? cpuVec4Loop(a.dtype, b.dtype, !!o.transB, rows, cols, vecs)
    : cpuScalarLoop(
        (idx) => load(a.dtype, "a", idx),
        (idx) => load(b.dtype, "b", idx),
        rows,
        cols,
        vecs,
      );
  a.engine.run({
    name: "matmul",
    label: shapeLabel(batch, t.mc, t.kc ?? K, t.nc),
    key: kernelKey(cpuRegister.name, { tile: `${TM}x${TN}`, loads: vec4 ? (o.transB ? "v4t" : "v4") : "s", ...spec }),
    params,
    inputs,
    outputs: [t.cw.binding],
    workgroups: [Math.ceil(t.nc / (WG * TN)), Math.ceil(t.mc / TM), batch],
    wgsl: () => `${header}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wid.z;
${batchCode}
  let m0 = wid.y * ${TM}u;
  let n0 = (wid.x * ${WG}u + lid.x) * ${TN}u;
${rows.flatMap((i) => vecs.map((v) => `  var acc${i}_${v} = vec4<f32>(0.0);`)).join("\n")}
${mainLoop}
${storeBlock(rows, vecs, "p.ldc", (i, v) => ep.vec4(`acc${i}_${v}`, `(m0 + ${i}u)`, `n0 + ${v * 4}u`, "crow"))}
}`,
  });
}

/** Scalar loads with any strides (transposed A, odd K): the general register-blocked loop. */
function cpuScalarLoop(
  A: (i: string) => string,
  B: (i: string) => string,
  rows: number[],
  cols: number[],
  vecs: number[],
): string {
  const kstep = (k: string) => `    {
${vecs.map((v) => `    let b${v} = vec4<f32>(${[0, 1, 2, 3].map((j) => B(`cb${v * 4 + j} + (${k}) * p.sbk`)).join(", ")});`).join("\n")}
${rows.map((i) => `    { let av = ${A(`ra${i} + (${k}) * p.sak`)};${vecs.map((v) => ` acc${i}_${v} += av * b${v};`).join("")} }`).join("\n")}
    }`;
  return `${rows.map((i) => `  let ra${i} = oa + min(m0 + ${i}u, p.M - 1u) * p.sam;`).join("\n")}
${cols.map((j) => `  let cb${j} = ob + min(n0 + ${j}u, p.N - 1u) * p.sbn;`).join("\n")}
  let k4 = p.K & ~3u;
  var k = 0u;
  for (; k < k4; k += 4u) {
${[0, 1, 2, 3].map((u) => kstep(`k + ${u}u`)).join("\n")}
  }
  for (; k < p.K; k++) {
${kstep("k")}
  }`;
}

/**
 * vec4 loads: A rows along K (uniform across lanes); B either row-major (vec4 along N, divergent) or transposed
 * [N, K] (vec4 along K, combined with dot products).
 */
function cpuVec4Loop(at: DType, bt: DType, transB: boolean, rows: number[], cols: number[], vecs: number[]): string {
  const A4 = (i: string) => (at === "f32" ? `a[${i}]` : `vec4<f32>(a[${i}])`);
  const B4 = (i: string) => (bt === "f32" ? `b[${i}]` : `vec4<f32>(b[${i}])`);
  // Row strides come from the operands' storage (p.sam, p.sbn, p.sbk), not from this launch's K and N: a K-split
  // slice has K = its depth while A's rows stay the full K apart.
  const head = `  let K4 = p.K / 4u;
${rows.map((i) => `  let ra${i} = oa / 4u + min(m0 + ${i}u, p.M - 1u) * (p.sam / 4u);`).join("\n")}`;
  if (transB) {
    return `${head}
${cols.map((j) => `  let cb${j} = ob / 4u + min(n0 + ${j}u, p.N - 1u) * (p.sbn / 4u);`).join("\n")}
  for (var k4 = 0u; k4 < K4; k4++) {
${cols.map((j) => `    let b${j} = ${B4(`cb${j} + k4`)};`).join("\n")}
${rows
  .map(
    (i) =>
      `    { let av = ${A4(`ra${i} + k4`)};${vecs.map((v) => ` acc${i}_${v} += vec4<f32>(${[0, 1, 2, 3].map((j) => `dot(av, b${v * 4 + j})`).join(", ")});`).join("")} }`,
  )
  .join("\n")}
  }`;
  }
  return `${head}
  let N4 = p.N / 4u;
  let ldb4 = p.sbk / 4u;
${vecs.map((v) => `  let cb${v} = ob / 4u + min(n0 / 4u + ${v}u, N4 - 1u);`).join("\n")}
  for (var k4 = 0u; k4 < K4; k4++) {
${rows.map((i) => `    let a${i} = ${A4(`ra${i} + k4`)};`).join("\n")}
${[0, 1, 2, 3]
  .map(
    (u) => `    {
${vecs.map((v) => `      let b${v} = ${B4(`cb${v} + (k4 * 4u + ${u}u) * ldb4`)};`).join("\n")}
${rows.map((i) => `      ${vecs.map((v) => `acc${i}_${v} += a${i}[${u}] * b${v};`).join(" ")}`).join("\n")}
    }`,
  )
  .join("\n")}
  }`;
}
