// `npm run bench`: times the engine's main kernels on this machine's adapter and, when Debian's PyTorch is
// installed, the same ops in PyTorch CPU in the same run. Writes bench-results/tensor-core.json at the repo root.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  conv2d,
  Engine,
  layerNorm,
  MatrixTexture,
  matmul,
  msDeformAttnSample,
  paramsStruct,
  softmax,
} from "../dist/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const quick = process.argv.includes("--quick");

const msShapes = [
  [80, 80],
  [40, 40],
  [20, 20],
];
const cases = [
  { name: "matmul_1024", kind: "matmul", M: 1024, K: 1024, N: 1024, reps: 5 },
  { name: "matmul_2048", kind: "matmul", M: 2048, K: 2048, N: 2048, reps: 3 },
  { name: "linear_1408x768to3072", kind: "linear", M: 1408, K: 768, N: 3072, reps: 3 },
  { name: "conv1x1_192to768_160x160", kind: "conv", Ci: 192, Co: 768, H: 160, W: 160, k: 1, groups: 1, reps: 3 },
  { name: "conv3x3_256to256_100x152", kind: "conv", Ci: 256, Co: 256, H: 100, W: 152, k: 3, groups: 1, reps: 3 },
  { name: "dwconv7x7_c192_256x256", kind: "conv", Ci: 192, Co: 192, H: 256, W: 256, k: 7, groups: 192, reps: 3 },
  { name: "softmax_8192x1024", kind: "softmax", rows: 8192, C: 1024, reps: 5 },
  { name: "layernorm_25600x768", kind: "layernorm", rows: 25600, C: 768, reps: 5 },
  { name: "msdeform_fcclip_640", kind: "msdeform", shapes: msShapes, Lq: 8400, M: 8, D: 32, P: 4, reps: 5 },
].map((c) => (quick ? { ...c, reps: 1 } : c));

function work(c) {
  switch (c.kind) {
    case "matmul":
    case "linear":
      return { gflop: (2 * c.M * c.K * c.N) / 1e9 };
    case "conv":
      return { gflop: (2 * c.H * c.W * c.Co * (c.Ci / c.groups) * c.k * c.k) / 1e9 };
    case "softmax":
    case "layernorm":
      return { gbytes: (2 * c.rows * c.C * 4) / 1e9 };
    case "msdeform": {
      const S = c.shapes.reduce((s, [h, w]) => s + h * w, 0);
      // Each output reads 12 points × 4 corners; count the sampled bytes plus value and output once.
      return { gbytes: (c.Lq * c.M * c.D * 12 * 4 * 4 + S * c.M * c.D * 4 + c.Lq * c.M * c.D * 4) / 1e9 };
    }
  }
}

const rand = (n) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

/**
 * The reference every matmul variant is measured against in the same run: one output per invocation, 16×16
 * workgroups, no blocking (shared/perf/MEASURED.md's "naive" GEMM).
 */
function naiveMatmul(e, a, b, M, K, N) {
  const out = e.empty([M, N]);
  const params = [
    ["M", "u32", M],
    ["N", "u32", N],
    ["K", "u32", K],
  ];
  e.run({
    name: "bench_naive_matmul",
    key: "",
    params,
    inputs: [a.binding(), b.binding()],
    outputs: [out.binding()],
    workgroups: [Math.ceil(N / 16), Math.ceil(M / 16), 1],
    wgsl: () => `${paramsStruct(params)}
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= p.N || g.y >= p.M) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) { acc += a[g.y * p.K + k] * b[k * p.N + g.x]; }
  c[g.y * p.N + g.x] = acc;
}`,
  });
  return out;
}

/** Kernel variants timed per case: matmul's families and the naive reference; other ops run the adapter's flavor. */
function variants(e, c) {
  if (c.kind === "matmul") return ["naive", "cpu", "cpu+texture", "cpu+weight texture", "gpu"];
  if (c.kind === "linear") return ["cpu", "cpu+texture", "cpu+weight texture", "gpu"];
  return [e.flavor];
}

