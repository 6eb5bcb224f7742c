import { DTYPE_BYTES, type DType } from "../dtype.js";
import { BufferSizeError, ShapeError } from "../errors.js";
import { enableF16, type Param, paramsStruct, storageDecls } from "../kernel.js";
import { broadcastShapes, broadcastStrides, fmtShape, sizeOf } from "../shape.js";
import type { Tensor } from "../tensor.js";
import type { Activation } from "../wgsl/erf.js";
import { coalesce } from "./binary.js";
import { MatmulEpilogue } from "./matmul-epilogue.js";
import { MatrixTexture } from "./matrix-texture.js";
import { checkInput, load, sameShape } from "./util.js";

export interface MatmulOptions {
  /** a is stored [..., K, M] (use its transpose). */
  transA?: boolean;
  /** b is stored [..., N, K], like a PyTorch Linear weight. */
  transB?: boolean;
  /** Added after scaling by alpha: shape [N] (biasAxis "n", the default) or [M] (biasAxis "m", e.g. conv channels). */
  bias?: Tensor;
  biasAxis?: "n" | "m";
  /** C = residual + scale ⊙ act(alpha · A·B + bias). */
  alpha?: number;
  activation?: Activation;
  /** Multiplies after the activation, along the bias axis: [N] or [M] (e.g. ConvNeXt's layer scale γ). */
  scale?: Tensor;
  /** Added last, with the result's shape (a residual connection), in f32. */
  residual?: Tensor;
  /** Override the adapter's kernel family (tests run both). */
  flavor?: "cpu" | "gpu";
  /** `a` (a constant [M, K] weight) also as a texture: the CPU flavor reads it from there when shapes allow. */
  aTexture?: MatrixTexture | null;
  /** `b` stored [N, K] (a Linear weight, with transB) also as a texture, likewise. */
  bTexture?: MatrixTexture | null;
  /**
   * CPU flavor: pack the operand that varies across lanes into a texture for this call when no prepared one is given
   * (default true; the packing pass costs ~M·K against the product's M·N·K). False keeps the storage-buffer kernel.
   */
  stageTextures?: boolean;
  /** Texture-fed kernels: the depth of one K slice (default 1024); deeper products accumulate slice by slice. */
  kBlock?: number;
}

const K_BLOCK = 1024;

interface Geometry {
  M: number;
  N: number;
  K: number;
  batchShape: number[];
  batchStrides: number[][];
}

function geometry(a: Tensor, b: Tensor, o: MatmulOptions): Geometry {
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`matmul: operands need rank >= 2, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [M, Ka] = o.transA ? [ac, ar] : [ar, ac];
  const [Kb, N] = o.transB ? [bc, br] : [br, bc];
  if (Ka !== Kb) {
    throw new ShapeError(
      `matmul: inner dimensions differ: a ${fmtShape(a.shape)}${o.transA ? "ᵀ" : ""} has K=${Ka}, b ${fmtShape(b.shape)}${o.transB ? "ᵀ" : ""} has K=${Kb}`,
    );
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batchShape = broadcastShapes("matmul", batchA, batchB);
  const c = coalesce(batchShape, [
    broadcastStrides(batchA, batchShape).map((s) => s * M * Ka),
    broadcastStrides(batchB, batchShape).map((s) => s * Ka * N),
    broadcastStrides(batchShape, batchShape).map((s) => s * M * N),
  ]);
  return { M, N, K: Ka, batchShape, batchStrides: [c.shape, ...c.strides] };
}

/**
 * Batched matrix product with broadcasting batch dimensions, optional transposed operands, and a fused
 * bias/scale/activation epilogue. Accumulates in f32 (f16 operands are widened); the result is f32.
 * Operands over the binding limit are split along M (a not transposed) or N (b transposed, i.e. weights [N, K]).
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  checkInput("matmul", "a", a);
  checkInput("matmul", "b", b);
  const g = geometry(a, b, opts);
  const { M, N } = g;
  const biasAxis = opts.biasAxis ?? "n";
  for (const [name, v] of [
    ["bias", opts.bias],
    ["scale", opts.scale],
  ] as const) {
    if (!v) continue;
    checkInput("matmul", name, v);
    const want = biasAxis === "n" ? N : M;
    if (v.size !== want) {
      throw new ShapeError(
        `matmul: ${name} has ${v.size} elements, expected ${want} (one per ${biasAxis.toUpperCase()})`,
      );
    }
  }
  const outShape = [...g.batchShape, M, N];
  if (opts.residual) {
    checkInput("matmul", "residual", opts.residual, ["f32"]);
    if (!sameShape(opts.residual.shape, outShape)) {
      throw new ShapeError(
        `matmul: residual is ${fmtShape(opts.residual.shape)}, expected the result's shape ${fmtShape(outShape)}`,
      );
    }
  }
  const e = a.engine;
  const out = e.empty(outShape, "f32");
  if (out.size === 0) return out;
  const flavor = opts.flavor ?? e.flavor;

  const texture = flavor === "cpu" ? chooseTexture(a, b, opts, g) : null;
  splitAndEncode(a, b, out, opts, flavor, g, biasAxis, texture);
  return out;
}

