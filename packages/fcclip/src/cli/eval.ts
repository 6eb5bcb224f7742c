/** `fcclip eval`: PQ / mIoU / mask AP of the model (or of existing predictions) on a dataset, resumable and sharded. */

import { basename } from "node:path";
import { type EvalFormat, openDataset } from "../eval/dataset-layouts.js";
import type { PanopticCategory } from "../eval/panoptic-quality.js";
import { readPrediction } from "../eval/prediction-files.js";
import {
  type MergedRun,
  mergeRuns,
  type RunManifest,
  runImages,
  type Shard,
  startRun,
  writeMetrics,
} from "../eval/runner.js";
import type { SummaryCategory } from "../eval/summary.js";
import { decodeImage } from "../image/decode.js";
import type { Task } from "../postprocess/inference.js";
import type { Vocabulary } from "../vocabulary/vocabulary.js";
import { progressBar } from "./progress.js";
import {
  checkModelFiles,
  type ModelArgs,
  openSegmenter,
  readInput,
  type Segmenter,
  vocabularyWithSeen,
} from "./segmenter.js";
import { UsageError } from "./usage-error.js";

export interface EvalArgs extends Omit<ModelArgs, "vocab" | "weights"> {
  dataset: string;
  format: EvalFormat;
  layout?: string;
  vocab?: string;
  output: string;
  /** A folder of `fcclip segment` results to score instead of running the model. */
  predictions?: string;
  weights?: string;
  resume: boolean;
  shard?: Shard;
  log: (s: string) => void;
  print: (s: string) => void;
}

/**
 * The dataset category of each vocabulary class: by position when the vocabulary lists the dataset's categories, by
 * name (any synonym) for an instances json whose categories are a subset (COCO's 80 things of the 133 classes).
 */
export function vocabularyToDataset(
  vocab: Vocabulary,
  categories: readonly PanopticCategory[],
  format: EvalFormat,
): (number | null)[] {
  const K = vocab.classes.length;
  if (categories.length === K) return categories.map((c) => c.id);
  if (format !== "coco-instances")
    throw new UsageError(
      `the vocabulary ${vocab.name} has ${K} classes, the dataset ${categories.length} categories; pass the --vocab of this dataset`,
    );
  const byName = new Map(categories.map((c) => [c.name.toLowerCase(), c.id]));
  const out = vocab.classes.map((c) => {
    for (const s of c.synonyms) {
      const id = byName.get(s.toLowerCase());
      if (id !== undefined) return id;
    }
    return null;
  });
  const unmatched = categories.filter((c) => !out.includes(c.id)).map((c) => c.name);
  if (unmatched.length)
    throw new UsageError(
      `no class of the vocabulary ${vocab.name} is named ${unmatched.slice(0, 5).join(", ")}${unmatched.length > 5 ? ", …" : ""}: pass a --vocab that names every category of the dataset`,
    );
  return out;
}

/** "I/N" with 0 ≤ I < N. */
export function parseShard(s: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count)
    throw new UsageError(`--shard must be I/N with 0 ≤ I < N (e.g. 0/4 … 3/4), not '${s}'`);
  return { index, count };
}

const fmt = (v: unknown) => (typeof v === "number" ? v.toFixed(2) : "n/a");

