import type { DType } from "../../dtype.js";
import { enableF16, type Param, paramsStruct, storageDecls } from "../../kernel.js";
import { sizeOf } from "../../shape.js";
import type { Tensor } from "../../tensor.js";
import { MatrixTexture } from "../matrix-texture.js";
import { kernelKey, type Variant } from "../variants.js";
import { MatmulEpilogue } from "./epilogue.js";
import { type Geometry, shapeLabel, type TextureOperand, type TileCall } from "./geometry.js";
import type { MatmulOptions } from "./options.js";
import { storeBlock } from "./store-block.js";

/** Products deeper than this run as K slices (MatmulOptions.kBlock). */
const K_BLOCK = 1024;

/**
 * The texture-fed kernels (CPU flavor) take a 2-D `a` [M, K] as the texture with a row-major f32 `b` (lanes over M),
 * or a 2-D Linear weight `b` [N, K] with transB and an f32 `a` (lanes over N); vec4 loads of the other operand
 * need K divisible by 4. A prepared texture (a weight's) is used as is; otherwise the operand's own texture (packed on
 * first use, kept with the tensor: MatrixTexture.of) unless stageTextures is false.
 */
export function chooseTexture(a: Tensor, b: Tensor, o: MatmulOptions, g: Geometry): TextureOperand | null {
  const { M, N, K } = g;
  if (o.transA || K % 4 !== 0) return null;
  const stage = o.stageTextures !== false && N >= 8 && M >= 8;
  const pick = (side: "a" | "b", t: Tensor, given: MatrixTexture | null | undefined, rows: number) => {
    const tex = given && given.rows === rows && given.cols === K ? given : stage ? MatrixTexture.of(t) : null;
    return tex ? { side, tex } : null;
  };
  if (!o.transB && a.rank === 2 && b.dtype === "f32") return pick("a", a, o.aTexture, M);
  if (o.transB && b.rank === 2 && a.dtype === "f32") return pick("b", b, o.bTexture, N);
  return null;
}

const ROWS = [...Array(8).keys()];

/**
 * The texture-fed kernels, 8×8 outputs per invocation, workgroups of 8 lanes (lavapipe's subgroup). Texture A
 * (`a` [M, K] in the texture, row-major f32 `b`): lanes take 8-row blocks of A (texel fetches), all lanes of a
 * workgroup share one 8-column block of B (uniform vec4 loads: one scalar load + broadcast on lavapipe). Texture B
 * (a Linear weight [N, K], `x · Wᵀ`): lanes take 8-column blocks (8 rows of W), the lanes share 8 rows of A (uniform
 * vec4 loads along K), products by dot(). Tiles of a binding-window split read the texture at their row (m0 or n0)
 * and K offsets, write C at its full row stride, and a K slice after the first adds to C.
 */
export const textureFed: Variant<TileCall> = {
  name: "texture-fed",
  flavor: "cpu",
  applies: ({ t }) => t.texture !== null,
  encode: encodeTexture,
};

