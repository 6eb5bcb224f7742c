// Node-only helpers: files, image decoding and encoding, detectron2 configs, the CLI's result files.

export { defaultCacheDir, directoryStore } from "./cache/directory-store.js";
export { fileConfigSource, resolveConfig } from "./config/config-files.js";
export { applyOrientation, decodeImage, ImageDecodeError, jpegOrientation } from "./image/decode.js";
export { loadVocabulary, PRESETS } from "./vocabulary/vocabulary-files.js";
