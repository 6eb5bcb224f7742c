// `npm run bench` (this package): the FC-CLIP text classifier at the official text-tower size (convnext_large_d_320:
// width 768, 16 layers, 12 heads, embed 768; seeded random weights, which do not change the time) on real prompts:
// COCO's class names × FC-CLIP's 14 templates from ../shared/data, tokenized with CLIP's BPE. Times per prompt:
//   - ours, buildTextClassifier as users meet it (prompts sorted by length, each batch cut at its longest prompt);
//   - ours, batches in vocabulary order (what the library did before sorting), for the ratio;
//   - PyTorch (Debian's torch, 2 threads) running the same prompts through a tower of the same shape as the official
//     code does, all 77 positions (text_bench.py), when /usr/bin/python3 has torch.
// Writes bench-results/text-classifier.json at the repo root. `--prompts N` changes how many (default 512);
// `--profile` prints where the sorted run's time goes.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Engine } from "@fcclip/tensor-core";
import {
  buildTextClassifier,
  ClipTextEncoder,
  ClipTokenizer,
  endTokenPositions,
  VILD_TEMPLATES,
} from "../dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const shared = join(root, "..", "shared");
const bpePath = join(shared, "data", "tokenizer", "bpe_simple_vocab_16e6.txt.gz");
const vocabPath = join(shared, "data", "vocab", "coco_panoptic_with_prompt_eng.txt");
if (![bpePath, vocabPath].every(existsSync)) {
  console.error(`skipped: needs ${bpePath} and ${vocabPath}`);
  process.exit(0);
}
const arg = process.argv.indexOf("--prompts");
const PROMPTS = arg > 0 ? Number(process.argv[arg + 1]) : 512;
const SHAPE = { width: 768, layers: 16, heads: 12 };
const EMBED = 768;
const BATCH = 128;

// COCO's synonyms (the `<id>:<syn>,<syn>` lines after the invalid class 0), enough of them for PROMPTS prompts.
const synonyms = readFileSync(vocabPath, "utf8")
  .split("\n")
  .slice(1)
  .filter((l) => l.includes(":"))
  .flatMap((l) => l.slice(l.indexOf(":") + 1).split(","));
const classes = synonyms.slice(0, Math.ceil(PROMPTS / VILD_TEMPLATES.length)).map((s) => [s]);
const prompts = classes.flatMap(([s]) => VILD_TEMPLATES.map((t) => t.replace("{}", s)));

/** Deterministic weights, variance-preserving (xorshift uniforms). */
function weights() {
  let state = 0x9e3779b9;
  const rand = (n, scale) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      a[i] = ((state >>> 0) / 4294967296 - 0.5) * 2 * scale;
    }
    return a;
  };
  const W = SHAPE.width;
  const t = new Map();
  const put = (k, shape, scale, fill) => {
    const n = shape.reduce((x, y) => x * y, 1);
    t.set(k, { shape, data: fill === undefined ? rand(n, scale) : new Float32Array(n).fill(fill) });
  };
  put("token_embedding.weight", [49408, W], 0.02);
  put("positional_embedding", [77, W], 0.01);
  put("ln_final.weight", [W], 0, 1);
  put("ln_final.bias", [W], 0, 0);
  put("text_projection", [W, EMBED], W ** -0.5);
  for (let i = 0; i < SHAPE.layers; i++) {
    const b = `transformer.resblocks.${i}.`;
    for (const n of ["ln_1", "ln_2"]) {
      put(`${b}${n}.weight`, [W], 0, 1);
      put(`${b}${n}.bias`, [W], 0, 0);
    }
    put(`${b}attn.in_proj_weight`, [3 * W, W], W ** -0.5);
    put(`${b}attn.in_proj_bias`, [3 * W], 0.02);
    put(`${b}attn.out_proj.weight`, [W, W], W ** -0.5);
    put(`${b}attn.out_proj.bias`, [W], 0.02);
    put(`${b}mlp.c_fc.weight`, [4 * W, W], W ** -0.5);
    put(`${b}mlp.c_fc.bias`, [4 * W], 0.02);
    put(`${b}mlp.c_proj.weight`, [W, 4 * W], (4 * W) ** -0.5);
    put(`${b}mlp.c_proj.bias`, [W], 0.02);
  }
  return {
    read: async (k) => {
      const v = t.get(k);
      return { dtype: "F32", shape: v.shape, bytes: new Uint8Array(v.data.buffer) };
    },
  };
}

