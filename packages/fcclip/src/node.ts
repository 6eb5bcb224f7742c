// Node-only helpers: files, image decoding and encoding, detectron2 configs, the CLI's result files.

export { defaultCacheDir, directoryStore } from "./cache/directory-store.js";
export { fileConfigSource, resolveConfig } from "./config/config-files.js";
export { directoryData } from "./data/directory-data.js";
export {
  DatasetError,
  type DatasetImage,
  type DatasetLayout,
  EVAL_FORMATS,
  type EvalDataset,
  type EvalFormat,
  LAYOUTS,
  openDataset,
} from "./eval/dataset-layouts.js";
export { EvaluationInputError, evaluateOne, type ImageRecord } from "./eval/image-evaluation.js";
export { decodeLabelPng, type LabelMap, LabelPngError } from "./eval/label-png.js";
export { readPrediction } from "./eval/prediction-files.js";
export {
  type MergedRun,
  mergeRuns,
  type RunManifest,
  RunMismatchError,
  runImages,
  type Shard,
  shardImages,
  startRun,
  writeMetrics,
} from "./eval/runner.js";
export { type DatasetMetrics, type SummaryCategory, summarize } from "./eval/summary.js";
export { applyOrientation, decodeImage, ImageDecodeError, jpegOrientation } from "./image/decode.js";
export { loadVocabulary } from "./vocabulary/vocabulary-files.js";