/**
 * The texture-fed kernels (CPU flavor) take a 2-D `a` [M, K] as the texture with a row-major f32 `b` (lanes over M),
 * or a 2-D Linear weight `b` [N, K] with transB and an f32 `a` (lanes over N); vec4 loads of the other operand
 * need K divisible by 4. A prepared texture (a weight's) is used as is; otherwise the operand's own texture (packed on
 * first use, kept with the tensor: MatrixTexture.of) unless stageTextures is false.
 */
function chooseTexture(a: Tensor, b: Tensor, o: MatmulOptions, g: Geometry): TextureOperand | null {
  const { M, N, K } = g;
  if (o.transA || K % 4 !== 0) return null;
  const stage = o.stageTextures !== false && N >= 8 && M >= 8;
  if (!o.transB && a.rank === 2 && b.dtype === "f32") {
    const given = o.aTexture && o.aTexture.rows === M && o.aTexture.cols === K ? o.aTexture : null;
    if (given) return { side: "a", tex: given };
    const tex = stage ? MatrixTexture.of(a) : null;
    return tex ? { side: "a", tex } : null;
  }
  if (o.transB && b.rank === 2 && a.dtype === "f32") {
    const given = o.bTexture && o.bTexture.rows === N && o.bTexture.cols === K ? o.bTexture : null;
    if (given) return { side: "b", tex: given };
    const tex = stage ? MatrixTexture.of(b) : null;
    return tex ? { side: "b", tex } : null;
  }
  return null;
}

interface TextureOperand {
  /** Which operand the texture holds. */
  side: "a" | "b";
  tex: MatrixTexture;
}

