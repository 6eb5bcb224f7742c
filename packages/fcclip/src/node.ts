// Node-only helpers: files, image decoding and encoding, detectron2 configs, the CLI's result files.

export { defaultCacheDir, directoryStore } from "./cache/directory-store.js";
export { ConfigError, type ResolvedConfig, readConfigFile, resolveConfig } from "./config/config.js";
export { applyOrientation, decodeImage, ImageDecodeError, jpegOrientation } from "./image/decode.js";
export { encodePng } from "./output/png.js";
export { type OutputFiles, resultFiles } from "./output/write-results.js";
export { loadVocabulary, PRESETS } from "./vocabulary/vocabulary-files.js";
