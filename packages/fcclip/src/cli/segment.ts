import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { Engine, fileSource, type HostTensor, safetensorsChunks } from "@fcclip/tensor-core";
import { ClipTokenizer } from "@fcclip/text-encoder";
import { directoryStore } from "../cache/directory-store.js";
import { resolveConfig } from "../config/config-files.js";
import { decodeImage } from "../image/decode.js";
import { FcclipModel } from "../model/fcclip-model.js";
import { resultFiles } from "../output/write-results.js";
import type { Task } from "../postprocess/inference.js";
import { seenMask, vocabularyFromFile } from "../vocabulary/vocabulary.js";
import { loadVocabulary, PRESETS } from "../vocabulary/vocabulary-files.js";
import { loadFcclipWeights } from "../weights/load.js";
import { progressBar } from "./progress.js";
import { UsageError } from "./usage-error.js";

export interface SegmentArgs {
  weights: string;
  clipWeights?: string;
  textHeads?: number;
  configFile?: string;
  opts: [string, string][];
  vocab: string;
  inputs: string[];
  output: string;
  task: Task | "all";
  dumpTensors: boolean;
  /** Laid out like FC-CLIP's data: vocab/*_with_prompt_eng.txt, vocab/meta/*.json, tokenizer/bpe_simple_vocab_16e6.txt.gz. */
  dataDir: string;
  verbose: boolean;
  /** Time every GPU dispatch and print a report per image (op kinds, stages, shapes; cold and warm). */
  profile?: boolean;
  /** Where text classifiers persist between runs (null: no cache). */
  cacheDir: string | null;
  log: (s: string) => void;
}

async function expand(patterns: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of patterns) {
    if (!/[*?]/.test(basename(p))) {
      out.push(p);
      continue;
    }
    const re = new RegExp(
      `^${basename(p)
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".")}$`,
    );
    const dir = dirname(p);
    const names = await readdir(dir).catch(() => [] as string[]);
    const hits = names.filter((n) => re.test(n)).sort();
    if (hits.length === 0) throw new UsageError(`--input ${p} matches no file`);
    out.push(...hits.map((n) => join(dir, n)));
  }
  return out;
}

async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new UsageError(
      `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`,
    );
  }
}

/** `fcclip segment`: every input image → panoptic/semantic/instance files in the output folder. */
export async function segment(args: SegmentArgs): Promise<string[]> {
  const cfg = await resolveConfig(args.configFile, args.opts);
  const tasks = args.task === "all" ? cfg.tasks : [args.task];
  if (tasks.length === 0) throw new UsageError("no task enabled (the config turns them all off); pass --task");
  const files = await expand(args.inputs);
  if (files.length === 0) throw new UsageError("segment needs --input with at least one image");
  // Name every missing file at once: the weights and data users bring, then the images.
  const needed = [
    args.weights,
    ...(args.clipWeights ? [args.clipWeights] : []),
    join(args.dataDir, "vocab", "coco_panoptic_with_prompt_eng.txt"),
    join(args.dataDir, "tokenizer", "bpe_simple_vocab_16e6.txt.gz"),
    ...((PRESETS as readonly string[]).includes(args.vocab)
      ? [
          join(args.dataDir, "vocab", `${args.vocab}_with_prompt_eng.txt`),
          join(args.dataDir, "vocab", "meta", `${args.vocab}.json`),
        ]
      : []),
    ...files,
  ];
  const missing = [...new Set(needed)].filter((p) => !existsSync(p));
  if (missing.length) {
    throw new UsageError(
      `missing file${missing.length > 1 ? "s" : ""}: ${missing.join(", ")} (the README says where to get the weights and data files)`,
    );
  }
  const images = await Promise.all(
    files.map(async (f) => ({ file: f, img: decodeImage(await readInput(f, "image"), f) })),
  );
  const vocab = await loadVocabulary(args.vocab, join(args.dataDir, "vocab"));
  const cocoPath = join(args.dataDir, "vocab", "coco_panoptic_with_prompt_eng.txt");
  const coco = vocabularyFromFile(
    "coco_panoptic",
    new TextDecoder().decode(await readInput(cocoPath, "the COCO training vocabulary (it defines seen classes)")),
  );
  const seen = seenMask(vocab, new Set(coco.classes.flatMap((c) => c.synonyms)));
  const tokenizer = await ClipTokenizer.fromGzip(
    await readInput(join(args.dataDir, "tokenizer", "bpe_simple_vocab_16e6.txt.gz"), "the CLIP BPE vocabulary"),
  );

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
  const written: string[] = [];
  try {
    const weights = await loadFcclipWeights(sources, { heads: cfg.heads, textHeads: args.textHeads });
    const total = weights.keys().length;
    const loadBar = progressBar("loading weights");
    let loaded = 0;
    const counting = {
      ...weights,
      read: async (k: string): Promise<HostTensor> => {
        const t = await weights.read(k);
        loadBar.update(++loaded, total);
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
    const imageBar = progressBar("segmenting");
    for (const [i, { file, img }] of images.entries()) {
      const out = await model.segment(img, vocab, {
        seen,
        tasks,
        dump: args.dumpTensors,
        onStage: (s, ms) => timings.set(s, (timings.get(s) ?? 0) + ms),
      });
      await mkdir(resolve(args.output), { recursive: true }).catch((e: Error) => {
        throw new UsageError(`cannot create the output folder ${args.output}: ${e.message}`);
      });
      const stem = join(resolve(args.output), basename(file, extname(file)));
      const outputs = await resultFiles(img, file, out, vocab);
      if (args.profile) {
        const profile = await engine.stopProfile();
        args.log(`${basename(file)}: ${i === 0 ? "cold (first image: shader compiles included)" : "warm"}`);
        args.log(profile.format());
        outputs.set(".profile.json", new TextEncoder().encode(`${JSON.stringify(profile.summary(40), null, 2)}\n`));
        if (i + 1 < images.length) engine.startProfile();
      }
      if (out.tensors) {
        const entries = [...out.tensors].map(([name, t]) => ({
          name,
          dtype: t.data instanceof Int32Array ? ("I32" as const) : ("F32" as const),
          shape: t.shape,
          bytes: () => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
        }));
        const chunks: Uint8Array[] = [];
        for await (const c of safetensorsChunks(entries, { format: "fcclip-dump" })) chunks.push(c);
        outputs.set(".tensors.safetensors", Buffer.concat(chunks));
      }
      // Write everything for this image under temporary names first, so a failure leaves no partial result.
      const names = [...outputs.keys()].map((suffix) => `${stem}${suffix}`);
      try {
        for (const [suffix, bytes] of outputs) await writeFile(`${stem}${suffix}.partial`, bytes);
        for (const n of names) await rename(`${n}.partial`, n);
      } catch (e) {
        await Promise.all(names.map((n) => rm(`${n}.partial`, { force: true })));
        throw new UsageError(`cannot write results to ${args.output}: ${(e as Error).message}`);
      }
      written.push(...names);
      imageBar.update(i + 1, images.length, basename(file));
    }
    model.dispose();
    if (args.verbose) {
      args.log("timings (ms):");
      for (const [k, v] of timings) args.log(`  ${k.padEnd(20)} ${v.toFixed(0)}`);
    }
    return written;
  } finally {
    await Promise.all(sources.map((s) => s.close?.()));
    engine.destroy();
  }
}
