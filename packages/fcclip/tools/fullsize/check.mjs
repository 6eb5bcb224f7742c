// `npm run check:fullsize`: runs our engine on the full-size reference case of make_reference.py (ConvNeXt-L FC-CLIP
// at the official shapes, chelsea at 800×1203 padded to 800×1216, ADE20K-150) and prints, per stage, the max error
// relative to the reference's range, then the final outputs against PyTorch's. Generates the reference first when
// it is missing and Debian's torch is installed. Writes bench-results/fullsize-check.json; exits 1 on a divergence.
// With --f16 the weights are first converted by `fcclip convert --f16` and the same comparisons measure how far the
// f16 bundle's outputs are from the float32 reference (reported; stages are not held to the float32 tolerance).
// With --clip rn50 the case is FC-CLIP RN50 (tools/fullsize/manifest.mjs), its reference in .fullsize-rn50.
//   node tools/fullsize/check.mjs [--clip convnext-l|rn50] [--reference DIR] [--regenerate] [--f16]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Engine, fileSource, openStateDict, toFloat32 } from "@fcclip/tensor-core";
import { ClipTokenizer } from "@fcclip/text-encoder";
import { FcclipModel, loadFcclipWeights } from "../../dist/index.js";
import { decodeImage } from "../../dist/node.js";
import { prepareVocabulary } from "./case.mjs";
import { matchInstances, matchPanoptic, relError, semanticAgreement } from "./compare.mjs";
import { CLIPS, fullsizeManifest } from "./manifest.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..", "..");
const root = join(pkg, "..", "..");
const shared = join(root, "..", "shared");
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const clip = arg("--clip") ?? "convnext-l";
if (!CLIPS.includes(clip)) {
  console.error(`--clip must be one of ${CLIPS.join(", ")}, got ${clip}`);
  process.exit(2);
}
const refDir = resolve(arg("--reference") ?? join(pkg, clip === "convnext-l" ? ".fullsize" : `.fullsize-${clip}`));
const f16 = process.argv.includes("--f16");
const TOL = 1e-3;

if (!existsSync(join(shared, "data")) || !existsSync(join(shared, "oracle"))) {
  console.error(`check:fullsize needs ${shared} (data/ and oracle/)`);
  process.exit(2);
}
if (process.argv.includes("--regenerate") || !existsSync(join(refDir, "reference.json"))) {
  const probe = spawnSync("/usr/bin/python3", ["-c", "import torch, PIL"], { stdio: "ignore" });
  if (probe.status !== 0) {
    console.error(
      `no full-size reference in ${refDir}, and /usr/bin/python3 cannot import torch and PIL to make one: ` +
        "apt-get install python3-torch python3-pil, then run this again",
    );
    process.exit(2);
  }
  console.error(`writing the PyTorch reference into ${refDir} (about a minute, 2.5 GB)…`);
  mkdirSync(refDir, { recursive: true });
  const manifest = join(refDir, "manifest.json");
  writeFileSync(manifest, JSON.stringify(fullsizeManifest(clip, shared)));
  const args = [join(here, "make_reference.py"), "--out", refDir, "--clip", clip, "--manifest", manifest];
  const gen = spawnSync("/usr/bin/python3", args, { stdio: "inherit" });
  if (gen.status !== 0) process.exit(gen.status ?? 1);
}

const info = JSON.parse(readFileSync(join(refDir, "reference.json"), "utf8"));
const ref = await openStateDict(await fileSource(join(refDir, "reference.safetensors")));
const refTensor = async (k) => toFloat32(await ref.read(k));
let weightsFile = join(refDir, "weights.safetensors");
if (f16) {
  weightsFile = join(refDir, "bundle-f16.safetensors");
  if (!existsSync(weightsFile)) {
    const cli = join(pkg, "dist", "cli", "bin.js");
    const args = ["convert", "--weights", join(refDir, "weights.safetensors"), "--output", join(refDir, "bundle-f16")];
    const conv = spawnSync(process.execPath, [cli, ...args, "--f16"], { stdio: "inherit" });
    if (conv.status !== 0) process.exit(conv.status ?? 1);
  }
}
const engine = await Engine.create();
const weights = await loadFcclipWeights([await fileSource(weightsFile)]);
const tokenizer = await ClipTokenizer.fromGzip(
  new Uint8Array(readFileSync(join(shared, "data", "tokenizer", "bpe_simple_vocab_16e6.txt.gz"))),
);
let t = performance.now();
const model = await FcclipModel.load(engine, weights, tokenizer, { minSize: info.min_size, maxSize: info.max_size });
console.error(`loaded in ${((performance.now() - t) / 1000).toFixed(1)} s on ${engine.adapterInfo.description}`);