function encodeTexture(call: TileCall): void {
  const { o, g, t } = call;
  const texture = t.texture!;
  // The operand bound as storage: the one not read from the texture.
  const s = texture.side === "a" ? call.b : call.a;
  const { N, K } = g;
  const depth = t.kc ?? K;
  const block = o.kBlock ?? K_BLOCK;
  if (depth > block) {
    // Deep products run as K slices accumulating into C, so one slice's texture rows and storage rows stay in cache.
    for (let k = 0; k < depth; k += block) {
      const kc = Math.min(block, depth - k);
      const w = texture.side === "a" ? t.bw : t.aw;
      const moved = { binding: w.binding, base: w.base + (texture.side === "a" ? k * N : k) };
      encodeTexture({
        ...call,
        t: {
          ...t,
          ...(texture.side === "a" ? { bw: moved } : { aw: moved }),
          k0: (t.k0 ?? 0) + k,
          kc,
          accumulate: !!t.accumulate || k > 0,
          last: t.last !== false && k + kc >= depth,
        },
      });
    }
    return;
  }
  const [bShape, sa, sb, sc] = g.batchStrides as [number[], number[], number[], number[]];
  const side = texture.side;
  const strides = side === "a" ? sb : sa;
  const ep = new MatmulEpilogue(o, t.biasAxis, t.rw?.binding, !!t.accumulate, t.last !== false);
  const sw = side === "a" ? t.bw : t.aw;
  // B rows are read as vec4s when they start 16-byte aligned (N % 4 == 0), else as 4 scalars (uniform loads too).
  const vecB = side === "b" || (N % 4 === 0 && sw.base % 4 === 0);
  const unit = vecB ? 4 : 1;
  const params: Param[] = [
    ["M", "u32", t.mc],
    ["N", "u32", t.nc],
    ["K", "u32", t.kc ?? K],
    ["ldc", "u32", N],
    // The storage operand's row stride and base, in vec4s or scalars: B [K, N] for texture A, A [M, K] for texture B.
    ["lds", "u32", (side === "a" ? N : K) / unit],
    ["s_base", "u32", sw.base / unit],
    ["c_base", "u32", t.cw.base],
    ["tex_row0", "u32", side === "a" ? t.m0 : t.n0],
    ["tex_k40", "u32", (t.k0 ?? 0) / 4],
    ["bias_base", "u32", t.biasAxis === "n" ? t.n0 : t.m0],
    ["alpha", "f32", o.alpha ?? 1],
    ...bShape.flatMap((n, d): Param[] => [
      [`bs${d}`, "u32", n],
      [`bt${d}`, "u32", strides[d]!],
      [`bc${d}`, "u32", sc[d]!],
    ]),
  ];
  const op = side === "a" ? "b" : "a";
  const inputs = [sw.binding, ...ep.bindings.map((x) => x.binding)];
  const decls: [string, string][] = [
    [op, vecB ? "vec4<f32>" : "f32"],
    ...ep.bindings.map((x): [string, string] => [x.name, x.type]),
  ];
  let batchCode = `  var rem = wid.z;\n  var os = p.s_base;\n  var oc = p.c_base;\n`;
  for (let d = bShape.length - 1; d >= 0; d--) {
    batchCode += `  { let c = rem % p.bs${d}; rem = rem / p.bs${d}; os += c * p.bt${d} / ${unit}u; oc += c * p.bc${d}; }\n`;
  }
  const body =
    side === "a"
      ? `  let m0 = (wid.y * 8u + lid.x) * 8u;
  let n0 = wid.x * 8u;
${
  vecB
    ? `  let N4 = p.N / 4u;
  let b0c = os + min(n0 / 4u, N4 - 1u);
  let b1c = os + min(n0 / 4u + 1u, N4 - 1u);`
    : ROWS.map((j) => `  let bc${j} = os + min(n0 + ${j}u, p.N - 1u);`).join("\n")
}
${ROWS.map((i) => `  let r${i} = p.tex_row0 + min(m0 + ${i}u, p.M - 1u);`).join("\n")}
  for (var k4 = 0u; k4 < K4; k4++) {
${ROWS.map((i) => `    let a${i} = textureLoad(T, vec2<u32>(p.tex_k40 + k4, r${i}), 0);`).join("\n")}
${[0, 1, 2, 3]
  .map(
    (u) => `    {
      let kk = (k4 * 4u + ${u}u) * p.lds;
${
  vecB
    ? `      let b0 = b[b0c + kk];
      let b1 = b[b1c + kk];`
    : [0, 1]
        .map((v) => `      let b${v} = vec4<f32>(${[0, 1, 2, 3].map((j) => `b[bc${4 * v + j} + kk]`).join(", ")});`)
        .join("\n")
}
${ROWS.map((i) => `      acc${i}_0 += a${i}[${u}] * b0; acc${i}_1 += a${i}[${u}] * b1;`).join("\n")}
    }`,
  )
  .join("\n")}
  }`
      : `  let m0 = wid.y * 8u;
  let n0 = (wid.x * 8u + lid.x) * 8u;
${ROWS.map((i) => `  let ra${i} = os + min(m0 + ${i}u, p.M - 1u) * p.lds;`).join("\n")}
${ROWS.map((j) => `  let wn${j} = p.tex_row0 + min(n0 + ${j}u, p.N - 1u);`).join("\n")}
  for (var k4 = 0u; k4 < K4; k4++) {
${ROWS.map((j) => `    let w${j} = textureLoad(T, vec2<u32>(p.tex_k40 + k4, wn${j}), 0);`).join("\n")}
${ROWS.map(
  (i) =>
    `    { let av = a[ra${i} + k4]; acc${i}_0 += vec4<f32>(dot(av, w0), dot(av, w1), dot(av, w2), dot(av, w3)); acc${i}_1 += vec4<f32>(dot(av, w4), dot(av, w5), dot(av, w6), dot(av, w7)); }`,
).join("\n")}
  }`;
  s.engine.run({
    name: side === "a" ? "matmul_texture_a" : "matmul_texture_b",
    label: shapeLabel(sizeOf(bShape), t.mc, t.kc ?? K, t.nc),
    key: kernelKey(textureFed.name, { side, epilogue: ep.key, batchDims: bShape.length, loads: vecB ? "v4" : "s" }),
    params,
    inputs,
    outputs: [t.cw.binding],
    textures: [texture.tex.view],
    workgroups:
      side === "a"
        ? [Math.ceil(t.nc / 8), Math.ceil(t.mc / 64), sizeOf(bShape)]
        : [Math.ceil(t.nc / 64), Math.ceil(t.mc / 8), sizeOf(bShape)],
    wgsl: () => `${enableF16(ep.dtypes as DType[])}${paramsStruct(params)}${storageDecls(decls, [["c", "f32"]])}
@group(0) @binding(${inputs.length + 2}) var T: texture_2d<f32>;
${ep.prelude}
@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
${batchCode}
  let K4 = p.K / 4u;
${ROWS.map((i) => `  var acc${i}_0 = vec4<f32>(0.0);\n  var acc${i}_1 = vec4<f32>(0.0);`).join("\n")}
${body}
${storeBlock(ROWS, [0, 1], "p.ldc", (i, v) => ep.vec4(`acc${i}_${v}`, `(m0 + ${i}u)`, `n0 + ${v * 4}u`, "crow"))}
}`,
  });
}
