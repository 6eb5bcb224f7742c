// Evaluation speed: PQ matching, the semantic confusion matrix, RLE encoding of ground-truth and predicted masks,
// pycocotools-style matching per image, then the dataset accumulation (PQ average, mIoU, 101-point AP), on synthetic
// panoptic images. Reports time per image and per megapixel: 2,000 images at one size, and the same work at four
// sizes to show it is linear in pixels. Writes bench-results/fcclip-eval.json.
// Usage: node bench/eval.mjs [--images 2000] [--size 640x480]
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  addPqStat,
  evaluateImage,
  maskAp,
  pqAverage,
  pqComputeSingle,
  rlesFromLabelMap,
  SemSegConfusion,
  semSegMetrics,
} from "../dist/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const IMAGES = Number(arg("--images", "2000"));
const [W0, H0] = arg("--size", "640x480").split("x").map(Number);
const K = 133;
const categories = Array.from({ length: K }, (_, k) => ({ id: k + 1, name: `c${k}`, isthing: k < 80 }));
const categoryIds = new Set(categories.map((c) => c.id));

/** Deterministic xorshift32 in [0, 1). */
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** A panoptic image: 4 stuff bands and 16 thing rectangles (sizes relative to the image), and a shifted prediction. */
function synthetic(seed, W, H) {
  const r = rng(seed);
  const gt = new Int32Array(W * H);
  const pred = new Int32Array(W * H);
  const segments = [];
  const predSegments = [];
  const paint = (ids, id, x0, y0, w, h) => {
    for (let y = Math.max(0, y0); y < Math.min(H, y0 + h); y++)
      ids.fill(id, y * W + Math.max(0, x0), y * W + Math.min(W, x0 + w));
  };
  for (let s = 0; s < 20; s++) {
    const stuff = s < 4;
    const category_id = stuff ? 81 + Math.floor(r() * 53) : 1 + Math.floor(r() * 80);
    const w = stuff ? W : Math.max(1, Math.floor(r() * W * 0.3));
    const h = stuff ? Math.ceil(H / 4) : Math.max(1, Math.floor(r() * H * 0.3));
    const x = stuff ? 0 : Math.floor(r() * (W - w));
    const y = stuff ? s * Math.ceil(H / 4) : Math.floor(r() * (H - h));
    const id = s + 1;
    paint(gt, id, x, y, w, h);
    segments.push({ id, category_id, iscrowd: r() < 0.05 ? 1 : 0 });
    const dx = Math.round((r() - 0.5) * w * 0.2);
    const dy = Math.round((r() - 0.5) * h * 0.2);
    paint(pred, 100 + id, x + dx, y + dy, w, h);
    predSegments.push({ id: 100 + id, category_id: r() < 0.85 ? category_id : 1 + Math.floor(r() * K) });
  }
  for (let i = 0; i < W * H; i += 97) gt[i] = 0; // scattered VOID pixels
  const keep = (list, ids) => {
    const present = new Set(ids);
    return list.filter((s) => present.has(s.id));
  };
  const gtSegs = keep(segments, gt);
  const predSegs = keep(predSegments, pred);
  const area = new Map();
  for (const id of gt) area.set(id, (area.get(id) ?? 0) + 1);
  for (const s of gtSegs) s.area = area.get(s.id);
  const scores = predSegs.map(() => Math.round(r() * 1000) / 1000);
  return { W, H, gt, pred, gtSegs, predSegs, scores };
}

function evaluate(img) {
  const { W, H, gt, pred, gtSegs, predSegs, scores } = img;
  const pq = pqComputeSingle({ ids: gt, segments: gtSegs }, { ids: pred, segments: predSegs }, categoryIds);
  const contiguous = new Map(gtSegs.map((s) => [s.id, s.category_id - 1]));
  const semGt = gt.map((id) => contiguous.get(id) ?? 255);
  const predClass = new Map(predSegs.map((s) => [s.id, s.category_id - 1]));
  const semPred = pred.map((id) => predClass.get(id) ?? 0);
  const conf = new SemSegConfusion(K, 255);
  conf.add(semPred, semGt);
  const things = gtSegs.filter((s) => s.category_id <= 80);
  const gtRles = rlesFromLabelMap(
    gt,
    H,
    W,
    things.map((s) => s.id),
  );
  const predThings = predSegs.filter((s) => s.category_id <= 80);
  const dtRles = rlesFromLabelMap(
    pred,
    H,
    W,
    predThings.map((s) => s.id),
  );
  const inst = evaluateImage(
    things.map((s) => ({
      category_id: s.category_id,
      iscrowd: s.iscrowd === 1,
      area: s.area,
      counts: gtRles.get(s.id),
    })),
    predThings.map((s, i) => ({ category_id: s.category_id, score: scores[i], counts: dtRles.get(s.id) })),
  );
  return { pq, sparse: conf.toSparse(), inst };
}

function accumulate(results) {
  const stat = new Map();
  const conf = new SemSegConfusion(K, 255);
  for (const r of results) {
    addPqStat(stat, r.pq);
    conf.addSparse(r.sparse);
  }
  return {
    pq: pqAverage(stat, categories).pq,
    mIoU: semSegMetrics(conf).mIoU,
    AP: maskAp(
      results.map((r) => r.inst),
      categories.filter((c) => c.isthing).map((c) => c.id),
    ).AP,
  };
}

function run(n, W, H) {
  let evalMs = 0;
  const results = [];
  for (let i = 0; i < n; i++) {
    const img = synthetic(i + 1, W, H);
    const t0 = performance.now();
    results.push(evaluate(img));
    evalMs += performance.now() - t0;
  }
  const t0 = performance.now();
  const metrics = accumulate(results);
  const accumulateMs = performance.now() - t0;
  const mp = (n * W * H) / 1e6;
  return {
    images: n,
    size: `${W}x${H}`,
    megapixels: Number(mp.toFixed(2)),
    per_image_ms: Number((evalMs / n).toFixed(3)),
    ms_per_megapixel: Number((evalMs / mp).toFixed(2)),
    accumulate_ms: Number(accumulateMs.toFixed(1)),
    total_s: Number(((evalMs + accumulateMs) / 1000).toFixed(2)),
    metrics: { PQ: 100 * metrics.pq, mIoU: 100 * metrics.mIoU, AP: 100 * metrics.AP },
  };
}

run(20, 160, 120); // warm-up (JIT)
const main = run(IMAGES, W0, H0);
console.log(
  `${main.images} images ${main.size}: ${main.per_image_ms} ms/image, ${main.ms_per_megapixel} ms/MP, accumulate ${main.accumulate_ms} ms, total ${main.total_s} s`,
);
const linearity = [
  [160, 120],
  [320, 240],
  [640, 480],
  [1280, 960],
].map(([w, h]) => {
  const r = run(100, w, h);
  console.log(`  ${r.size}: ${r.per_image_ms} ms/image, ${r.ms_per_megapixel} ms/MP`);
  return r;
});
const report = {
  what: "fcclip eval: per-image PQ matching, confusion matrix, RLE and COCO matching; then dataset accumulation",
  node: process.version,
  date: new Date().toISOString(),
  main,
  linearity,
};
mkdirSync(join(root, "bench-results"), { recursive: true });
writeFileSync(join(root, "bench-results", "fcclip-eval.json"), `${JSON.stringify(report, null, 2)}\n`);
console.log("wrote bench-results/fcclip-eval.json");
