// The browser-safe API (no Node modules); file and image I/O for Node is in "@fcclip/core/node".

export type { BufferNeeds } from "@fcclip/clip";
// Text classifiers persist through a store; the interface is the text tower's, re-exported for the app and CLI.
export type { ClassifierSource, ClassifierStore } from "@fcclip/text-encoder";
export {
  ConfigError,
  type ConfigSource,
  type ResolvedConfig,
  readConfigTree,
  resolveConfigFrom,
  urlConfigSource,
} from "./config/config.js";
export {
  DATA_FILES,
  DataFileError,
  DataFolder,
  type DataReader,
  PRESETS,
  type Preset,
  TRAINING_VOCABULARY,
} from "./data/data-folder.js";
export { urlData } from "./data/url-data.js";
export { FcclipError } from "./errors.js";
export {
  AREA_RANGES,
  type CocoDetection,
  type CocoGroundTruth,
  evaluateImage,
  type ImageCategoryEval,
  IOU_THRESHOLDS,
  MAX_DETECTIONS,
  type MaskApResult,
  maskAp,
  RECALL_THRESHOLDS,
} from "./eval/coco-mask-ap.js";
export { polygonCounts, polygonsCounts, unionCounts } from "./eval/coco-polygon.js";
export {
  type AnyRle,
  type CompressedRle,
  countsFromString,
  countsToString,
  RleFormatError,
  rleArea,
  rleCounts,
  rleIntersection,
  rlesFromLabelMap,
} from "./eval/coco-rle.js";
export {
  addPqStat,
  type PanopticAnnotation,
  type PanopticCategory,
  PanopticFormatError,
  type PanopticSegmentInfo,
  type PqAverage,
  type PqCategoryStat,
  type PqClassResult,
  type PqStat,
  pqAverage,
  pqComputeSingle,
  VOID,
} from "./eval/panoptic-quality.js";
export {
  SemSegConfusion,
  SemSegFormatError,
  type SemSegMetrics,
  type SparseConfusion,
  semSegMetrics,
} from "./eval/semantic-metrics.js";
export { type EnsembleInput, type EnsembleOutput, geometricEnsemble } from "./model/ensemble.js";
export { DEFAULT_CONFIG, type FcclipConfig } from "./model/fcclip-config.js";
export { FcclipModel, type SegmentOptions, type SegmentResult } from "./model/fcclip-model.js";
export { AdapterLimitsError, bufferNeeds, checkAdapterLimits } from "./model/limits.js";
export { classColor, type LegendEntry, renderOverlay } from "./output/overlay.js";
export { encodePng } from "./output/png.js";
export { type OutputFiles, resultFiles } from "./output/write-results.js";
export { type FcclipModules, FcclipPipeline, type PipelineRun } from "./pipeline/fcclip-pipeline.js";
export { FCCLIP_STAGES, type FcclipStage, type PipelineHooks, type StageTensor } from "./pipeline/stages.js";
export {
  type InferenceOptions,
  type InstancePrediction,
  inference,
  type PanopticSegment,
  type Segmentation,
  type Task,
} from "./postprocess/inference.js";
export { decodeRle, type Rle, rleColumnMajor } from "./postprocess/rle.js";
export {
  PIXEL_MEAN,
  PIXEL_STD,
  type Preprocessed,
  type PreprocessOptions,
  preprocess,
  shortestEdgeSize,
} from "./preprocess/preprocess.js";
export {
  mergeVocabularies,
  parseInlineVocabulary,
  parsePromptEng,
  seenMask,
  splitSynonyms,
  type Vocabulary,
  type VocabularyClass,
  VocabularyError,
  type VocabularyMeta,
  vocabularyFromFile,
} from "./vocabulary/vocabulary.js";
export {
  type ArchitectureConfig,
  expectedShapes,
  type FcclipArchitecture,
  inferArchitecture,
  OFFICIAL_HEADS,
  OPENAI_RESNET_CLIPS,
  withOpenAiResNetClip,
} from "./weights/architecture.js";
export { type BundleConfig, type BundleOptions, bundleChunks, bundleConfig } from "./weights/bundle.js";
export { WeightsMismatchError } from "./weights/errors.js";
export {
  CLIP_PREFIX,
  type FcclipWeights,
  type LoadedFile,
  loadFcclipWeights,
  type WeightsLayout,
} from "./weights/load.js";
export { openClipTextHeads } from "./weights/open-clip-config.js";
