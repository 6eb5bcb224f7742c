/**
 * Dataset runs that survive interruptions and spread over machines: one record per image written atomically under
 * `<output>/images/`, `--resume` skipping finished images, a deterministic `--shard I/N` split of the image list,
 * failures reported per image, and `--merge` summing the records of every shard.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { DeviceLostError } from "@fcclip/tensor-core";
import { FcclipError } from "../errors.js";
import { writeFilesAtomic } from "../output/atomic-write.js";
import type { Segmentation, Task } from "../postprocess/inference.js";
import type { DatasetImage, EvalFormat } from "./dataset-layouts.js";
import { type EvaluationContext, evaluateOne, type ImageRecord } from "./image-evaluation.js";
import { type DatasetMetrics, type SummaryCategory, summarize } from "./summary.js";

/** What a run evaluates; every shard of a run writes the same one, and merging checks they agree. */
export interface RunManifest {
  format: EvalFormat;
  layout: string;
  vocabulary: string;
  tasks: Task[];
  categories: SummaryCategory[];
  /** The dataset category id of each vocabulary class (null: not one of the dataset's). */
  classToCategory: (number | null)[];
  ignoreLabel: number;
  /** Every image of the dataset (all shards), sorted. */
  imageIds: (number | string)[];
}

export interface Shard {
  index: number;
  count: number;
}

export interface ImageFailure {
  image_id: number | string;
  file: string;
  error: string;
}

/** An output folder that holds another run, or shards that do not belong together. */
export class RunMismatchError extends FcclipError {
  override name = "RunMismatchError";
}

const MANIFEST = "run.json";

/** Image i of the sorted list belongs to shard i mod N: the same split on every machine. */
export function shardImages<T>(images: readonly T[], shard?: Shard): T[] {
  return shard ? images.filter((_, i) => i % shard.count === shard.index) : [...images];
}

/** `images/<id>.json`, the id made safe as a file name. */
export function recordPath(output: string, id: number | string): string {
  return join(output, "images", `${encodeURIComponent(String(id))}.json`);
}

const json = (x: unknown) => `${JSON.stringify(x)}\n`;

function sameRun(a: RunManifest, b: RunManifest): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function readManifest(dir: string): Promise<RunManifest | undefined> {
  const p = join(dir, MANIFEST);
  if (!existsSync(p)) return undefined;
  return JSON.parse(await readFile(p, "utf8")) as RunManifest;
}

/** Creates the output folder and its run.json, or checks that an existing one describes the same run. */
export async function startRun(output: string, manifest: RunManifest): Promise<void> {
  await mkdir(join(output, "images"), { recursive: true });
  const existing = await readManifest(output);
  if (existing && !sameRun(existing, manifest))
    throw new RunMismatchError(
      `${output} holds a run of another dataset, vocabulary or task set (its run.json differs); use another --output`,
    );
  if (!existing) await writeFilesAtomic([[join(output, MANIFEST), json(manifest)]]);
}

export interface RunOptions {
  output: string;
  manifest: RunManifest;
  images: readonly DatasetImage[];
  shard?: Shard;
  resume: boolean;
  /** Called once before the first image that needs a prediction (loading a model). */
  prepare?: () => Promise<void>;
  predict: (image: DatasetImage) => Promise<Segmentation>;
  log: (s: string) => void;
  /** After each image of this shard that was not skipped: images done so far (skipped ones included), of all. */
  onProgress?: (done: number, total: number, file: string) => void;
}

export interface RunOutcome {
  evaluated: number;
  skipped: number;
  failed: ImageFailure[];
}