function setup(e, c, variant) {
  switch (c.kind) {
    case "matmul": {
      const A = rand(c.M * c.K);
      const a = e.tensor(A, [c.M, c.K]);
      const b = e.tensor(rand(c.K * c.N), [c.K, c.N]);
      if (variant === "naive") return () => naiveMatmul(e, a, b, c.M, c.K, c.N);
      // A constant left operand (a weight) prepared as a texture once, as the ConvNeXt MLPs are.
      const aTexture = variant === "cpu+weight texture" ? MatrixTexture.tryCreate(e, A, c.M, c.K) : null;
      const flavor = variant === "gpu" ? "gpu" : "cpu";
      return () => matmul(a, b, { flavor, aTexture, stageTextures: variant !== "cpu" });
    }
    case "linear": {
      // x · Wᵀ with a Linear weight W [N, K] (the text tower's c_fc at 128 prompts of 11 tokens).
      const W = rand(c.N * c.K);
      const x = e.tensor(rand(c.M * c.K), [c.M, c.K]);
      const w = e.tensor(W, [c.N, c.K]);
      const bTexture = variant === "cpu+weight texture" ? MatrixTexture.tryCreate(e, W, c.N, c.K) : null;
      const flavor = variant === "gpu" ? "gpu" : "cpu";
      return () => matmul(x, w, { transB: true, flavor, bTexture, stageTextures: variant !== "cpu" });
    }
    case "conv": {
      const x = e.tensor(rand(c.Ci * c.H * c.W), [1, c.Ci, c.H, c.W]);
      const w = e.tensor(rand((c.Co * c.Ci * c.k * c.k) / c.groups), [c.Co, c.Ci / c.groups, c.k, c.k]);
      return () => conv2d(x, w, { padding: (c.k - 1) / 2, groups: c.groups });
    }
    case "softmax": {
      const x = e.tensor(rand(c.rows * c.C), [c.rows, c.C]);
      return () => softmax(x);
    }
    case "layernorm": {
      const x = e.tensor(rand(c.rows * c.C), [c.rows, c.C]);
      const w = e.tensor(rand(c.C), [c.C]);
      const b = e.tensor(rand(c.C), [c.C]);
      return () => layerNorm(x, w, b, { eps: 1e-6 });
    }
    case "msdeform": {
      const S = c.shapes.reduce((s, [h, w]) => s + h * w, 0);
      const L = c.shapes.length;
      const v = e.tensor(rand(S * c.M * c.D), [1, S, c.M, c.D]);
      const loc = e.tensor(
        Float32Array.from({ length: c.Lq * c.M * L * c.P * 2 }, () => Math.random()),
        [1, c.Lq, c.M, L, c.P, 2],
      );
      const aw = e.tensor(
        Float32Array.from({ length: c.Lq * c.M * L * c.P }, () => Math.random()),
        [1, c.Lq, c.M, L, c.P],
      );
      return () => msDeformAttnSample(v, c.shapes, loc, aw);
    }
  }
}

async function timeOp(e, fn, reps) {
  // The first run includes lavapipe's JIT compile of the pipeline; report it separately.
  let t0 = performance.now();
  fn().dispose();
  await e.sync();
  const firstMs = performance.now() - t0;
  const times = [];
  for (let i = 0; i < reps; i++) {
    t0 = performance.now();
    const y = fn();
    await e.sync();
    times.push(performance.now() - t0);
    y.dispose();
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)], bestMs: times[0], firstMs };
}

function torchTimes() {
  const py = "/usr/bin/python3";
  if (!existsSync(py)) return { available: false, reason: "/usr/bin/python3 not found" };
  try {
    execFileSync(py, ["-c", "import torch"], { stdio: "ignore" });
  } catch {
    return { available: false, reason: "python3-torch not installed (apt-get install python3-torch)" };
  }
  const out = execFileSync(
    py,
    [join(dirname(fileURLToPath(import.meta.url)), "torch_bench.py"), JSON.stringify(cases)],
    {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    },
  );
  return { available: true, ...JSON.parse(out) };
}

const e = await Engine.create();
const info = e.adapterInfo;
const results = [];
for (const c of cases) {
  for (const variant of variants(e, c)) {
    const fn = setup(e, c, variant);
    const t = await timeOp(e, fn, c.reps);
    const w = work(c);
    const s = t.medianMs / 1e3;
    results.push({
      name: c.name,
      variant,
      ...t,
      ...(w.gflop ? { gflops: w.gflop / s } : { gbps: w.gbytes / s }),
    });
    console.error(`${c.name} [${variant}] ${t.medianMs.toFixed(1)} ms`);
  }
}
e.destroy();
// Ratios, all from this run: speed over our naive kernel, and the fraction of PyTorch's speed (PyTorch's time over
// ours: 0.1 means PyTorch is 10× faster); for convs also against PyTorch's channels-last layout.
const torch = torchTimes();
for (const r of results) {
  const naive = results.find((x) => x.name === r.name && x.variant === "naive");
  if (naive && r !== naive) r.overNaive = naive.medianMs / r.medianMs;
  const ts = torch.available ? torch.seconds[r.name] : undefined;
  if (ts) {
    r.torchMs = ts * 1e3;
    r.fractionOfTorch = ts / (r.medianMs / 1e3);
  }
  const cl = torch.available ? torch.seconds[`${r.name}:channels_last`] : undefined;
  if (cl) {
    r.torchChannelsLastMs = cl * 1e3;
    r.fractionOfTorchChannelsLast = cl / (r.medianMs / 1e3);
  }
}
const report = {
  date: new Date().toISOString(),
  adapter: { vendor: info.vendor, architecture: info.architecture, description: info.description },
  engineFlavor: e.flavor,
  torch: torch.available ? { threads: 2, version: torch.torch, blas: torch.blas } : { skipped: torch.reason },
  results,
};
mkdirSync(join(root, "bench-results"), { recursive: true });
writeFileSync(join(root, "bench-results", "tensor-core.json"), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
