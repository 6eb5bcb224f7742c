// `npm run bench` (this package): the full-size FC-CLIP cases of tools/fullsize/make_reference.py, ConvNeXt-L (official
// shapes from ../shared/data/fcclip_convnext_large_manifest.json) and RN50 (the same heads on OpenAI's ResNet-50 CLIP,
// tools/fullsize/manifest.mjs), their seeded weights rebuilt here without torch, on chelsea at 800×1203 (padded
// 800×1216) with ADE20K-150, per stage, cold and warm, each run profiled, next to the plain-PyTorch model of the
// reference check timed in the same run when torch is installed (`--no-torch` skips it). The results are checked,
// not only timed: every stage and the final outputs against fullsize-digest*.json, which the reference generator
// wrote. Writes bench-results/fcclip.json at the repo root (both cases, and RN50's time over ConvNeXt-L's) and exits 1
// when a result departs from its digest. `--clip rn50` (or convnext-l) runs one case; `--size 320` a quicker,
// unchecked one.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Engine } from "@fcclip/tensor-core";
import { ClipTokenizer } from "@fcclip/text-encoder";
import { FcclipModel, inferArchitecture } from "../dist/index.js";
import { decodeImage } from "../dist/node.js";
import { prepareVocabulary } from "../tools/fullsize/case.mjs";
import { digestError, matchInstances } from "../tools/fullsize/compare.mjs";
import { CLIPS, fullsizeManifest } from "../tools/fullsize/manifest.mjs";
import { seededWeight, unitRows, weightsSha256 } from "./seeded-weights.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const shared = join(root, "..", "shared");
const manifestPath = join(shared, "data", "fcclip_convnext_large_manifest.json");
const bpePath = join(shared, "data", "tokenizer", "bpe_simple_vocab_16e6.txt.gz");
const chelseaPath = join(shared, "oracle", "tiny", "images", "chelsea.png");
if (![manifestPath, bpePath, chelseaPath].every(existsSync)) {
  console.error(`skipped: needs ${manifestPath}, ${bpePath} and ${chelseaPath}`);
  process.exit(0);
}
const argValue = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const short = Number(argValue("--size") ?? 800);
const checked = short === 800;
const clips = argValue("--clip") ? [argValue("--clip")] : CLIPS;
const TOL = 1e-3;

/**
 * The plain-PyTorch full-size model of the reference check (make_reference.py --time-only: same architecture, same
 * seeded weights, same image and vocabulary), timed cold and warm per stage in this run; null without torch.
 */
