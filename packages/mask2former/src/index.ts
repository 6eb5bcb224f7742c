export { type EncoderLayerParams, encoderLayer } from "./pixel-decoder/encoder-layer.js";
export {
  type LevelGeometry,
  levelGeometry,
  type MSDeformAttnParams,
  msDeformAttn,
} from "./pixel-decoder/ms-deform-attn.js";
export {
  type BackboneFeatures,
  MSDeformAttnPixelDecoder,
  type PixelDecoderConfig,
  type PixelDecoderOutput,
} from "./pixel-decoder/pixel-decoder.js";
export { positionEmbedding, sinePositionEmbedding } from "./pixel-decoder/position-embedding.js";
export {
  type ClassifierInput,
  getClassificationLogits,
  maxOverSynonyms,
} from "./transformer-decoder/class-logits.js";
export {
  disposeMultiHeadAttention,
  loadMultiHeadAttention,
  type MultiHeadAttentionParams,
  multiHeadAttention,
} from "./transformer-decoder/multi-head-attention.js";
export {
  type DecoderOutput,
  FcclipTransformerDecoder,
  type TransformerDecoderConfig,
} from "./transformer-decoder/transformer-decoder.js";
