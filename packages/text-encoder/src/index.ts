export {
  type ClassifierSource,
  type ClassifierStore,
  TextClassifierCache,
} from "./classifier/classifier-cache.js";
export { VILD_TEMPLATES } from "./classifier/templates.js";
export {
  buildTextClassifier,
  type PromptTokenizer,
  type TextClassifier,
  type TextClassifierOptions,
} from "./classifier/text-classifier.js";
export { TextEncoderError } from "./errors.js";
export { ClipTokenizer, CONTEXT_LENGTH, EOT, SOT, TokenizerError } from "./tokenizer/bpe.js";
export { cleanText } from "./tokenizer/clean.js";
export { type ResidualBlockParams, residualBlock, type TextActivation } from "./transformer/residual-block.js";
export { ClipTextEncoder, endTokenPositions, type TextTowerShape } from "./transformer/text-encoder.js";
