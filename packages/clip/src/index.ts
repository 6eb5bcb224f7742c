export { ClipModel, type ClipModelOptions, type ZeroShotResult } from "./clip-model.js";
export { type ConvNeXtBlockParams, convnextBlock } from "./convnext/block.js";
export { ConvNeXtVisual, inferConvNeXtShape } from "./convnext/convnext-visual.js";
export { type ConvNeXtShape, ConvNeXtTrunk } from "./convnext/trunk.js";
export { ClipVisualHead } from "./convnext/visual-head.js";
export { CLIP_MEAN, CLIP_STD, clipPreprocess } from "./image/clip-preprocess.js";
export { type PillowFilter, resizePillow } from "./image/pillow-resize.js";
export type { RgbImage } from "./image/rgb-image.js";
export { detectVisualFamily, loadVisualBackbone } from "./load-visual.js";
export { AttentionPool2d } from "./resnet/attention-pool.js";
export { type BottleneckParams, bottleneck } from "./resnet/bottleneck.js";
export { type ConvBn, loadConvBn } from "./resnet/conv-bn.js";
export { ResNetVisual } from "./resnet/resnet-visual.js";
export { inferResNetShape, type ResNetShape, ResNetTrunk } from "./resnet/trunk.js";
export {
  type BufferNeeds,
  type DenseFeatures,
  type MaskEmbeddings,
  trunkBufferNeeds,
  type VisualBackbone,
  type VisualFamily,
  type VisualShape,
  type VisualWeights,
} from "./visual-backbone.js";
