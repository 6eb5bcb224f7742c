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
