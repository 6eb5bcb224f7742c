import type { Engine, ResizeCropGeometry, Tensor } from "@fcclip/tensor-core";
import { softmaxRows } from "../model/softmax-rows.js";
import type { Vocabulary } from "../vocabulary/vocabulary.js";
import { InstanceInference, type InstancePrediction } from "./instance-inference.js";
import { QueryStatistics, streamMaskLogits } from "./mask-logit-stream.js";
import { PanopticInference, type PanopticSegment } from "./panoptic-inference.js";
import { SemanticInference } from "./semantic-inference.js";

export type { InstancePrediction, PanopticSegment };

export type Task = "panoptic" | "semantic" | "instance";

export interface Segmentation {
  height: number;
  width: number;
  /** Class index per pixel (argmax of the semantic scores), row-major. */
  semantic?: Int32Array;
  /** Segment id per pixel (0 = unassigned) and the segments. */
  panoptic?: { ids: Int32Array; segments: PanopticSegment[] };
  instances?: InstancePrediction[];
}

export interface InferenceOptions {
  tasks: readonly Task[];
  /** TEST.OVERLAP_THRESHOLD (0.8) and OBJECT_MASK_THRESHOLD (0.0). */
  overlapThreshold?: number;
  objectMaskThreshold?: number;
  /** TEST.DETECTIONS_PER_IMAGE (100). */
  detectionsPerImage?: number;
  /** Output pixels per GPU chunk (a multiple of 32). */
  chunk?: number;
  /**
   * TEST.SEM_SEG_POSTPROCESSING_BEFORE_INFERENCE or'd with panoptic/instance being on: when false, the semantic map
   * is computed at the padded input resolution and the class-probability map is resized (FCCLIP-SPEC §7.2).
   */
  semanticBeforeInference?: boolean;
}

/**
 * FC-CLIP's inference at the original resolution (FCCLIP-SPEC §7): softmax of the ensemble's mask_cls, then
 * semantic_inference, panoptic_inference and instance_inference (those in `tasks`) over one stream of final-resolution
 * mask-logit chunks (mask-logit-stream.ts), so memory stays bounded for any image size.
 */
export async function inference(
  engine: Engine,
  lowMasks: Tensor,
  maskCls: Float32Array,
  vocab: Vocabulary,
  geo: ResizeCropGeometry,
  opts: InferenceOptions,
): Promise<Segmentation> {
  const Q = lowMasks.shape[0]!;
  const K = vocab.classes.length;
  const [Ho, Wo] = geo.original;
  const pixels = Ho * Wo;
  const prob = softmaxRows(maskCls, Q, K + 1);
  const want = new Set(opts.tasks);
  // As the official model: panoptic or instance inference resize the mask logits first, for every task.
  const before = (opts.semanticBeforeInference ?? true) || want.has("panoptic") || want.has("instance");
  const stats = want.has("panoptic") || want.has("instance") ? new QueryStatistics(Q) : null;
  const semantic = want.has("semantic") ? new SemanticInference(engine, prob, Q, pixels, !before) : null;
  const panoptic = want.has("panoptic")
    ? new PanopticInference(engine, prob, Q, pixels, vocab, stats!, {
        overlapThreshold: opts.overlapThreshold ?? 0.8,
        objectMaskThreshold: opts.objectMaskThreshold ?? 0,
      })
    : null;
  const instance = want.has("instance")
    ? new InstanceInference(engine, prob, Q, [Ho, Wo], vocab, stats!, opts.detectionsPerImage ?? 100)
    : null;
  const tasks = [stats, semantic, panoptic, instance].filter((t) => t !== null);
  try {
    await streamMaskLogits(engine, lowMasks, geo, tasks, { chunk: opts.chunk, sigmoidFirst: !before });
  } finally {
    for (const t of [semantic, panoptic, instance]) t?.dispose();
  }
  const result: Segmentation = { height: Ho, width: Wo };
  if (semantic) result.semantic = semantic.labels;
  if (panoptic) result.panoptic = panoptic.result();
  if (instance) result.instances = instance.result();
  return result;
}
