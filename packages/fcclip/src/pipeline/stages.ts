/**
 * The stages of one image, in order, under the official code's names (fcclip.py's forward): `backbone`
 * (preprocessing and the CLIP's dense features), `pixel_decoder` and `transformer_decoder` (sem_seg_head, with the
 * in-vocabulary get_classification_logits), `visual_prediction_forward` (mask_for_pooling and the pooled CLIP
 * features), `get_classification_logits` (the out-of-vocabulary classifier), `geometric_ensemble`, and `inference`
 * (sem_seg_postprocess with semantic_inference, panoptic_inference and instance_inference over one stream of
 * final-resolution mask-logit chunks).
 */
export const FCCLIP_STAGES = [
  "backbone",
  "pixel_decoder",
  "transformer_decoder",
  "visual_prediction_forward",
  "get_classification_logits",
  "geometric_ensemble",
  "inference",
] as const;

export type FcclipStage = (typeof FCCLIP_STAGES)[number];

/** An intermediate as a hook sees it: its shape, and its values on request (a GPU read-back for device tensors). */
export interface StageTensor {
  readonly shape: readonly number[];
  read(): Promise<Float32Array | Int32Array | Uint32Array>;
}

/**
 * What a caller may watch. The GPU is synced at a stage's end only for `onStage` (so the time is that stage's own);
 * without hooks consecutive stages overlap with encoding. Asking for `onTensor` keeps every intermediate alive until
 * it has been handed over; its read-back time is not counted in any stage.
 */
export interface PipelineHooks {
  onStage?: (stage: FcclipStage, ms: number) => void;
  /** Each intermediate under the oracle's tensor names, at the end of the stage that made it; awaited. */
  onTensor?: (name: string, tensor: StageTensor) => Promise<void> | void;
}