/** Encodes the product whole, or in binding windows along M, N or K when an operand or the result is too large. */
function splitAndEncode(
  a: Tensor,
  b: Tensor,
  out: Tensor,
  opts: MatmulOptions,
  flavor: "cpu" | "gpu",
  g: Geometry,
  biasAxis: "n" | "m",
  texture: TextureOperand | null,
): void {
  const { M, N, K } = g;
  const e = a.engine;
  const batch = sizeOf(g.batchShape);
  const aBytes = DTYPE_BYTES[a.dtype];
  const bBytes = DTYPE_BYTES[b.dtype];
  const limit = e.maxBindingBytes;
  const align = e.limits.minStorageBufferOffsetAlignment;
  // An operand read from a texture is not bound as storage, so its size does not force a split.
  const aSize = texture?.side === "a" ? 0 : a.byteLength;
  const bSize = texture?.side === "b" ? 0 : b.byteLength;
  let mChunk = M;
  let nChunk = N;
  if (aSize > limit || out.byteLength > limit || bSize > limit) {
    if (batch !== 1)
      throw new BufferSizeError(`matmul: batched operands over the ${limit}-byte binding limit are not split`);
    if (aSize > limit || out.byteLength > limit) {
      if (opts.transA)
        throw new BufferSizeError(
          `matmul: a ${fmtShape(a.shape)} is over the binding limit and transposed; pass it untransposed`,
        );
      mChunk = Math.max(1, Math.floor((limit - align) / Math.max(K * aBytes, N * 4)));
    }
    if (bSize > limit && opts.transB) nChunk = Math.max(1, Math.floor((limit - align) / (K * bBytes)));
    if (bSize > limit && !opts.transB) {
      // A row-major B [K, N] over the limit is split along K; partial products accumulate into C, and the bias and
      // activation apply with the last slice (e.g. ConvNeXt fc2 on a 187 MB hidden map at 800×1216).
      if (mChunk !== M || opts.transA) {
        throw new BufferSizeError(
          `matmul: b ${fmtShape(b.shape)} is over the binding limit and a or the result is too; pass b as [N, K] with transB`,
        );
      }
      const kChunk = Math.max(4, Math.floor((limit - align) / (N * bBytes) / 4) * 4);
      for (let k0 = 0; k0 < K; k0 += kChunk) {
        const kc = Math.min(kChunk, K - k0);
        const start = k0 * N * bBytes;
        const aligned = Math.floor(start / align) * align;
        encode(a, b, opts, flavor, g, {
          mc: M,
          nc: N,
          m0: 0,
          n0: 0,
          aw: { binding: a.binding(), base: k0 },
          bw: { binding: b.binding(aligned, start + kc * N * bBytes - aligned), base: (start - aligned) / bBytes },
          cw: { binding: out.binding(), base: 0 },
          rw: opts.residual ? { binding: opts.residual.binding(), base: 0 } : undefined,
          biasAxis,
          k0,
          kc,
          accumulate: k0 > 0,
          last: k0 + kc >= K,
          texture,
        });
      }
      return;
    }
  }

  for (let m0 = 0; m0 < M; m0 += mChunk) {
    const mc = Math.min(mChunk, M - m0);
    for (let n0 = 0; n0 < N; n0 += nChunk) {
      const nc = Math.min(nChunk, N - n0);
      const win = (t: Tensor, startEl: number, countEl: number, bytes: number) => {
        const startByte = startEl * bytes;
        const alignedStart = Math.floor(startByte / align) * align;
        const end = (startEl + countEl) * bytes;
        return { binding: t.binding(alignedStart, end - alignedStart), base: (startByte - alignedStart) / bytes };
      };
      const whole = mChunk === M && nChunk === N;
      const aw = whole ? { binding: a.binding(), base: 0 } : win(a, m0 * K, mc * K, aBytes);
      const bw = whole ? { binding: b.binding(), base: 0 } : win(b, n0 * K, nc * K, bBytes);
      const cWindow = (t: Tensor) =>
        whole ? { binding: t.binding(), base: 0 } : win(t, m0 * N + n0, (mc - 1) * N + nc, 4);
      const cw = cWindow(out);
      const rw = opts.residual ? cWindow(opts.residual) : undefined;
      encode(a, b, opts, flavor, g, { mc, nc, m0, n0, aw, bw, cw, rw, biasAxis, texture });
    }
  }
}

/** A matmul's shape class in profiles: [batch×] M×K · K→N. */
function shapeLabel(batch: number, M: number, K: number, N: number): string {
  return `${batch > 1 ? `${batch}× ` : ""}${M}×${K}·${K}→${N}`;
}