function pytorchSeconds(clip, manifest) {
  const py = "/usr/bin/python3";
  try {
    execFileSync(py, ["-c", "import torch, PIL"], { stdio: "ignore" });
  } catch {
    return { skipped: "python3-torch or python3-pil not installed" };
  }
  const script = join(here, "..", "tools", "fullsize", "make_reference.py");
  const dir = mkdtempSync(join(tmpdir(), "fcclip-bench-"));
  try {
    const file = join(dir, "manifest.json");
    writeFileSync(file, JSON.stringify(manifest));
    const args = [script, "--time-only", "--clip", clip, "--manifest", file];
    const out = execFileSync(py, args, { encoding: "utf8", maxBuffer: 1 << 20 });
    return JSON.parse(out.trim().split("\n").at(-1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const engine = await Engine.create();
const tokenizer = await ClipTokenizer.fromGzip(new Uint8Array(readFileSync(bpePath)));
const image = decodeImage(readFileSync(chelseaPath));

/** One full-size case: seeded weights, cold and warm profiled runs, the check, then PyTorch's time. */
async function runCase(clip) {
  const manifest = fullsizeManifest(clip, shared);
  const digestFile = clip === "convnext-l" ? "fullsize-digest.json" : `fullsize-digest-${clip}.json`;
  const digest = JSON.parse(readFileSync(join(here, digestFile), "utf8"));
  let t = performance.now();
  const sha = weightsSha256(manifest);
  if (sha !== digest.weights_sha256) {
    console.error(`seeded weights differ from the reference generator's (${sha} vs ${digest.weights_sha256})`);
    return { clip, failures: [`seeded weights: ${sha} vs ${digest.weights_sha256}`] };
  }
  const weightsSeconds = (performance.now() - t) / 1000;
  const entries = new Map(manifest.keys.map((k, i) => [k.key, { index: i, shape: k.shape }]));
  const weights = {
    architecture: inferArchitecture(new Map([...entries].map(([k, v]) => [k, v.shape]))),
    files: [],
    keys: () => [...entries.keys()],
    info: (k) => ({ dtype: "F32", shape: entries.get(k).shape }),
    read: async (k) => {
      const { index, shape } = entries.get(k);
      return { dtype: "F32", shape, bytes: new Uint8Array(seededWeight(index, k, shape).buffer) };
    },
    close: async () => {},
  };

  t = performance.now();
  const model = await FcclipModel.load(engine, weights, tokenizer, { minSize: short, maxSize: 1333 });
  const loadMs = performance.now() - t;
  const { vocab, seen } = await prepareVocabulary(model, shared, "ade20k_150", (v) =>
    unitRows(
      manifest.keys.length,
      v.classes.reduce((s, c) => s + c.synonyms.length, 0),
      weights.architecture.clip.embedDim,
    ),
  );
  // Two runs of the same image: cold (every pipeline's first dispatch, with lavapipe's JIT compile) and warm. Both are
  // profiled (GPU timestamps per dispatch; stage ends sync, as the stage timings need anyway).
  async function timedRun(dump) {
    const stages = {};
    engine.startProfile();
    const result = await model.segment(image, vocab, { seen, dump, onStage: (s, ms) => (stages[s] = ms / 1000) });
    const profile = await engine.stopProfile();
    console.error(profile.format(25));
    return { result, stages, total: Object.values(stages).reduce((a, b) => a + b, 0), profile: profile.summary(25) };
  }
  const cold = await timedRun(checked);
  const warm = await timedRun(false);
  const result = cold.result;

  const check = { tolerance: TOL, stages: {}, failures: [] };
  if (checked) {
    for (const [name, d] of Object.entries(digest.stages)) {
      const ours = result.tensors.get(name === "decoder.pred_logits.9" ? "decoder.pred_logits" : name);
      if (!ours) continue;
      const err = digestError(ours.data, d);
      check.stages[name] = err;
      if (!(err <= TOL)) check.failures.push(`${name}: ${err.toExponential(2)} of its range`);
    }
    const hist = new Array(vocab.classes.length).fill(0);
    for (const c of result.semantic) hist[c]++;
    const moved = hist.reduce((s, n, c) => s + Math.abs(n - digest.semantic_histogram[c]), 0) / 2;
    check.semanticPixelsMoved = moved;
    if (moved > 0.001 * result.semantic.length) check.failures.push(`semantic: ${moved} pixels change class`);
    const segs = result.panoptic.segments;
    const same =
      segs.length === digest.segments.length &&
      segs.every((s, i) => {
        const r = digest.segments[i];
        return s.category_id === r.category_id && Math.abs(s.area - r.area) <= Math.max(2, 0.01 * r.area);
      });
    if (!same) check.failures.push(`panoptic: segments ${JSON.stringify(segs.map((s) => [s.category_id, s.area]))}`);
    const inst = matchInstances(result.instances, digest.instances);
    check.instancesUnmatched = inst.misses.length + inst.extra;
    if (!inst.equal) check.failures.push(`instances: ${inst.misses.length} unmatched, ${inst.extra} extra`);
  }
  // The warm run must give the cold run's result.
  if (!warm.result.semantic.every((c, i) => c === result.semantic[i]))
    check.failures.push("warm run: the semantic map differs from the cold run's");
  model.dispose();
  const rowsOut = [...Object.keys(cold.stages), "total"].map((stage) => ({
    stage,
    coldSeconds: stage === "total" ? cold.total : cold.stages[stage],
    warmSeconds: stage === "total" ? warm.total : warm.stages[stage],
  }));
  return {
    manifest,
    clip,
    failures: check.failures,
    input: `chelsea ${short}×${Math.round((short * 451) / 300)}`,
    note: `cold: the first run, with the one-time shader compilation (lavapipe JIT-compiles each pipeline on first dispatch)${checked ? "; its intermediates are kept for the check, their read-back is not timed" : ""}; warm: the same image again`,
    weightsSeconds,
    loadSeconds: loadMs / 1000,
    stages: rowsOut,
    profile: { cold: cold.profile, warm: warm.profile },
    check: checked ? { pass: check.failures.length === 0, ...check } : "not checked (--size other than 800)",
  };
}

/** PyTorch's times for a case, set beside ours per stage. */
function addPytorch(c) {
  if (!c.manifest) return;
  const torch =
    checked && !process.argv.includes("--no-torch") ? pytorchSeconds(c.clip, c.manifest) : { skipped: "not run" };
  const sumOf = (o) => Object.values(o).reduce((a, b) => a + b, 0);
  for (const row of c.stages ?? []) {
    const theirs = torch.warm ? (row.stage === "total" ? sumOf(torch.warm) : torch.warm[row.stage]) : undefined;
    if (theirs !== undefined)
      Object.assign(row, { pytorchWarmSeconds: theirs, warmOverPytorch: row.warmSeconds / theirs });
  }
  c.pytorch = torch.warm ? { threads: torch.threads, version: torch.torch, cold: torch.cold, warm: torch.warm } : torch;
  delete c.manifest;
}

const cases = {};
for (const clip of clips) cases[clip] = await runCase(clip);
const adapter = engine.adapterInfo.description || engine.adapterInfo.vendor;
const engineFlavor = engine.flavor;
// PyTorch runs after our engine is gone: Dawn polls a core while it is alive, and the two must not share the cores.
engine.destroy();
for (const c of Object.values(cases)) addPytorch(c);
const warmTotal = (c) => c.stages?.find((r) => r.stage === "total")?.warmSeconds;
const report = {
  date: new Date().toISOString(),
  adapter,
  engineFlavor,
  cases,
  ...(cases.rn50 && cases["convnext-l"]
    ? { rn50OverConvnextWarm: warmTotal(cases.rn50) / warmTotal(cases["convnext-l"]) }
    : {}),
};
const failures = Object.values(cases).flatMap((c) => c.failures.map((f) => `${c.clip}: ${f}`));
mkdirSync(join(root, "bench-results"), { recursive: true });
writeFileSync(join(root, "bench-results", "fcclip.json"), `${JSON.stringify(report, null, 2)}\n`);
const brief = Object.fromEntries(
  Object.entries(cases).map(([k, c]) => [k, { ...c, profile: undefined, check: c.check?.pass ?? c.check }]),
);
console.log(JSON.stringify({ ...report, cases: brief, failures }, null, 2));
process.exit(failures.length ? 1 : 0);
