export { ClipModel, type ClipModelOptions, type ZeroShotResult } from "./clip-model.js";
export { ClipVisual, inferConvNeXtShape } from "./clip-visual.js";
export { type ConvNeXtBlockParams, convnextBlock } from "./convnext/block.js";
export { type ConvNeXtFeatures, type ConvNeXtShape, ConvNeXtTrunk } from "./convnext/trunk.js";
export { CLIP_MEAN, CLIP_STD, clipPreprocess } from "./image/clip-preprocess.js";
export { type PillowFilter, resizePillow } from "./image/pillow-resize.js";
export type { RgbImage } from "./image/rgb-image.js";
export { ClipVisualHead } from "./visual-head.js";
