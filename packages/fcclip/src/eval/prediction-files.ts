/** `fcclip segment`'s result files read back as a segmentation, for `fcclip eval --predictions DIR`. */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import type { PanopticSegment, Segmentation, Task } from "../postprocess/inference.js";
import type { Rle } from "../postprocess/rle.js";
import { EvaluationInputError } from "./image-evaluation.js";
import { decodeLabelPng } from "./label-png.js";

async function readBytes(path: string): Promise<Uint8Array> {
  if (!existsSync(path))
    throw new EvaluationInputError(`no prediction ${path} (run fcclip segment with --output into that folder)`);
  return new Uint8Array(await readFile(path));
}

/**
 * The prediction for `imageFile` in `dir`: `<stem>.json` (+ `.panoptic.png`), `.semantic.png` and `.instances.json`
 * as `fcclip segment` writes them, for the tasks asked. Class indices must be those of a `numClasses` vocabulary.
 */
export async function readPrediction(
  dir: string,
  imageFile: string,
  tasks: readonly Task[],
  numClasses: number,
): Promise<Segmentation> {
  const stem = join(dir, basename(imageFile, extname(imageFile)));
  const meta = JSON.parse(new TextDecoder().decode(await readBytes(`${stem}.json`))) as {
    image: { height: number; width: number };
    classes: string[];
    segments?: PanopticSegment[];
  };
  if (meta.classes.length !== numClasses)
    throw new EvaluationInputError(
      `${stem}.json was predicted with ${meta.classes.length} classes, the evaluation has ${numClasses}: use the same --vocab`,
    );
  const { height, width } = meta.image;
  const out: Segmentation = { height, width };
  if (tasks.includes("panoptic")) {
    if (!meta.segments)
      throw new EvaluationInputError(`${stem}.json has no panoptic segments (segment --task panoptic)`);
    const png = decodeLabelPng(await readBytes(`${stem}.panoptic.png`), `${stem}.panoptic.png`);
    out.panoptic = { ids: Int32Array.from(png.labels), segments: meta.segments };
  }
  if (tasks.includes("semantic")) {
    const png = decodeLabelPng(await readBytes(`${stem}.semantic.png`), `${stem}.semantic.png`);
    out.semantic = Int32Array.from(png.labels);
  }
  if (tasks.includes("instance")) {
    const inst = JSON.parse(new TextDecoder().decode(await readBytes(`${stem}.instances.json`))) as {
      instances: { score: number; category_id: number; area: number; mask: Rle }[];
    };
    out.instances = inst.instances.map((x) => ({
      score: x.score,
      category_id: x.category_id,
      area: x.area,
      rle: x.mask,
    }));
  }
  return out;
}
