import { readFile } from "node:fs/promises";
import { ClipModel, type ZeroShotResult } from "@fcclip/clip";
import { Engine, fileSource, openStateDict } from "@fcclip/tensor-core";
import { ClipTokenizer } from "@fcclip/text-encoder";
import { decodeImage } from "../image/decode.js";
import { UsageError } from "./usage-error.js";

export interface ClassifyArgs {
  clipWeights: string;
  bpe: string;
  labels: string[];
  images: string[];
  textHeads?: number;
  templates?: string[];
}

async function read(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${what} ${path}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
}

/** `fcclip classify`: zero-shot labels for each image with a ConvNeXt or ResNet CLIP (open_clip, OpenAI or FC-CLIP files). */
export async function classify(args: ClassifyArgs): Promise<{ image: string; results: ZeroShotResult[] }[]> {
  if (args.labels.length < 1) throw new UsageError("classify needs --labels with at least one label");
  if (args.images.length === 0) throw new UsageError("classify needs at least one image");
  const images = await Promise.all(
    args.images.map(async (p) => ({ path: p, img: decodeImage(await read(p, "image"), p) })),
  );
  const tokenizer = await ClipTokenizer.fromGzip(await read(args.bpe, "the BPE vocabulary"));
  const source = await fileSource(args.clipWeights).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot open ${args.clipWeights}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
  });
  const engine = await Engine.create();
  try {
    const weights = await openStateDict(source);
    const prefix = weights.info("positional_embedding") ? "" : "backbone.clip_model.";
    const model = await ClipModel.load(engine, weights, tokenizer, { prefix, textHeads: args.textHeads });
    const out = [];
    for (const { path, img } of images) {
      out.push({ image: path, results: await model.classify(img, args.labels, { templates: args.templates }) });
    }
    model.dispose();
    return out;
  } finally {
    await source.close?.();
    engine.destroy();
  }
}