interface Tile {
  mc: number;
  nc: number;
  m0: number;
  n0: number;
  aw: { binding: ReturnType<Tensor["binding"]>; base: number };
  bw: { binding: ReturnType<Tensor["binding"]>; base: number };
  cw: { binding: ReturnType<Tensor["binding"]>; base: number };
  /** The residual's window: cut like C's, so it is read at C's indices. */
  rw?: { binding: ReturnType<Tensor["binding"]>; base: number };
  biasAxis: "n" | "m";
  /** K-split: this slice's first k and depth, whether it adds to C, and whether it is the last (bias, activation). */
  k0?: number;
  kc?: number;
  accumulate?: boolean;
  last?: boolean;
  /** The operand to read from a texture (texture-fed kernels), if any. */
  texture: TextureOperand | null;
}

function encode(a: Tensor, b: Tensor, o: MatmulOptions, flavor: "cpu" | "gpu", g: Geometry, t: Tile): void {
  if (t.texture) {
    encodeTexture(t.texture.side === "a" ? b : a, t.texture, o, g, t);
    return;
  }
  const { K, N, M } = g;
  const [bShape, sa, sb, sc] = g.batchStrides as [number[], number[], number[], number[]];
  const ep = new MatmulEpilogue(o, t.biasAxis, t.rw?.binding, !!t.accumulate, t.last !== false);
  // Element strides of A(m, k) and B(k, n) in their storage.
  const [sam, sak] = o.transA ? [1, M] : [K, 1];
  const [sbk, sbn] = o.transB ? [1, K] : [N, 1];
  const batch = sizeOf(bShape);
  const params: Param[] = [
    ["M", "u32", t.mc],
    ["N", "u32", t.nc],
    ["K", "u32", t.kc ?? K],
    ["sam", "u32", sam],
    ["sak", "u32", sak],
    ["sbk", "u32", sbk],
    ["sbn", "u32", sbn],
    ["ldc", "u32", N],
    ["a_base", "u32", t.aw.base],
    ["b_base", "u32", t.bw.base],
    ["c_base", "u32", t.cw.base],
    ["bias_base", "u32", t.biasAxis === "n" ? t.n0 : t.m0],
    ["alpha", "f32", o.alpha ?? 1],
    ...bShape.flatMap((n, d): Param[] => [
      [`bs${d}`, "u32", n],
      [`ba${d}`, "u32", sa[d]!],
      [`bb${d}`, "u32", sb[d]!],
      [`bc${d}`, "u32", sc[d]!],
    ]),
  ];
  const inputs = [t.aw.binding, t.bw.binding, ...ep.bindings.map((x) => x.binding)];
  const decls: [string, string][] = [
    ["a", a.dtype],
    ["b", b.dtype],
    ...ep.bindings.map((x): [string, string] => [x.name, x.type]),
  ];
  let batchCode = "  var rem = batch;\n  var oa = p.a_base;\n  var ob = p.b_base;\n  var oc = p.c_base;\n";
  for (let d = bShape.length - 1; d >= 0; d--) {
    batchCode += `  { let c = rem % p.bs${d}; rem = rem / p.bs${d}; oa += c * p.ba${d}; ob += c * p.bb${d}; oc += c * p.bc${d}; }\n`;
  }
  const header = `${enableF16([a.dtype, b.dtype, ...(ep.dtypes as DType[])])}${paramsStruct(params)}${storageDecls(decls, [["c", "f32"]])}${ep.prelude}`;
  const keyBase = `${a.dtype}|${b.dtype}|${ep.key}|${bShape.length}`;
  const A = (idx: string) => load(a.dtype, "a", idx);
  const B = (idx: string) => load(b.dtype, "b", idx);

  if (flavor === "cpu") {
    // Register blocking without workgroup memory (fastest on lavapipe/SwiftShader, see shared/perf/REPORT.md §2.4):
    // each invocation owns a TM×TN block; the 8 lanes of a workgroup take neighbouring column blocks, so A's
    // addresses are uniform across the subgroup (one scalar load + broadcast) and only B's loads diverge.
    const TM = t.mc >= 8 ? 8 : t.mc >= 4 ? 4 : 1;
    const TN = t.nc >= 64 ? 8 : 4;
    const WG = 8;
    const rows = [...Array(TM).keys()];
    const cols = [...Array(TN).keys()];
    const vecs = [...Array(TN / 4).keys()];
    // vec4 loads along K (and along N for a row-major B) are ~25 % faster on lavapipe; they need K % 4 == 0.
    const vec4 = !o.transA && K % 4 === 0 && t.aw.base % 4 === 0 && t.bw.base % 4 === 0 && (o.transB || N % 4 === 0);
    const mainLoop = vec4
      ? cpuVec4Loop(a.dtype, b.dtype, !!o.transB, rows, cols, vecs)
      : cpuScalarLoop(A, B, rows, cols, vecs);
    const vheader = vec4
      ? header
          .replace(`array<${a.dtype}>;`, `array<vec4<${a.dtype}>>;`)
          .replace(`array<${b.dtype}>;`, `array<vec4<${b.dtype}>>;`)
      : header;
    a.engine.run({
      name: "matmul",
      label: shapeLabel(batch, t.mc, t.kc ?? K, t.nc),
      key: `cpu|${TM}x${TN}|${vec4 ? (o.transB ? "v4t" : "v4") : "s"}|${keyBase}`,
      params,
      inputs,
      outputs: [t.cw.binding],
      workgroups: [Math.ceil(t.nc / (WG * TN)), Math.ceil(t.mc / TM), batch],
      wgsl: () => `${vheader}
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
    return;
  }

  // GPU flavor: 64×64 output tile per 16×16 workgroup, 4×4 per thread, K in steps of 16 through workgroup memory.
  const TS = 64;
  const KT = 16;
  a.engine.run({
    name: "matmul",
    label: shapeLabel(batch, t.mc, t.kc ?? K, t.nc),
    key: `gpu|${keyBase}`,
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

/**
 * Bounds-checked stores of a register block: rows i of vec4 accumulators v, each finished by `value(i, v)` (a vec4
 * expression that may use `crow`, the row's first element in C). Shared by the register and texture kernels.
 */
function storeBlock(
  rows: readonly number[],
  vecs: readonly number[],
  ldc: string,
  value: (i: number, v: number) => string,
): string {
  return rows
    .map(
      (i) => `  if (m0 + ${i}u < p.M) {
    let crow = oc + (m0 + ${i}u) * ${ldc};
${vecs
  .map(
    (v) => `    {
      let r = ${value(i, v)};
${[0, 1, 2, 3].map((j) => `      if (n0 + ${v * 4 + j}u < p.N) { c[crow + n0 + ${v * 4 + j}u] = r[${j}]; }`).join("\n")}
    }`,
  )
  .join("\n")}
  }`,
    )
    .join("\n");
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
function encodeTexture(s: Tensor, texture: TextureOperand, o: MatmulOptions, g: Geometry, t: Tile): void {
  const { N, K } = g;
  const depth = t.kc ?? K;
  const block = o.kBlock ?? K_BLOCK;
  if (depth > block) {
    // Deep products run as K slices accumulating into C, so one slice's texture rows and storage rows stay in cache.
    for (let k = 0; k < depth; k += block) {
      const kc = Math.min(block, depth - k);
      const w = texture.side === "a" ? t.bw : t.aw;
      const moved = { binding: w.binding, base: w.base + (texture.side === "a" ? k * N : k) };
      encodeTexture(s, texture, o, g, {
        ...t,
        ...(texture.side === "a" ? { bw: moved } : { aw: moved }),
        k0: (t.k0 ?? 0) + k,
        kc,
        accumulate: !!t.accumulate || k > 0,
        last: t.last !== false && k + kc >= depth,
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
    key: `${ep.key}|${bShape.length}|${vecB ? "v4" : "s"}`,
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
