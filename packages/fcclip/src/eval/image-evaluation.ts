/**
 * One image's contribution to every metric, kept as a small JSON record: PQ statistics per category, the sparse
 * confusion matrix, and pycocotools' per-image matching. Records add up in any order and from any machine, which is
 * what makes --resume, --shard and --merge exact.
 */

import { readFile } from "node:fs/promises";
import { FcclipError } from "../errors.js";
import type { Segmentation, Task } from "../postprocess/inference.js";
import { type CocoDetection, type CocoGroundTruth, evaluateImage, type ImageCategoryEval } from "./coco-mask-ap.js";
import { polygonsCounts } from "./coco-polygon.js";
import { rleArea, rleCounts, rlesFromLabelMap } from "./coco-rle.js";
import type { CocoInstanceAnnotation, DatasetImage } from "./dataset-layouts.js";
import { decodeLabelPng } from "./label-png.js";
import { type PanopticCategory, pqComputeSingle } from "./panoptic-quality.js";
import { SemSegConfusion, type SparseConfusion } from "./semantic-metrics.js";

export interface ImageRecord {
  image_id: number | string;
  file: string;
  height: number;
  width: number;
  /** `[category_id, iou, tp, fp, fn]` for the categories this image touches. */
  panoptic?: [number, number, number, number, number][];
  semantic?: SparseConfusion;
  instances?: ImageCategoryEval[];
}

/** Ground truth and prediction disagree in a way no metric can take (sizes, classes). */
export class EvaluationInputError extends FcclipError {
  override name = "EvaluationInputError";
}

export interface EvaluationContext {
  /** The metrics to compute (the model may predict more). */
  tasks: readonly Task[];
  /** The dataset's categories; for panoptic and semantic sets, category k is the vocabulary's class k. */
  categories: readonly PanopticCategory[];
  /** The dataset category id of each vocabulary class; null for classes the dataset does not have. */
  classToCategory: readonly (number | null)[];
  ignoreLabel: number;
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new EvaluationInputError(
      `cannot read ${what} ${path}: ${code === "ENOENT" ? "no such file" : (e as Error).message}`,
    );
  }
}

function instanceCounts(a: CocoInstanceAnnotation, h: number, w: number): number[] {
  if (Array.isArray(a.segmentation)) return polygonsCounts(a.segmentation, h, w);
  const [rh, rw] = a.segmentation.size;
  if (rh !== h || rw !== w)
    throw new EvaluationInputError(`an instance mask of image ${a.image_id} is ${rh}×${rw}, the image ${h}×${w}`);
  return rleCounts(a.segmentation);
}

/** Scores one image's prediction against its ground truth, for the metrics its dataset format has. */
export async function evaluateOne(
  ctx: EvaluationContext,
  image: DatasetImage,
  pred: Segmentation,
): Promise<ImageRecord> {
  const { height: H, width: W } = pred;
  const record: ImageRecord = { image_id: image.id, file: image.file, height: H, width: W };
  const K = ctx.classToCategory.length;
  const datasetId = (k: number) => {
    const c = ctx.classToCategory[k];
    if (c === undefined)
      throw new EvaluationInputError(
        `image ${image.id}: predicted class ${k} is outside the vocabulary's ${K} classes`,
      );
    return c;
  };
  const want = (t: Task) => ctx.tasks.includes(t);
  const sameSize = (w: number, h: number, what: string) => {
    if (w !== W || h !== H)
      throw new EvaluationInputError(`image ${image.id}: ${what} is ${w}×${h}, the prediction ${W}×${H}`);
  };
  let gtPanoptic: Uint32Array | undefined;
  if (image.panoptic) {
    const png = decodeLabelPng(await readBytes(image.panoptic.png, "ground truth"), image.panoptic.png);
    sameSize(png.width, png.height, `the ground truth ${image.panoptic.png}`);
    gtPanoptic = png.labels;
    if (want("panoptic")) {
      if (!pred.panoptic) throw new EvaluationInputError(`image ${image.id}: the prediction has no panoptic result`);
      const stat = pqComputeSingle(
        { ids: gtPanoptic, segments: image.panoptic.segments },
        {
          ids: pred.panoptic.ids,
          segments: pred.panoptic.segments.map((s) => {
            const category_id = datasetId(s.category_id);
            if (category_id === null)
              throw new EvaluationInputError(
                `image ${image.id}: segment ${s.id} has a class the dataset does not have`,
              );
            return { id: s.id, category_id };
          }),
        },
        new Set(ctx.categories.map((c) => c.id)),
        image.id,
      );
      record.panoptic = [...stat].map(([c, s]) => [c, s.iou, s.tp, s.fp, s.fn]);
    }
  }
  if (want("semantic")) {
    if (!pred.semantic) throw new EvaluationInputError(`image ${image.id}: the prediction has no semantic result`);
    let gt: ArrayLike<number>;
    let ignore = ctx.ignoreLabel;
    if (image.semantic) {
      const png = decodeLabelPng(await readBytes(image.semantic, "ground truth"), image.semantic);
      sameSize(png.width, png.height, `the ground truth ${image.semantic}`);
      gt = png.labels;
    } else if (gtPanoptic && image.panoptic) {
      // detectron2's panoptic-with-sem-seg ground truth: every segment's class, crowd included; VOID ignored.
      ignore = 0xffffffff;
      const contiguous = new Map(ctx.categories.map((c, k) => [c.id, k]));
      const classOf = new Map(image.panoptic.segments.map((s) => [s.id, contiguous.get(s.category_id) ?? ignore]));
      gt = gtPanoptic.map((id) => classOf.get(id) ?? ignore);
    } else throw new EvaluationInputError(`image ${image.id}: no semantic ground truth`);
    const conf = new SemSegConfusion(K, ignore);
    conf.add(pred.semantic, gt, image.id);
    record.semantic = conf.toSparse();
  }
  if (want("instance")) {
    if (!pred.instances) throw new EvaluationInputError(`image ${image.id}: the prediction has no instances`);
    let gts: CocoGroundTruth[];
    if (image.instances) {
      gts = image.instances.map((a) => ({
        category_id: a.category_id,
        iscrowd: a.iscrowd === 1,
        area: a.area,
        counts: instanceCounts(a, H, W),
      }));
    } else if (gtPanoptic && image.panoptic) {
      // Without an instances json, the thing segments of the panoptic ground truth are the objects.
      const things = new Set(ctx.categories.filter((c) => c.isthing).map((c) => c.id));
      const segs = image.panoptic.segments.filter((s) => things.has(s.category_id));
      const rles = rlesFromLabelMap(
        gtPanoptic,
        H,
        W,
        segs.map((s) => s.id),
      );
      gts = segs.map((s) => {
        const counts = rles.get(s.id)!;
        return { category_id: s.category_id, iscrowd: s.iscrowd === 1, area: s.area ?? rleArea(counts), counts };
      });
    } else throw new EvaluationInputError(`image ${image.id}: no instance ground truth`);
    // Detections of vocabulary classes that are not dataset categories cannot match anything: pycocotools never
    // sees them either (detectron2 maps classes back through the dataset's metadata).
    const dts: CocoDetection[] = [];
    for (const x of pred.instances) {
      const [h, w] = x.rle.size;
      sameSize(w, h, "an instance mask");
      const category_id = datasetId(x.category_id);
      if (category_id !== null) dts.push({ category_id, score: x.score, counts: x.rle.counts });
    }
    record.instances = evaluateImage(gts, dts);
  }
  return record;
}