/** The headline numbers, one line per task, like detectron2's tables. */
function headline(merged: MergedRun): string {
  const m = merged.metrics;
  const lines: string[] = [];
  if (m.panoptic) {
    const p = m.panoptic;
    lines.push(
      `panoptic  PQ ${fmt(p.PQ)}  SQ ${fmt(p.SQ)}  RQ ${fmt(p.RQ)}  PQ_th ${fmt(p.PQ_th)}  PQ_st ${fmt(p.PQ_st)}  PQ_seen ${fmt(p.PQ_seen)}  PQ_unseen ${fmt(p.PQ_unseen)}`,
    );
  }
  if (m.semantic) {
    const s = m.semantic;
    lines.push(`semantic  mIoU ${fmt(s.mIoU)}  fwIoU ${fmt(s.fwIoU)}  mACC ${fmt(s.mACC)}  pACC ${fmt(s.pACC)}`);
  }
  if (m.instance) {
    const a = m.instance;
    lines.push(
      `instance  AP ${fmt(a.AP)}  AP50 ${fmt(a.AP50)}  AP75 ${fmt(a.AP75)}  APs ${fmt(a.APs)}  APm ${fmt(a.APm)}  APl ${fmt(a.APl)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

async function report(merged: MergedRun, output: string, args: Pick<EvalArgs, "log" | "print">): Promise<number> {
  const path = await writeMetrics(output, merged);
  args.print(headline(merged));
  args.log(`wrote ${path} (${merged.evaluated} of ${merged.manifest.imageIds.length} images)`);
  if (merged.missing.length === 0) return 0;
  const shown = merged.missing.slice(0, 20).join(", ");
  args.log(
    `${merged.missing.length} image(s) have no result: ${shown}${merged.missing.length > 20 ? ", …" : ""} (see failed*.json; fix them and rerun with --resume, or run the missing shards)`,
  );
  return 1;
}

/** `fcclip eval --merge DIR…`: the metrics of shard folders; exit 1 when images are missing. */
export async function mergeEval(dirs: string[], output: string | undefined, args: Pick<EvalArgs, "log" | "print">) {
  return report(await mergeRuns(dirs), output ?? dirs[0]!, args);
}

/** Runs the evaluation; returns the exit code (1 when an image failed). */
export async function evaluate(args: EvalArgs): Promise<number> {
  const dataset = await openDataset(args.dataset, args.format, args.layout);
  for (const n of dataset.notes) args.log(`note: ${n}`);
  const vocabSpec = args.vocab ?? dataset.vocab;
  if (!vocabSpec)
    throw new UsageError(
      `the ${dataset.layout} ${dataset.format} layout has no preset vocabulary: pass --vocab (e.g. data/vocab/<dataset>_with_prompt_eng.txt)`,
    );
  const { vocab, seen } = await vocabularyWithSeen(vocabSpec, args.dataDir);
  const K = vocab.classes.length;
  const datasetCategories =
    dataset.categories ?? vocab.classes.map((c, k) => ({ id: k, name: c.name, isthing: c.isThing }));
  const classToCategory = vocabularyToDataset(vocab, datasetCategories, dataset.format);
  // Seen / unseen is a property of the vocabulary class that predicts a category.
  const seenOf = new Map(classToCategory.map((id, k) => [id, seen[k] === 1]));
  const categories: SummaryCategory[] = datasetCategories.map((c) => ({ ...c, seen: seenOf.get(c.id) ?? false }));
  const tasks: Task[] =
    dataset.format === "semantic"
      ? ["semantic"]
      : dataset.format === "coco-instances"
        ? ["instance"]
        : ["panoptic", "semantic", ...(categories.some((c) => c.isthing) ? (["instance"] as const) : [])];
  const manifest: RunManifest = {
    format: dataset.format,
    layout: dataset.layout,
    vocabulary: vocab.name,
    tasks,
    categories,
    classToCategory,
    ignoreLabel: dataset.ignoreLabel,
    imageIds: dataset.images.map((i) => i.id),
  };
  const weights = args.weights;
  const modelArgs = weights && !args.predictions ? { ...args, weights, vocab: vocabSpec } : undefined;
  if (!args.predictions && !modelArgs) throw new UsageError("eval needs --weights (or --predictions DIR)");
  if (modelArgs) checkModelFiles(modelArgs);
  await startRun(args.output, manifest);

  let segmenter: Segmenter | undefined;
  const bar = progressBar("evaluating");
  try {
    const outcome = await runImages({
      output: args.output,
      manifest,
      images: dataset.images,
      shard: args.shard,
      resume: args.resume,
      prepare: async () => {
        if (!modelArgs) return;
        // The config decides what the model computes, as in the official evaluation (e.g. instances restricted to
        // things when panoptic inference is on); the dataset decides which classes are things (detectron2's metadata).
        const thing = new Map(categories.map((c) => [c.id, c.isthing]));
        segmenter = await openSegmenter({
          ...modelArgs,
          task: "all",
          adjust: (v) => ({
            ...v,
            classes: v.classes.map((c, k) => ({
              ...c,
              isThing: thing.get(classToCategory[k] ?? Number.NaN) ?? c.isThing,
            })),
          }),
        });
        const off = tasks.filter((t) => !segmenter!.tasks.includes(t));
        if (off.length)
          throw new UsageError(
            `the config turns off ${off.join(" and ")} inference, which ${dataset.format} needs (check --config-file / --opts)`,
          );
      },
      predict: async (image) => {
        if (args.predictions) return readPrediction(args.predictions, image.file, tasks, K);
        return segmenter!.segment(decodeImage(await readInput(image.file, "image"), image.file));
      },
      log: args.log,
      onProgress: (done, total, file) => bar.update(done, total, basename(file)),
    });
    args.log(
      `evaluated ${outcome.evaluated} image(s), ${outcome.skipped} already done, ${outcome.failed.length} failed${args.shard ? ` (shard ${args.shard.index}/${args.shard.count})` : ""}`,
    );
    for (const f of outcome.failed) args.log(`  failed: ${f.image_id} (${f.file}): ${f.error}`);
    if (args.shard) {
      args.log(`when every shard is done: fcclip eval --merge ${args.output} [other shard folders]`);
      return outcome.failed.length ? 1 : 0;
    }
    return await report(await mergeRuns([args.output]), args.output, args);
  } finally {
    await segmenter?.close();
  }
}
