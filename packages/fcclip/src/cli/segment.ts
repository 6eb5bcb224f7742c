import { statSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { safetensorsChunks } from "@fcclip/tensor-core";
import { decodeImage } from "../image/decode.js";
import { writeFilesAtomic } from "../output/atomic-write.js";
import { resultFiles } from "../output/write-results.js";
import type { Task } from "../postprocess/inference.js";
import { progressBar } from "./progress.js";
import { checkModelFiles, type ModelArgs, openSegmenter, readInput } from "./segmenter.js";
import { UsageError } from "./usage-error.js";
import { checkVideoTools, segmentVideo } from "./video.js";

export interface SegmentArgs extends ModelArgs {
  inputs: string[];
  /** A video to segment frame by frame instead of `inputs` (needs ffmpeg). */
  videoInput?: string;
  output: string;
  task: Task | "all";
  /** Instances scoring below it are left out of .instances.json (the demo's --confidence-threshold). */
  confidenceThreshold?: number;
  dumpTensors: boolean;
  verbose: boolean;
  log: (s: string) => void;
}

const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg"]);

/** --input values → image files: files as given, a directory's PNG/JPEG files, a glob's matches (sorted). */
export async function expandInputs(patterns: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of patterns) {
    if (statSync(p, { throwIfNoEntry: false })?.isDirectory()) {
      const names = (await readdir(p)).filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase())).sort();
      if (names.length === 0) throw new UsageError(`--input ${p} is a folder without PNG or JPEG images`);
      out.push(...names.map((n) => join(p, n)));
      continue;
    }
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

/** `fcclip segment`: every input image → panoptic/semantic/instance files in the output folder. */
export async function segment(args: SegmentArgs): Promise<string[]> {
  if (args.videoInput) {
    checkModelFiles(args, [args.videoInput]);
    checkVideoTools();
    const segmenter = await openSegmenter(args);
    try {
      return await segmentVideo({ video: args.videoInput, output: args.output }, segmenter);
    } finally {
      await segmenter.close();
    }
  }
  const files = await expandInputs(args.inputs);
  if (files.length === 0) throw new UsageError("segment needs --input with at least one image");
  checkModelFiles(args, files);
  const images = await Promise.all(
    files.map(async (f) => ({ file: f, img: decodeImage(await readInput(f, "image"), f) })),
  );
  const segmenter = await openSegmenter(args);
  const { vocab, timings } = segmenter;
  const written: string[] = [];
  try {
    const imageBar = progressBar("segmenting");
    for (const [i, { file, img }] of images.entries()) {
      const out = await segmenter.segment(img, { dump: args.dumpTensors });
      const threshold = args.confidenceThreshold;
      if (out.instances && threshold !== undefined) out.instances = out.instances.filter((x) => x.score >= threshold);
      await mkdir(resolve(args.output), { recursive: true }).catch((e: Error) => {
        throw new UsageError(`cannot create the output folder ${args.output}: ${e.message}`);
      });
      const stem = join(resolve(args.output), basename(file, extname(file)));
      const outputs = await resultFiles(img, file, out, vocab);
      const profile = await segmenter.takeProfile();
      if (profile) {
        args.log(`${basename(file)}: ${i === 0 ? "cold (first image: shader compiles included)" : "warm"}`);
        args.log(profile.format());
        outputs.set(".profile.json", new TextEncoder().encode(`${JSON.stringify(profile.summary(40), null, 2)}\n`));
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
      const names = [...outputs.keys()].map((suffix) => `${stem}${suffix}`);
      await writeFilesAtomic([...outputs].map(([suffix, bytes]) => [`${stem}${suffix}`, bytes])).catch((e: Error) => {
        throw new UsageError(`cannot write results to ${args.output}: ${e.message}`);
      });
      written.push(...names);
      imageBar.update(i + 1, images.length, basename(file));
    }
    if (args.verbose) {
      args.log("timings (ms):");
      for (const [k, v] of timings) args.log(`  ${k.padEnd(26)} ${v.toFixed(0)}`);
    }
    return written;
  } finally {
    await segmenter.close();
  }
}
