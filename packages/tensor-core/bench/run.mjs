// `npm run bench`: times the engine's main kernels on this machine's adapter and, when Debian's PyTorch is
// installed, the same ops in PyTorch CPU in the same run. Writes bench-results/tensor-core.json at the repo root.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { conv2d, Engine, layerNorm, matmul, msDeformAttnSample, softmax } from "../dist/index.js";

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
  { name: "conv1x1_192to768_160x160", kind: "conv", Ci: 192, Co: 768, H: 160, W: 160, k: 1, groups: 1, reps: 3 },
  { name: "dwconv7x7_c192_256x256", kind: "conv", Ci: 192, Co: 192, H: 256, W: 256, k: 7, groups: 192, reps: 3 },
  { name: "softmax_8192x1024", kind: "softmax", rows: 8192, C: 1024, reps: 5 },
  { name: "layernorm_25600x768", kind: "layernorm", rows: 25600, C: 768, reps: 5 },
  { name: "msdeform_fcclip_640", kind: "msdeform", shapes: msShapes, Lq: 8400, M: 8, D: 32, P: 4, reps: 5 },
].map((c) => (quick ? { ...c, reps: 1 } : c));

function work(c) {
  switch (c.kind) {
    case "matmul":
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

function setup(e, c, flavor) {
  switch (c.kind) {
    case "matmul": {
      const a = e.tensor(rand(c.M * c.K), [c.M, c.K]);
      const b = e.tensor(rand(c.K * c.N), [c.K, c.N]);
      return () => matmul(a, b, { flavor });
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
  const flavors = c.kind === "matmul" ? ["cpu", "gpu"] : [e.flavor];
  for (const flavor of flavors) {
    const fn = setup(e, c, flavor);
    const t = await timeOp(e, fn, c.reps);
    const w = work(c);
    const s = t.medianMs / 1e3;
    results.push({
      name: c.name,
      flavor,
      ...t,
      ...(w.gflop ? { gflops: w.gflop / s } : { gbps: w.gbytes / s }),
    });
    console.error(`${c.name} [${flavor}] ${t.medianMs.toFixed(1)} ms`);
  }
}
const torch = torchTimes();
for (const r of results) {
  const ts = torch.available ? torch.seconds[r.name] : undefined;
  if (ts) {
    r.torchMs = ts * 1e3;
    r.torchOverWebgpu = ts / (r.medianMs / 1e3);
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
e.destroy();
