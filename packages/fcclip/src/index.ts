export {
  type ArchitectureConfig,
  expectedShapes,
  type FcclipArchitecture,
  inferArchitecture,
  OFFICIAL_HEADS,
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
