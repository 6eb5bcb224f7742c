/** Inference settings; defaults are the official ADE20K/COCO eval config (FCCLIP-SPEC §7.6). */
export interface FcclipConfig {
  minSize: number;
  maxSize: number;
  sizeDivisibility: number;
  alpha: number;
  beta: number;
  /**
   * MODEL.FC_CLIP.ENSEMBLE_ON_VALID_MASK: a query whose mask is empty at the CLIP resolution uses the in-vocabulary
   * classifier only. Unset: as the official configs, true for ResNet CLIPs and false for ConvNeXt (FCCLIP-SPEC §6.4).
   */
  ensembleOnValidMask?: boolean;
  overlapThreshold: number;
  objectMaskThreshold: number;
  detectionsPerImage: number;
  /**
   * Resize mask logits before inference (SEM_SEG_POSTPROCESSING_BEFORE_INFERENCE or panoptic or instance on in the
   * config); false for the semantic-only benchmarks, whose class maps are resized after inference.
   */
  semanticBeforeInference: boolean;
}

export const DEFAULT_CONFIG: FcclipConfig = {
  minSize: 800,
  maxSize: 1333,
  sizeDivisibility: 32,
  alpha: 0.4,
  beta: 0.8,
  overlapThreshold: 0.8,
  objectMaskThreshold: 0,
  detectionsPerImage: 100,
  semanticBeforeInference: true,
};