function torchSeconds(tokens) {
  const py = "/usr/bin/python3";
  try {
    execFileSync(py, ["-c", "import torch"], { stdio: "ignore" });
  } catch {
    return { skipped: "python3-torch not installed (apt-get install python3-torch)" };
  }
  const rows = [];
  for (let r = 0; r < prompts.length; r++) rows.push(Array.from(tokens.subarray(r * 77, (r + 1) * 77)));
  const job = JSON.stringify({ ...SHAPE, embed: EMBED, batch: BATCH, tokens: rows });
  const out = execFileSync(py, [join(here, "text_bench.py")], { input: job, encoding: "utf8", maxBuffer: 1 << 20 });
  return JSON.parse(out);
}

const engine = await Engine.create();
const tokenizer = await ClipTokenizer.fromGzip(new Uint8Array(readFileSync(bpePath)));
const encoder = await ClipTextEncoder.load(engine, weights(), "", SHAPE);
const tokens = tokenizer.tokenize(prompts);
// Warm-up: every pipeline the tower uses, so both timings below are warm.
(await encoder.encodeTokens(tokens.subarray(0, 8 * 77), 8).read()).length;

let t = performance.now();
for (let s = 0; s < prompts.length; s += BATCH) {
  const n = Math.min(BATCH, prompts.length - s);
  const y = encoder.encodeTokens(tokens.subarray(s * 77, (s + n) * 77), n);
  await y.read();
  y.dispose();
}
const unsortedSeconds = (performance.now() - t) / 1000;
const profile = process.argv.includes("--profile");
if (profile) engine.startProfile();
t = performance.now();
await buildTextClassifier(encoder, tokenizer, classes, { batchSize: BATCH });
const oursSeconds = (performance.now() - t) / 1000;
if (profile) console.error((await engine.stopProfile()).format(12));
const torch = process.argv.includes("--no-torch") ? { skipped: "--no-torch" } : torchSeconds(tokens);
const perPrompt = (s) => (s / prompts.length) * 1000;
// Positions the tower runs: each batch up to its longest prompt's end token.
const eot = endTokenPositions(tokens, prompts.length);
const positions = (order) => {
  let sum = 0;
  for (let s = 0; s < order.length; s += BATCH) {
    const rows = order.slice(s, s + BATCH);
    sum += rows.length * (Math.max(...rows.map((r) => eot[r])) + 1);
  }
  return sum;
};
const vocabularyOrder = [...prompts.keys()];
const sortedOrder = [...vocabularyOrder].sort((i, j) => eot[i] - eot[j]);
const lengths = Array.from(
  { length: prompts.length },
  (_, r) => tokens.subarray(r * 77, (r + 1) * 77).indexOf(49407) + 1,
);
const report = {
  date: new Date().toISOString(),
  adapter: engine.adapterInfo.description || engine.adapterInfo.vendor,
  tower: { ...SHAPE, embed: EMBED, context: 77 },
  prompts: prompts.length,
  batch: BATCH,
  meanTokens: lengths.reduce((a, b) => a + b, 0) / lengths.length,
  positionsRun: {
    sorted: positions(sortedOrder),
    vocabularyOrder: positions(vocabularyOrder),
    official: 77 * prompts.length,
  },
  msPerPrompt: {
    ours: perPrompt(oursSeconds),
    oursVocabularyOrder: perPrompt(unsortedSeconds),
    ...(torch.seconds ? { pytorchAll77Positions: perPrompt(torch.seconds) } : {}),
  },
  ratios: {
    sortedOverVocabularyOrder: oursSeconds / unsortedSeconds,
    ...(torch.seconds ? { oursOverPytorch: oursSeconds / torch.seconds } : { pytorch: torch.skipped }),
  },
  ...(torch.torch ? { torch: torch.torch } : {}),
};
mkdirSync(join(root, "bench-results"), { recursive: true });
writeFileSync(join(root, "bench-results", "text-classifier.json"), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
encoder.dispose();
engine.destroy();