// The reference's classifier rows stand in for the text tower's (which is checked on its own below).
const classifier = await openStateDict(await fileSource(join(refDir, "classifier.safetensors")));
const { vocab, seen } = await prepareVocabulary(model, shared, info.vocab, async () =>
  toFloat32(await classifier.read("text.classifier")),
);
if (seen.join() !== info.seen.join()) throw new Error("the seen mask differs from the reference's");

const image = decodeImage(readFileSync(join(shared, info.image)));
const seconds = {};
t = performance.now();
const result = await model.segment(image, vocab, {
  seen,
  dump: true,
  onStage: (s, ms) => {
    seconds[s] = ms / 1000;
    console.error(`  ${s}: ${(ms / 1000).toFixed(1)} s`);
  },
});
seconds.total = (performance.now() - t) / 1000;

// Per stage: our dump names are the reference's, but for the final prediction and the duplicate clip_vis_dense.
const alias = { "decoder.pred_logits": "decoder.pred_logits.9", "backbone.clip_vis_dense": "backbone.res5" };
const stages = [];
const refKeys = new Set(ref.keys());
for (const [name, ours] of result.tensors) {
  const refName = alias[name] ?? name;
  if (!refKeys.has(refName)) continue;
  const r = await refTensor(refName);
  if (r.length !== ours.data.length) {
    stages.push({ stage: name, relError: null, note: `${ours.data.length} values, reference ${r.length}` });
    continue;
  }
  stages.push({ stage: name, relError: relError(ours.data, r) });
}
const tokens = new Int32Array(toFloat32(await ref.read("text.tokens")));
const n = tokens.length / 77;
const feats = model.textEncoder.encodeTokens(tokens, n);
stages.push({
  stage: `text.prompt_features (${n} prompts)`,
  relError: relError(await feats.read(), await refTensor("text.prompt_features")),
});
feats.dispose();

const [Ho, Wo] = info.original_hw;
const sem = semanticAgreement(
  result.semantic,
  Int32Array.from(await refTensor("out.semantic")),
  await refTensor("out.sem_seg.top1"),
  await refTensor("out.sem_seg.top2"),
);
const pan = matchPanoptic(
  result.panoptic.ids,
  result.panoptic.segments,
  Int32Array.from(await refTensor("out.panoptic_seg")),
  info.segments,
);
const inst = matchInstances(result.instances, info.instances);

for (const s of stages) {
  const e = s.relError === null ? s.note : s.relError.toExponential(2);
  console.log(`${s.relError !== null && s.relError <= TOL ? "ok  " : "FAIL"} ${s.stage.padEnd(40)} ${e}`);
}
console.log(
  `${sem.agreement >= 0.999 ? "ok  " : "FAIL"} semantic map: ${(100 * sem.agreement).toFixed(3)} % of ${sem.counted} untied pixels (of ${Ho * Wo})`,
);
for (const r of pan.rows)
  console.log(
    `${r.ok ? "ok  " : "FAIL"} panoptic segment ${r.id} (class ${r.category_id}): best IoU ${r.bestIoU.toFixed(4)}, our class ${r.oursClass}`,
  );
if (pan.extra.length) console.log(`FAIL panoptic: ${pan.extra.length} segments of ours match none`);
console.log(
  `${inst.equal ? "ok  " : "FAIL"} instances: ${info.instances.length} reference, ${result.instances.length} ours, ` +
    `${inst.misses.length} unmatched, max score error ${inst.maxScoreError.toExponential(2)}`,
);
console.log(`seconds: ${JSON.stringify(seconds)} (PyTorch reference: ${JSON.stringify(info.pytorch_seconds)})`);

const pass =
  f16 ||
  (stages.every((s) => s.relError !== null && s.relError <= TOL) && sem.agreement >= 0.999 && pan.equal && inst.equal);
mkdirSync(join(root, "bench-results"), { recursive: true });
writeFileSync(
  join(root, "bench-results", `fullsize-check${clip === "convnext-l" ? "" : `-${clip}`}${f16 ? "-f16" : ""}.json`),
  `${JSON.stringify({ date: new Date().toISOString(), adapter: engine.adapterInfo.description, flavor: engine.flavor, pass, tolerance: TOL, stages, semantic: sem, panoptic: pan, instances: { ...inst, misses: inst.misses.slice(0, 20) }, seconds }, null, 2)}\n`,
);
console.log(
  f16
    ? "f16 bundle against the float32 reference: see above"
    : pass
      ? "full size equals the reference"
      : "full size DIVERGES from the reference",
);
model.dispose();
engine.destroy();
process.exit(pass ? 0 : 1);
