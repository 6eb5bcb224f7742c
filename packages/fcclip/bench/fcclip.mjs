// `npm run bench` (this package): a full-size ConvNeXt-L FC-CLIP with random weights of the official shapes
// (../shared/data/fcclip_convnext_large_manifest.json) on an 800×1203 image (padded to 800×1216), per stage, next
// to the official PyTorch CPU times measured on this kind of machine (../shared/perf/MEASURED.md).
// Writes bench-results/fcclip.json at the repo root. Pass --size 320 for a quicker, smaller run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Engine } from "@fcclip/tensor-core";
import { ClipTokenizer } from "@fcclip/text-encoder";
import { FcclipModel, inferArchitecture, parseInlineVocabulary } from "../dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const shared = join(root, "..", "shared");
const manifestPath = join(shared, "data", "fcclip_convnext_large_manifest.json");
const bpePath = join(shared, "data", "tokenizer", "bpe_simple_vocab_16e6.txt.gz");
if (!existsSync(manifestPath) || !existsSync(bpePath)) {
  console.error(`skipped: needs ${manifestPath} and ${bpePath}`);
  process.exit(0);
}
const sizeArg = process.argv.indexOf("--size");
const short = sizeArg > 0 ? Number(process.argv[sizeArg + 1]) : 800;

// Official PyTorch 1.13 CPU medians (2 threads), full ConvNeXt-L, chelsea 800×1203 → 800×1216 (MEASURED.md).
const PYTORCH = {
  backbone: 9.85,
  "pixel decoder": 5.79,
  "transformer decoder": 4.05,
  "post-processing": 0.8,
  total: 20.43,
};

const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const shapes = new Map(manifest.keys.map((k) => [k.key, k.shape]));
// Deterministic small random weights; norm scales at 1 and layer scales small keep activations finite.
let seed = 1;
const rand = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32 - 0.5;
};
const weights = {
  architecture: inferArchitecture(shapes),
  files: [],
  keys: () => [...shapes.keys()],
  info: (k) => ({ dtype: "F32", shape: shapes.get(k) }),
  read: async (k) => {
    const shape = shapes.get(k);
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    const one =
      /norm\d?\.weight$|\.1\.weight$|ln_\d\.weight$|ln_final\.weight$|norm\.weight$/.test(k) && shape.length === 1;
    for (let i = 0; i < n; i++) v[i] = one ? 1 : rand() * 0.04;
    if (k.endsWith("gamma")) v.fill(1e-2);
    if (k.endsWith("logit_scale")) v.fill(Math.log(1 / 0.07));
    return { dtype: "F32", shape, bytes: new Uint8Array(v.buffer) };
  },
  close: async () => {},
};

const engine = await Engine.create();
const tokenizer = await ClipTokenizer.fromGzip(new Uint8Array(readFileSync(bpePath)));
let t = performance.now();
const model = await FcclipModel.load(engine, weights, tokenizer, { minSize: short, maxSize: 1333 });
const loadMs = performance.now() - t;
const vocab = parseInlineVocabulary("cat;dog;sofa;wall;floor;stuff:sky");
t = performance.now();
await model.textClassifier(vocab);
const textMs = performance.now() - t;
const width = Math.round((short * 1203) / 800);
const img = { width, height: short, data: Uint8Array.from({ length: width * short * 3 }, (_, i) => (i * 7919) % 251) };
const seen = Uint8Array.from(vocab.classes, () => 1);
const stages = {};
t = performance.now();
await model.segment(img, vocab, { seen, onStage: (s, ms) => (stages[s] = ms / 1000) });
const total = (performance.now() - t) / 1000;
const rows = Object.entries(stages).map(([stage, s]) => ({
  stage,
  seconds: s,
  pytorchSeconds: short === 800 ? (PYTORCH[stage] ?? null) : null,
}));
rows.push({ stage: "total", seconds: total, pytorchSeconds: short === 800 ? PYTORCH.total : null });
const report = {
  date: new Date().toISOString(),
  adapter: engine.adapterInfo.description || engine.adapterInfo.vendor,
  engineFlavor: engine.flavor,
  input: `${short}×${width}`,
  note: "first run: includes the one-time shader compilation (lavapipe JIT-compiles each pipeline on first dispatch)",
  loadSeconds: loadMs / 1000,
  textClassifierSeconds: textMs / 1000,
  textPrompts: vocab.classes.reduce((s, c) => s + c.synonyms.length, 0) * 14,
  stages: rows,
};
mkdirSync(join(root, "bench-results"), { recursive: true });
writeFileSync(join(root, "bench-results", "fcclip.json"), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
model.dispose();
engine.destroy();