/** Evaluates this shard's images; an image that fails is reported and skipped, the others still count. */
export async function runImages(opts: RunOptions): Promise<RunOutcome> {
  const { tasks, categories, classToCategory, ignoreLabel } = opts.manifest;
  const ctx: EvaluationContext = { tasks, categories, classToCategory, ignoreLabel };
  const todo = shardImages(opts.images, opts.shard);
  const out: RunOutcome = { evaluated: 0, skipped: 0, failed: [] };
  let prepared = false;
  for (const [i, image] of todo.entries()) {
    const path = recordPath(opts.output, image.id);
    if (opts.resume && existsSync(path)) {
      out.skipped++;
      continue;
    }
    if (!prepared) {
      prepared = true;
      await opts.prepare?.();
    }
    let record: ImageRecord | undefined;
    try {
      record = await evaluateOne(ctx, image, await opts.predict(image));
    } catch (e) {
      // A lost device is not the image's fault: stop rather than fail every image after it. Anything else is
      // listed with the image (its name too when it is not one of ours) and the run goes on.
      if (e instanceof DeviceLostError) throw e;
      const err = e instanceof Error ? e : new Error(String(e));
      const builtin = ["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError"].includes(err.name);
      const message = builtin ? `${err.name}: ${err.message}` : err.message;
      out.failed.push({ image_id: image.id, file: image.file, error: message });
      opts.log(`image ${image.id} (${image.file}) skipped: ${message}`);
    }
    if (record) {
      await writeFilesAtomic([[path, json(record)]]);
      out.evaluated++;
    }
    opts.onProgress?.(i + 1, todo.length, image.file);
  }
  const failures = join(
    opts.output,
    opts.shard ? `failed.shard-${opts.shard.index}-of-${opts.shard.count}.json` : "failed.json",
  );
  if (out.failed.length) await writeFilesAtomic([[failures, json(out.failed)]]);
  else await rm(failures, { force: true });
  return out;
}

export interface MergedRun {
  manifest: RunManifest;
  metrics: DatasetMetrics;
  evaluated: number;
  /** Images of the run without a record in any folder. */
  missing: (number | string)[];
}

/**
 * The records of one or more output folders (the shards of one run) and the dataset metrics over them. Folders of
 * different runs are refused; images without a record are listed in `missing`.
 */
export async function mergeRuns(dirs: readonly string[]): Promise<MergedRun> {
  let manifest: RunManifest | undefined;
  const records = new Map<string, ImageRecord>();
  for (const dir of dirs) {
    const m = await readManifest(dir);
    if (!m) throw new RunMismatchError(`${dir} holds no ${MANIFEST}: not an fcclip eval output folder`);
    if (manifest && !sameRun(manifest, m))
      throw new RunMismatchError(`${dir} is a run of another dataset, vocabulary or task set than ${dirs[0]}`);
    manifest = m;
    const names = existsSync(join(dir, "images")) ? await readdir(join(dir, "images")) : [];
    for (const n of names) {
      if (!n.endsWith(".json")) continue;
      const r = JSON.parse(await readFile(join(dir, "images", n), "utf8")) as ImageRecord;
      records.set(String(r.image_id), r);
    }
  }
  if (!manifest) throw new RunMismatchError("no output folder to merge");
  const wanted = manifest.imageIds;
  const present = wanted.filter((id) => records.has(String(id))).map((id) => records.get(String(id))!);
  const missing = wanted.filter((id) => !records.has(String(id)));
  return { manifest, metrics: summarize(present, manifest.categories), evaluated: present.length, missing };
}

/** Writes `<output>/metrics.json`: the metrics, the run, and which images are missing. */
export async function writeMetrics(output: string, merged: MergedRun): Promise<string> {
  const path = join(output, "metrics.json");
  await mkdir(output, { recursive: true });
  const { manifest, metrics, evaluated, missing } = merged;
  await writeFilesAtomic([
    [
      path,
      `${JSON.stringify(
        {
          format: manifest.format,
          layout: manifest.layout,
          vocabulary: manifest.vocabulary,
          images: { total: manifest.imageIds.length, evaluated, missing },
          ...metrics,
        },
        null,
        2,
      )}\n`,
    ],
  ]);
  return path;
}
