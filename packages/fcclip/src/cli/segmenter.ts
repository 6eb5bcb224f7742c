/** The loaded model, vocabulary and settings that `fcclip segment` and `fcclip eval` run images through. */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RgbImage } from "@fcclip/clip";
import { Engine, fileSource, type HostTensor, type Profile } from "@fcclip/tensor-core";
import { directoryStore } from "../cache/directory-store.js";
import { resolveConfig } from "../config/config-files.js";
import { DataFolder } from "../data/data-folder.js";
import { directoryData } from "../data/directory-data.js";
import { FcclipModel, type SegmentResult } from "../model/fcclip-model.js";
import type { Task } from "../postprocess/inference.js";
import type { Vocabulary } from "../vocabulary/vocabulary.js";
import { loadVocabulary } from "../vocabulary/vocabulary-files.js";
import { loadFcclipWeights } from "../weights/load.js";
import { progressBar } from "./progress.js";
import { UsageError } from "./usage-error.js";

export interface ModelArgs {
  weights: string;
  clipWeights?: string;
  textHeads?: number;
  configFile?: string;
  opts: [string, string][];
  vocab: string;
  /** FC-CLIP's data folder (DATA_FILES: vocab/*_with_prompt_eng.txt, vocab/meta/*.json, the BPE vocabulary). */
  dataDir: string;
  /** Where text classifiers persist between runs (null: no cache). */
  cacheDir: string | null;
  /** Profile the GPU work from the text classifier on (see Segmenter.takeProfile). */
  profile?: boolean;
}

export async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new UsageError(
      `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
    );
  }
}

/** Names every missing file at once: the weights and data users bring, then `more` (the images). */
export function checkModelFiles(args: ModelArgs, more: readonly string[] = []): void {
  const needed = [
    args.weights,
    ...(args.clipWeights ? [args.clipWeights] : []),
    ...DataFolder.requiredFiles(args.vocab).map((p) => join(args.dataDir, p)),
    ...(args.vocab.endsWith(".txt") ? [args.vocab] : []),
    ...more,
  ];
  const missing = [...new Set(needed)].filter((p) => !existsSync(p));
  if (missing.length) {
    throw new UsageError(
      `missing file${missing.length > 1 ? "s" : ""}: ${missing.join(", ")} (the README says where to get the weights and data files)`,
    );
  }
}

/** The vocabulary of `--vocab` and its seen mask against COCO's training names (FCCLIP-SPEC §6.4). */
export async function vocabularyWithSeen(
  spec: string,
  dataDir: string,
): Promise<{ vocab: Vocabulary; seen: Uint8Array }> {
  const vocab = await loadVocabulary(spec, dataDir);
  return { vocab, seen: await directoryData(dataDir).seen(vocab) };
}

export interface Segmenter {
  vocab: Vocabulary;
  seen: Uint8Array;
  tasks: Task[];
  segment(img: RgbImage, opts?: { dump?: boolean }): Promise<SegmentResult>;
  /** Accumulated milliseconds per stage (weights, text classifier, then the model's stages). */
  timings: Map<string, number>;
  /** With `profile`: everything since the last call (the first from the text classifier on); a new one starts. */
  takeProfile(): Promise<Profile | null>;
  close(): Promise<void>;
}

/**
 * Loads the weights and the vocabulary's text classifier (progress bars on stderr). `task` picks one task instead of
 * those the config enables; `adjust` may change the vocabulary first (e.g. the dataset's thing/stuff split).
 */
export async function openSegmenter(
  args: ModelArgs & { task: Task | "all"; adjust?: (v: Vocabulary) => Vocabulary },
): Promise<Segmenter> {
  const cfg = await resolveConfig(args.configFile, args.opts);
  const tasks = args.task === "all" ? cfg.tasks : [args.task];
  if (tasks.length === 0) throw new UsageError("no task enabled (the config turns them all off); pass --task");
  const loaded = await vocabularyWithSeen(args.vocab, args.dataDir);
  const vocab = args.adjust ? args.adjust(loaded.vocab) : loaded.vocab;
  const seen = loaded.seen;
  const tokenizer = await directoryData(args.dataDir).tokenizer();
  const paths = [args.weights, ...(args.clipWeights ? [args.clipWeights] : [])];
  const sources = await Promise.all(
    paths.map((p) =>
      fileSource(p).catch((e: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot open weights ${p}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
      }),
    ),
  );
  const timings = new Map<string, number>();
  const engine = await Engine.create();
  const close = async () => {
    await Promise.all(sources.map((s) => s.close?.()));
    engine.destroy();
  };
  try {
    const weights = await loadFcclipWeights(sources, { heads: cfg.heads, textHeads: args.textHeads });
    const total = weights.keys().length;
    const loadBar = progressBar("loading weights");
    let loadedKeys = 0;
    const counting = {
      ...weights,
      read: async (k: string): Promise<HostTensor> => {
        const t = await weights.read(k);
        loadBar.update(++loadedKeys, total);
        return t;
      },
    };
    let t0 = performance.now();
    const model = await FcclipModel.load(engine, counting, tokenizer, cfg.fcclip);
    timings.set("load weights", performance.now() - t0);
    t0 = performance.now();
    if (args.profile) {
      engine.startProfile();
      await engine.stage("text classifier");
    }
    const textBar = progressBar("encoding vocabulary");
    await model.textClassifier(vocab, {
      onProgress: (d, t) => textBar.update(d, t),
      store: args.cacheDir ? directoryStore(args.cacheDir) : undefined,
    });
    timings.set("text classifier", performance.now() - t0);
    return {
      vocab,
      seen,
      tasks,
      timings,
      segment: (img, opts) =>
        model.segment(img, vocab, {
          seen,
          tasks,
          dump: opts?.dump,
          onStage: (s, ms) => timings.set(s, (timings.get(s) ?? 0) + ms),
        }),
      takeProfile: async () => {
        if (!args.profile) return null;
        const profile = await engine.stopProfile();
        engine.startProfile();
        return profile;
      },
      close: async () => {
        model.dispose();
        await close();
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}
